/**
 * Multi-device history (issue 15 §3): every device of an account behaves as
 * one user. What this device files (a message sent or received, a read mark,
 * a contact pinned or removed, a device removed, a group created, joined,
 * left or changed and its messages) becomes a sync event for the account's
 * other devices (sync-outbox.ts); what they send is checked and applied here
 * (groups: groups/group-siblings.ts), idempotently:
 *
 * - a batch is accepted only from a device of this same account: signed by
 *   the account key, decrypting under the account's sync key, sent by the
 *   peer it names (Noise), listed in the account's record or already known,
 *   and never from a removed device (a foreign peer's "sync" is refused);
 * - a message is filed once (its sync id is the direction and Call-ID), a
 *   read mark only moves forward, the latest contact change wins;
 * - a device seen for the first time gets a snapshot (contacts and recent
 *   history), so a restored backup shows the conversations held before it.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Logger } from '../../shared/logger.js'
import type { StoredMessageJson } from '../../shared/api/contract.js'
import { KaiwaError } from '../../shared/errors.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import { decodeSyncBatch, openSyncBatch } from '../../shared/sync/sync-wire.js'
import type { SyncEvent, SyncGroupEvent } from '../../shared/sync/sync-wire.js'
import type { DeviceBook, KnownDevice } from './device-book.js'
import type { SyncIndex } from './sync-index.js'
import { messageEvent, messageFromEvent, peersOf, settingsEvent } from './sync-events.js'
import type { SharedSettings } from './sync-events.js'
import { userOf } from '../sip/message-filing.js'
import type { SyncOutbox } from './sync-outbox.js'

/** The clock key of the account-wide settings (not a valid user ID, so never a contact's). */
const SETTINGS_CLOCK = '~settings'

/** How long the list of the account's other devices is reused. */
const TARGETS_TTL_MS = 5_000

/** How many recent messages a new device gets in its snapshot. */
const SNAPSHOT_MESSAGES = 500

/** A batch from a device that is not (or no longer) one of this account's. */
export class SyncForbiddenError extends KaiwaError {
  constructor(message: string) {
    super(message, 'rejected')
    this.name = 'SyncForbiddenError'
  }
}

export interface AccountSyncInit {
  readonly accountKey: Ed25519PrivateKey
  selfPeer: () => string
  /** The account's record; `fresh` skips the cache. */
  ownRecord: (fresh?: boolean) => Promise<ContactRecord | undefined>
  devices: DeviceBook
  index: SyncIndex
  outbox: Pick<SyncOutbox, 'enqueue' | 'greet'>
  history: {
    add(m: Omit<StoredMessageJson, 'id'>): Promise<StoredMessageJson>
    list(): Promise<StoredMessageJson[]>
  }
  readMarks: { set(peer: string, lastReadId: string): Promise<void> }
  contacts: {
    pin(name: string, fingerprint: string): Promise<unknown>
    remove(name: string): Promise<void>
    list(): Promise<Array<{ name: string; fingerprint: string; addedAt: string }>>
  }
  /** The account-wide settings, as this device has them, and how to change them. */
  settings: {
    get(): Promise<SharedSettings>
    set(s: SharedSettings): Promise<void>
  }
  /** The groups this device is in: group events from the others, and a new device's snapshot. */
  groups?: {
    apply(e: SyncGroupEvent): Promise<void>
    snapshot(): Promise<SyncEvent[]>
  }
  /** Republish the record (a device was removed). */
  republish: () => void
  log: Logger
}

export class AccountSync {
  private applying: Promise<void> = Promise.resolve()
  /** Names and peers being changed by a sync event: their change hooks must not echo it. */
  private readonly quietContacts = new Set<string>()
  private readonly quietReads = new Set<string>()
  /**
   * Message sync ids being filed right now (live or from a sibling), so a
   * message forked to two devices, each syncing it to the other, is filed
   * once even when the copies cross before either is on disk.
   */
  private readonly claimed = new Set<string>()
  /** Local ids of messages messageFiled is sending right now. */
  private readonly filing = new Set<string>()
  /** The last answer of targets(), dropped whenever the device book changes. */
  private known: { at: number; peers: string[] } | undefined

