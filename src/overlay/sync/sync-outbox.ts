/**
 * Sends sync events to the account's other devices. Events queue for a
 * moment (so a burst becomes one batch), then each target device gets them
 * sealed (sync-wire.ts), straight over the overlay when it answers, else as
 * mail to the account's own mailbox addressed to that device (the device
 * collects it when it returns; other devices leave it there). Every queued
 * group of events is on disk from the moment it is queued until one of the
 * two paths took it (sync-outbox-store.ts): events that neither path took are
 * tried again, later and later (5 s up to 5 min), and after a restart.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { encode } from 'cborg'
import type { Logger } from '../../shared/logger.js'
import type { MailPlaintext } from '../../shared/mail/sealed-mail.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import {
  InvalidSyncBatchError,
  SYNC_CONTENT_TYPE,
  isGroupEvent,
  sealSyncBatch,
} from '../../shared/sync/sync-wire.js'
import type { SyncEvent } from '../../shared/sync/sync-wire.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import type { OutboxEntry, SyncOutboxStore } from './sync-outbox-store.js'
import { pushSyncBatch } from './sync-protocol.js'

/** Plaintext budget of one batch, well under MAX_SYNC_BATCH_BYTES once sealed. */
const BATCH_BUDGET = 32 * 1024
const FLUSH_DELAY_MS = 150
/** First and longest wait before events that found no path are tried again. */
const RETRY_FIRST_MS = 5_000
const RETRY_MAX_MS = 5 * 60_000

export interface SyncOutboxInit {
  node: () => KaiwaLibp2p
  readonly accountKey: Ed25519PrivateKey
  ownName: () => Promise<string | null>
  /** The account's own record (its devices' addresses; the mailbox to seal to). */
  ownRecord: () => Promise<ContactRecord | undefined>
  /** Open (or reuse) a connection to a device, as SIP links do (direct or relayed). */
  linkTo: (peer: string, addrs: ReturnType<typeof multiaddr>[]) => Promise<unknown>
  storeMail: (recipient: ContactRecord, plaintext: MailPlaintext) => Promise<boolean>
  /** Where queued events wait until a path took them (and across restarts). */
  store: SyncOutboxStore
  domain: string
  log: Logger
}

/**
 * Split events into batches whose CBOR stays under the budget; group events
 * never share a batch with the others (isGroupEvent).
 */
export function chunkEvents(events: SyncEvent[], budget = BATCH_BUDGET): SyncEvent[][] {
  const out: SyncEvent[][] = []
  let cur: SyncEvent[] = []
  let size = 0
  for (const e of events) {
    const n = encode(e).byteLength
    const family = cur.length > 0 && isGroupEvent(cur[0]!) !== isGroupEvent(e)
    if (cur.length > 0 && (size + n > budget || family)) {
      out.push(cur)
      cur = []
      size = 0
    }
    cur.push(e)
    size += n
  }
  // An empty batch still goes: it is a greeting (the receiver learns this device).
  if (cur.length > 0 || out.length === 0) out.push(cur)
  return out
}

