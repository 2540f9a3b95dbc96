/**
 * Groups across the devices of one account (issue 15 §3): what another
 * device of this account did in its groups, as account sync brought it
 * (sync/account-sync.ts checked that the batch came, signed and sealed by the
 * account key, from a device the account lists and has not removed). It is
 * applied here as that device applied it, idempotently, and never sent on:
 *
 *   - a membership log replaces this device's when it wins (group-state.ts
 *     `chooseLog`), or makes the group known here (created, joined, or left
 *     elsewhere); each entry's signature is checked as for any member's log;
 *   - a message is filed once, by its ID; this device's clock and sequence
 *     number for the group move past it, so its next message follows it;
 *   - a read mark only moves forward.
 */
import { InvalidInputError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { decodeGroupEntry, encodeGroupEntry } from '../../shared/groups/group-log.js'
import { chooseLog, replay } from '../../shared/groups/group-state.js'
import type {
  SyncEvent,
  SyncGroupEvent,
  SyncGroupMessageEvent,
} from '../../shared/sync/sync-wire.js'
import type { StoredGroupMessage } from '../store/migrations/groups.js'
import type { Group, GroupStore } from './group-store.js'

/** Messages per group a new device of the account gets in its first snapshot. */
const SNAPSHOT_MESSAGES = 100

/** What this device did in a group, for the account's other devices. */
export type GroupChange =
  | { kind: 'log'; group: Group }
  | { kind: 'message'; message: StoredGroupMessage }
  | { kind: 'read'; group: string; key: string }

export interface GroupSiblingsInit {
  store: GroupStore
  /** Serialises changes to one group (group-service.ts). */
  locked: <T>(group: string, fn: () => Promise<T>) => Promise<T>
  /** A message was filed (the API's live event, unread counts). */
  onMessage: (m: StoredGroupMessage) => void
  /** A group's log or read mark changed here because another device changed it (the UI's list). */
  onGroup?: (id: string) => void
  log: Logger
  now?: () => number
}

export function groupLogEvent(g: Group): SyncEvent {
  return { k: 'g', g: g.state.id, e: g.log.map((e) => new Uint8Array(encodeGroupEntry(e))) }
}

export function groupMessageEvent(m: StoredGroupMessage): SyncEvent {
  return {
    k: 'gm',
    g: m.group,
    id: m.id,
    d: m.direction,
    sn: m.sender,
    fp: m.fingerprint,
    sq: m.seq,
    l: m.lamport,
    sa: m.sentAt,
    tx: m.text,
    v: m.via,
    dl: m.delivered,
    st: m.stored,
    fl: m.failed,
  }
}

export function groupChangeEvent(c: GroupChange): SyncEvent {
  if (c.kind === 'log') return groupLogEvent(c.group)
  if (c.kind === 'message') return groupMessageEvent(c.message)
  return { k: 'gr', g: c.group, r: c.key }
}

export class GroupSiblings {
  constructor(private readonly init: GroupSiblingsInit) {}

  private now(): number {
    return (this.init.now ?? Date.now)()
  }

  /** Apply one group event from another device of this account. */
  apply(e: SyncGroupEvent): Promise<void> {
    return this.init.locked(e.g, () => {
      if (e.k === 'g') return this.takeLog(e.g, e.e)
      if (e.k === 'gm') return this.takeMessage(e)
      return this.takeRead(e.g, e.r)
    })
  }

  /** Every group this device knows and its latest messages: a new device's first snapshot. */
  async snapshot(): Promise<SyncEvent[]> {
    const events: SyncEvent[] = []
    const groups = await this.init.store.all()
    for (const g of groups) events.push(groupLogEvent(g))
    for (const g of groups) {
      for (const m of await this.init.store.list(g.state.id, SNAPSHOT_MESSAGES))
        events.push(groupMessageEvent(m))
      if (g.stored.lastRead != null) events.push({ k: 'gr', g: g.state.id, r: g.stored.lastRead })
    }
    return events
  }

  private async takeLog(id: string, entries: Uint8Array[]): Promise<void> {
    // replay checks every entry's signature and every change's author, as for a member's log.
    const log = entries.map((b) => decodeGroupEntry(b))
    const state = replay(log)
    if (state.id !== id) throw new InvalidInputError('a group log of another group')
    const local = await this.init.store.get(id)
    if (local == null) {
      await this.init.store.save({
        log,
        state,
        stored: { id, log: [], clock: 0, seq: 0, lastRead: null, joinedAt: this.now() },
      })
      this.init.log.info(`group ${id} "${state.name}" came from another device of this account`)
      this.init.onGroup?.(id)
      return
    }
    if (chooseLog(local.log, log) !== 'b') return
    await this.init.store.save({ ...local, log, state })
    this.init.log.info(
      `group ${id}: another device of this account moved the log to ${state.version}`,
    )
    this.init.onGroup?.(id)
  }

  private async takeMessage(e: SyncGroupMessageEvent): Promise<void> {
    const m = messageOf(e, this.now())
    const g = await this.init.store.get(e.g)
    if (g != null) {
      // This device's next message in the group comes after this one.
      const clock = Math.max(g.stored.clock, e.l)
      const seq = e.d === 'out' ? Math.max(g.stored.seq, e.sq) : g.stored.seq
      if (clock !== g.stored.clock || seq !== g.stored.seq)
        await this.init.store.save({ ...g, stored: { ...g.stored, clock, seq } })
    }
    if (await this.init.store.add(m)) {
      this.init.onMessage(m)
      return
    }
    // Known already: a message sent from there brings how its members got it.
    if (e.d !== 'out') return
    const known = (await this.init.store.list(e.g)).find((x) => x.id === e.id)
    if (known == null || known.direction !== 'out') return
    if (known.delivered.length + known.stored.length + known.failed.length > 0) return
    const done = { ...known, delivered: e.dl, stored: e.st, failed: e.fl }
    await this.init.store.update(done)
    this.init.onMessage(done)
  }

  private async takeRead(id: string, key: string): Promise<void> {
    const g = await this.init.store.get(id)
    if (g == null || (g.stored.lastRead != null && g.stored.lastRead >= key)) return
    await this.init.store.save({ ...g, stored: { ...g.stored, lastRead: key } })
    this.init.onGroup?.(id)
  }
}

function messageOf(e: SyncGroupMessageEvent, now: number): StoredGroupMessage {
  return {
    id: e.id,
    group: e.g,
    direction: e.d,
    sender: e.sn,
    fingerprint: e.fp,
    seq: e.sq,
    lamport: e.l,
    sentAt: e.sa,
    receivedAt: now,
    text: e.tx,
    via: e.v,
    delivered: e.dl,
    stored: e.st,
    failed: e.fl,
  }
}