  constructor(private readonly init: AccountSyncInit) {}

  // ---- what this device did ------------------------------------------------------------

  /** A message was filed in this device's history (sent or received). */
  async messageFiled(msg: StoredMessageJson, callId: string): Promise<void> {
    const syncId = `${msg.direction}:${callId}`
    if (!this.claim(syncId)) return // filed from a sibling's copy a moment ago
    // A snapshot for a device met just now leaves this one out: it is sent
    // below, to that device too, under its own sync id (never a second one).
    this.filing.add(msg.id)
    try {
      // An account with one device does no sync work per message.
      const targets = await this.targets()
      if (targets.length === 0) return
      if ((await this.init.index.localIdOf(syncId)) != null) return
      await this.init.index.link(syncId, msg.id)
      this.init.outbox.enqueue(targets, [messageEvent(syncId, msg)])
    } finally {
      this.filing.delete(msg.id)
    }
  }

  /** The user read `peer`'s conversation up to `localId` (it was at `previous`). */
  async readMarked(peer: string, localId: string, previous: string): Promise<void> {
    if (this.quietReads.has(peer)) return
    const covered = (await this.init.history.list()).filter(
      (m) => m.direction === 'in' && m.id > previous && m.id <= localId && userOf(m.peer) === peer,
    )
    const ids: string[] = []
    for (const m of covered.slice(-500)) {
      const id = await this.init.index.syncIdOf(m.id)
      if (id != null) ids.push(id)
    }
    if (ids.length > 0) await this.toSiblings([{ k: 'r', p: peer, ids }])
  }

  async contactChanged(name: string, fingerprint: string | null): Promise<void> {
    if (this.quietContacts.has(name)) return
    const at = Date.now()
    await this.init.index.newerContactChange(name, at)
    await this.toSiblings([{ k: 'c', n: name, fp: fingerprint, at }])
  }

  /** The user changed the account-wide settings on this device. */
  async settingsChanged(s: SharedSettings): Promise<void> {
    if (this.quietContacts.has(SETTINGS_CLOCK)) return
    if (s.autoAcceptMiB == null && s.maxMiB == null) return
    const at = Date.now()
    await this.init.index.newerContactChange(SETTINGS_CLOCK, at)
    await this.toSiblings([settingsEvent(await this.init.settings.get(), at)])
  }

  /** Events for every other device of the account (group changes); nothing for a lone device. */
  async share(events: SyncEvent[]): Promise<void> {
    const targets = await this.targets()
    if (targets.length > 0) this.init.outbox.enqueue(targets, events)
  }

  /** Remove a device from the account (refused for this device itself). */
  async removeDevice(peerId: string): Promise<void> {
    if (peerId === this.init.selfPeer())
      throw new SyncForbiddenError('remove this device from another device of the account')
    const at = Date.now()
    await this.init.devices.remove(peerId, at)
    this.known = undefined
    // The others hear of it, and so does the removed device (it then stops publishing).
    await this.toSiblings([{ k: 'd', p: peerId, at }], [peerId])
    this.init.republish()
  }

  /** True once another device removed this one from the account. */
  selfRemoved(): Promise<boolean> {
    return this.init.devices.isRemoved(this.init.selfPeer())
  }

  /** The account's devices: this one, those in the record, those known here. */
  async listDevices(): Promise<Array<KnownDevice & { self: boolean; listed: boolean }>> {
    const self = this.init.selfPeer()
    const listed = new Set(peersOf(await this.init.ownRecord().catch(() => undefined)))
    const known = await this.init.devices.list()
    const all = new Map(known.map((d) => [d.peerId, d]))
    const now = Date.now()
    for (const p of [self, ...listed])
      if (!all.has(p)) all.set(p, { peerId: p, firstSeen: now, lastSeen: now, removedAt: null })
    return [...all.values()].map((d) => ({
      ...d,
      self: d.peerId === self,
      listed: listed.has(d.peerId),
    }))
  }