export class SyncOutbox {
  /** What waits to be sent, every target's, in the order it was queued (by id). */
  private queue: OutboxEntry[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private retryMs = RETRY_FIRST_MS
  private flushing: Promise<void> | undefined
  /** Disk writes, one after another (an entry is never deleted before it was written). */
  private disk: Promise<void> = Promise.resolve()
  private loaded: Promise<void> | undefined
  private stopped = false

  constructor(private readonly init: SyncOutboxInit) {}

  /** Load what an earlier run left queued and send it soon. */
  start(): Promise<void> {
    this.stopped = false
    return this.load()
  }

  private load(): Promise<void> {
    this.loaded ??= this.init.store.load().then(
      (left) => {
        if (left.length === 0) return
        this.queue = [...left, ...this.queue].sort(byId)
        const n = left.reduce((sum, e) => sum + e.events.length, 0)
        this.init.log.info(`sync: ${n} event(s) queued before a restart are sent again`)
        this.schedule()
      },
      (err: unknown) => this.init.log.warn(`sync: the queued events did not load: ${String(err)}`),
    )
    return this.loaded
  }

  /** Queue `events` for each of `targets` (peer id strings); sent shortly. */
  enqueue(targets: string[], events: SyncEvent[]): void {
    if (events.length === 0) return
    for (const t of targets) this.add(t, events)
    if (targets.length > 0) this.schedule()
  }

  /** Queue `events` for `target` even when there are none: a greeting to a new device. */
  greet(target: string, events: SyncEvent[]): void {
    this.add(target, events)
    this.schedule()
  }

  /** Send everything queued now (and wait for it). */
  async flush(): Promise<void> {
    while (this.flushing != null) await this.flushing
    this.flushing = this.sendAll().finally(() => (this.flushing = undefined))
    await this.flushing
  }

  pending(): number {
    return this.queue.reduce((n, e) => n + e.events.length, 0)
  }

  /** Stop sending; resolves once every queued event is on disk. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
    if (this.retryTimer != null) clearTimeout(this.retryTimer)
    this.timer = undefined
    this.retryTimer = undefined
    await this.disk
  }

  private add(target: string, events: SyncEvent[]): void {
    const entry: OutboxEntry = { id: this.init.store.nextId(), target, events }
    this.queue.push(entry)
    this.write(() => this.init.store.put(entry), `queueing ${events.length} event(s)`)
  }

  private write(op: () => Promise<void>, what: string): void {
    this.disk = this.disk
      .then(op)
      .catch((err: unknown) => this.init.log.warn(`sync outbox: ${what}: ${String(err)}`))
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      void this.flush().catch((err) => this.init.log.warn(`sync: ${String(err)}`))
    }, FLUSH_DELAY_MS)
  }

  /** Events that found no path are tried again later, each time waiting longer. */
  private retryLater(): void {
    if (this.stopped || this.retryTimer != null) return
    const wait = this.retryMs
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush().catch((err) => this.init.log.warn(`sync: ${String(err)}`))
    }, wait)
    this.retryTimer.unref?.()
  }

  private async sendAll(): Promise<void> {
    await this.load()
    if (this.stopped) return
    const taken = this.queue
    this.queue = []
    if (taken.length === 0) return
    const byTarget = new Map<string, OutboxEntry[]>()
    for (const e of taken) byTarget.set(e.target, [...(byTarget.get(e.target) ?? []), e])
    const record = await this.init.ownRecord().catch(() => undefined)
    let waiting = false
    await Promise.all(
      [...byTarget].map(async ([target, entries]) => {
        const events = entries.flatMap((e) => e.events)
        const left = await this.sendTo(target, events, record).catch((err: unknown) => {
          this.init.log.warn(`sync to ${target}: ${String(err)}`)
          return events
        })
        // The first entry keeps what is left (its place in the order); the rest are done.
        const [first, ...rest] = entries
        if (left.length > 0) {
          waiting = true
          const kept: OutboxEntry = { id: first!.id, target, events: left }
          this.queue = [kept, ...this.queue].sort(byId)
          // Written before the rest are deleted (one disk queue): nothing is lost in between.
          if (rest.length > 0 || left.length !== events.length)
            this.write(() => this.init.store.put(kept), 'keeping what waits')
        } else {
          this.write(() => this.init.store.delete(first!.id), 'dropping what was sent')
        }
        for (const e of rest)
          this.write(() => this.init.store.delete(e.id), 'dropping what was sent')
      }),
    )
    if (waiting) this.retryLater()
    else this.retryMs = RETRY_FIRST_MS
  }

  /** Returns the events neither path took. */
  private async sendTo(
    target: string,
    events: SyncEvent[],
    record: ContactRecord | undefined,
  ): Promise<SyncEvent[]> {
    const node = this.init.node()
    const listed = record?.devices.find((d) => {
      try {
        return peerIdFromBytes(d.peerId).toString() === target
      } catch {
        return false
      }
    })
    const chunks = chunkEvents(events)
    let live = listed != null && listed.expiresAt > Date.now()
    const left: SyncEvent[] = []
    for (const chunk of chunks) {
      let batch: Uint8Array
      try {
        batch = await sealSyncBatch({
          accountKey: this.init.accountKey,
          from: node.peerId.toMultihash().bytes,
          to: peerIdFromString(target).toMultihash().bytes,
          events: chunk,
        })
      } catch (err) {
        // One event too large for any batch (it cannot shrink by waiting): the rest still go.
        if (!(err instanceof InvalidSyncBatchError)) throw err
        this.init.log.warn(`sync: ${chunk.length} event(s) for ${target} not sent: ${err.message}`)
        continue
      }
      if (live) {
        try {
          await this.init.linkTo(
            target,
            listed!.addrs.map((a) => multiaddr(a)),
          )
          await pushSyncBatch(node, peerIdFromString(target), batch)
          continue
        } catch (err) {
          this.init.log.debug(`sync to ${target} directly failed: ${String(err)}`)
          if (err instanceof Error && err.name === 'SyncRefusedError') continue // never retried
          live = false // the rest go by mail
        }
      }
      if (await this.byMail(batch, record))
        this.init.log.info(`sync: ${chunk.length} event(s) for ${target} left in the mailbox`)
      else left.push(...chunk)
    }
    if (left.length > 0) this.init.log.info(`sync: ${left.length} event(s) for ${target} wait`)
    return left
  }

  private async byMail(batch: Uint8Array, record: ContactRecord | undefined): Promise<boolean> {
    const name = await this.init.ownName()
    if (name == null || record == null) return false
    return this.init
      .storeMail(record, {
        from: name,
        fromUri: `sip:${name}@${this.init.domain}`,
        date: new Date().toUTCString(),
        contentType: SYNC_CONTENT_TYPE,
        body: batch,
      })
      .catch(() => false)
  }
}

const byId = (a: OutboxEntry, b: OutboxEntry): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