  /** The account's record as just published or read: greet devices seen for the first time. */
  async recordSeen(record: ContactRecord): Promise<void> {
    const self = this.init.selfPeer()
    for (const peer of peersOf(record)) {
      if (peer === self) continue
      if (await this.init.devices.saw(peer)) {
        this.known = undefined
        await this.snapshotTo(peer)
      }
    }
  }

  // ---- what the other devices send -----------------------------------------------------

  /** A batch that arrived over the overlay from `peer`; throws to refuse it. */
  async fromLink(bytes: Uint8Array, peer: string): Promise<void> {
    const batch = decodeSyncBatch(bytes)
    const from = peerIdFromBytes(batch.f).toString()
    if (from !== peer) throw new SyncForbiddenError('the batch names another sending device')
    await this.accept(batch, from, true)
  }

  /**
   * A batch from the account's own mailbox (its sender already checked as
   * this account). 'keep' leaves it for the device it is addressed to.
   */
  async fromMail(bytes: Uint8Array): Promise<'keep' | 'done'> {
    const batch = decodeSyncBatch(bytes)
    const target = peerIdFromBytes(batch.t).toString()
    if (target !== this.init.selfPeer()) {
      // Mail for a removed device is dropped; for another device, left to it.
      return (await this.init.devices.isRemoved(target)) ? 'done' : 'keep'
    }
    const from = peerIdFromBytes(batch.f).toString()
    await this.accept(batch, from, false)
    this.init.log.info(`sync: caught up from device ${from}'s mail`)
    return 'done'
  }

  private async accept(
    batch: ReturnType<typeof decodeSyncBatch>,
    from: string,
    live: boolean,
  ): Promise<void> {
    const self = this.init.selfPeer()
    if (peerIdFromBytes(batch.t).toString() !== self)
      throw new SyncForbiddenError('the batch is for another device')
    if (from === self) throw new SyncForbiddenError('the batch claims to come from this device')
    if (await this.init.devices.isRemoved(from))
      throw new SyncForbiddenError(`device ${from} was removed from this account`)
    // Opening proves the account key (signature and sync key) before anything is trusted.
    const events = await openSyncBatch(batch, this.init.accountKey)
    await this.checkSibling(from, live)
    const run = this.applying.then(() => this.apply(events, from))
    this.applying = run.catch(() => undefined)
    await run
  }

  /** `from` must be a device the account's record lists (now or when it was first seen here). */
  private async checkSibling(from: string, live: boolean): Promise<void> {
    const known = await this.init.devices.get(from)
    if (known != null && known.removedAt == null) {
      await this.init.devices.saw(from)
      return
    }
    let listed = peersOf(await this.init.ownRecord().catch(() => undefined)).includes(from)
    if (!listed && live)
      listed = peersOf(await this.init.ownRecord(true).catch(() => undefined)).includes(from)
    if (!listed)
      throw new SyncForbiddenError(`device ${from} is not listed in this account's record`)
    if (await this.init.devices.saw(from)) {
      this.known = undefined
      await this.snapshotTo(from)
    }
  }

  private async apply(events: SyncEvent[], from: string): Promise<void> {
    for (const e of events) {
      try {
        await this.applyOne(e)
      } catch (err) {
        this.init.log.warn(`sync event ${e.k} from ${from} not applied: ${String(err)}`)
      }
    }
  }

  private async applyOne(e: SyncEvent): Promise<void> {
    const { index } = this.init
    switch (e.k) {
      case 'm': {
        if (!this.claim(e.id) || (await index.localIdOf(e.id)) != null) return
        const local = await this.init.history.add(messageFromEvent(e))
        await index.link(e.id, local.id)
        return
      }
      case 'r': {
        // The newest of those messages here: the mark covers every one of them.
        let mark: string | undefined
        for (const id of e.ids) {
          const local = await index.localIdOf(id)
          if (local != null && (mark == null || local > mark)) mark = local
        }
        if (mark == null) return
        const to = mark
        await this.quietly(this.quietReads, e.p, () => this.init.readMarks.set(e.p, to))
        return
      }
      case 'c': {
        if (!(await index.newerContactChange(e.n, e.at))) return
        const fp = e.fp
        await this.quietly(this.quietContacts, e.n, () =>
          fp == null ? this.init.contacts.remove(e.n) : this.init.contacts.pin(e.n, fp),
        )
        return
      }
      case 's': {
        if (!(await index.newerContactChange(SETTINGS_CLOCK, e.at))) return
        const s = {
          ...(e.aa != null ? { autoAcceptMiB: e.aa } : {}),
          ...(e.mx != null ? { maxMiB: e.mx } : {}),
        }
        await this.quietly(this.quietContacts, SETTINGS_CLOCK, () => this.init.settings.set(s))
        return
      }
      case 'd': {
        if (!(await this.init.devices.remove(e.p, e.at))) return
        this.known = undefined
        if (e.p === this.init.selfPeer())
          this.init.log.warn('another device removed this device from the account')
        else this.init.republish()
        return
      }
      case 'g':
      case 'gm':
      case 'gr':
        await this.init.groups?.apply(e)
    }
  }

  /** False when `syncId` was claimed already; the memory is bounded (the index remembers). */
  private claim(syncId: string): boolean {
    if (this.claimed.has(syncId)) return false
    if (this.claimed.size >= 10_000) this.claimed.clear()
    this.claimed.add(syncId)
    return true
  }

  private async quietly<T>(set: Set<string>, key: string, fn: () => Promise<T>): Promise<T> {
    set.add(key)
    try {
      return await fn()
    } finally {
      set.delete(key)
    }
  }

  private async snapshotTo(peer: string): Promise<void> {
    const events: SyncEvent[] = []
    const now = Date.now()
    for (const c of await this.init.contacts.list())
      events.push({ k: 'c', n: c.name, fp: c.fingerprint, at: Date.parse(c.addedAt) || now })
    const self = this.init.selfPeer()
    for (const m of (await this.init.history.list()).slice(-SNAPSHOT_MESSAGES)) {
      if (this.filing.has(m.id)) continue
      let id = await this.init.index.syncIdOf(m.id)
      if (id == null) {
        id = `${m.direction}:local-${self}-${m.id}`
        await this.init.index.link(id, m.id)
      }
      events.push(messageEvent(id, m))
    }
    for (const d of await this.init.devices.list())
      if (d.removedAt != null) events.push({ k: 'd', p: d.peerId, at: d.removedAt })
    // Settings only once the user chose them somewhere: defaults never override a choice.
    const settingsAt = await this.init.index.changedAt(SETTINGS_CLOCK)
    if (settingsAt != null) events.push(settingsEvent(await this.init.settings.get(), settingsAt))
    events.push(...((await this.init.groups?.snapshot()) ?? []))
    this.init.log.info(`sync: greeting device ${peer} with ${events.length} event(s)`)
    this.init.outbox.greet(peer, events)
  }

  private async toSiblings(events: SyncEvent[], also: string[] = []): Promise<void> {
    const targets = new Set([...also, ...(await this.targets())])
    this.init.outbox.enqueue([...targets], events)
  }

  /** The account's other devices, not removed; those new to this device are greeted. */
  private async targets(): Promise<string[]> {
    // Asked for every message filed: a few seconds' memory keeps that off the disk.
    const now = Date.now()
    if (this.known != null && now - this.known.at < TARGETS_TTL_MS) return this.known.peers
    const self = this.init.selfPeer()
    for (const p of peersOf(await this.init.ownRecord().catch(() => undefined))) {
      if (p !== self && (await this.init.devices.saw(p))) await this.snapshotTo(p)
    }
    const peers = (await this.init.devices.list())
      .filter((d) => d.removedAt == null && d.peerId !== self)
      .map((d) => d.peerId)
    this.known = { at: now, peers }
    return peers
  }
}
