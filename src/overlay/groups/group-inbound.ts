/**
 * What a member's node does with group bodies that arrive (issue 15 §2):
 * from a link, after the SIP router verified the sender's Identity token
 * (RFC 8224 §6.2), or from the mailbox, after offline mail checked the
 * sealing signature against the sender's record. This node is the one that
 * would act on a group message, so it is the one that refuses it:
 *
 *   - a message for a group this node is not in, or no longer in: 403;
 *   - a message whose sender is not a member, or is a member under another
 *     key than the log holds (a re-claimed name): 403 Not a group member;
 *   - a log that does not replay (a bad signature, a change by a non-admin):
 *     400, nothing applied; a log from someone in neither version: 403;
 *   - a message already stored (same ID): 200, stored once.
 */
import { toString } from 'uint8arrays'
import type { Logger } from '../../shared/logger.js'
import type { SenderState } from '../../shared/identity/verification-state.js'
import { KaiwaError } from '../../shared/errors.js'
import { chooseLog, replay } from '../../shared/groups/group-state.js'
import type { GroupState } from '../../shared/groups/group-state.js'
import { decodeGroupWire } from '../../shared/groups/group-wire.js'
import type { GroupLogWire, GroupMessageWire } from '../../shared/groups/group-wire.js'
import type { StoredGroupMessage } from '../store/migrations/groups.js'
import { entryHash } from '../../shared/groups/group-log.js'
import type { GroupEntry } from '../../shared/groups/group-log.js'
import { decodeLog } from './group-store.js'
import type { Group, GroupStore } from './group-store.js'

export interface Verdict {
  status: number
  reason: string
}

export interface GroupMail {
  from: string
  sender: SenderState
  body: Uint8Array
}

export interface GroupInboundInit {
  store: GroupStore
  ownName: () => Promise<string | null>
  /** Serialises changes to one group (group-service.ts). */
  locked: <T>(group: string, fn: () => Promise<T>) => Promise<T>
  /** A message was stored (the API's live event, unread counts). */
  onMessage: (m: StoredGroupMessage) => void
  /**
   * Changes this node's user made that another admin's concurrent change
   * displaced (group-state.ts `chooseLog`): called after the lock is released,
   * so the service can make them again on top of the log that won.
   */
  onDisplaced?: (group: string, entries: GroupEntry[]) => void
  /** The group's log changed here (joined, or a newer log won): the account's other devices follow. */
  onLog?: (group: Group) => void
  log: Logger
  now?: () => number
}

const OK: Verdict = { status: 200, reason: 'OK' }
export const NOT_A_MEMBER: Verdict = { status: 403, reason: 'Not a group member' }
export const UNKNOWN_GROUP: Verdict = { status: 403, reason: 'Unknown group' }

const hashHex = (e: GroupEntry): string => toString(entryHash(e), 'base16')

/** True when `name` is a member of `s` under the key `fingerprint`. */
export function isMember(s: GroupState, name: string, fingerprint: string): boolean {
  return s.members.get(name)?.fingerprint === fingerprint
}

export class GroupInbound {
  constructor(private readonly init: GroupInboundInit) {}

  /** A group body from a link; the answer is the SIP response's status and reason. */
  async fromLink(from: string, sender: SenderState, body: Uint8Array): Promise<Verdict> {
    return this.take(from, sender, body, 'direct')
  }

  /**
   * Group bodies collected from the mailbox. Logs go first, so a member who
   * was offline while the group was made (or while it was added) knows the
   * group before its messages; refusals are logged (the mail is acked anyway).
   */
  async fromMail(mail: readonly GroupMail[]): Promise<void> {
    const kind = (m: GroupMail): number => {
      try {
        return decodeGroupWire(m.body).type === 'log' ? 0 : 1
      } catch {
        return 1
      }
    }
    const ordered = [...mail].sort((a, b) => kind(a) - kind(b))
    for (const m of ordered) {
      const v = await this.take(m.from, m.sender, m.body, 'mailbox').catch(
        (err: unknown): Verdict => ({ status: 500, reason: String(err) }),
      )
      if (v.status >= 300)
        this.init.log.warn(`group mail from ${m.from} refused: ${v.status} ${v.reason}`)
    }
  }

  private async take(
    from: string,
    sender: SenderState,
    body: Uint8Array,
    via: 'direct' | 'mailbox',
  ): Promise<Verdict> {
    let wire
    try {
      wire = decodeGroupWire(body)
    } catch (err) {
      return { status: 400, reason: (err as Error).message.slice(0, 120) }
    }
    return this.init.locked(wire.group, () =>
      wire.type === 'log'
        ? this.takeLog(from, sender, wire)
        : this.takeMessage(from, sender, wire, via),
    )
  }

  private async takeMessage(
    from: string,
    sender: SenderState,
    w: GroupMessageWire,
    via: 'direct' | 'mailbox',
  ): Promise<Verdict> {
    const g = await this.init.store.get(w.group)
    const me = await this.init.ownName()
    if (g == null || me == null || !g.state.members.has(me)) return UNKNOWN_GROUP
    if (!isMember(g.state, from, sender.fingerprint)) {
      this.init.log.info(`group ${w.group}: message from ${from}, not a member, refused`)
      return NOT_A_MEMBER
    }
    if (await this.init.store.has(w.group, w.id)) return OK // a duplicate: stored once
    const m: StoredGroupMessage = {
      id: w.id,
      group: w.group,
      direction: 'in',
      sender: from,
      fingerprint: sender.fingerprint,
      seq: w.seq,
      lamport: w.lamport,
      sentAt: w.sentAt,
      receivedAt: (this.init.now ?? Date.now)(),
      text: w.text,
      via,
      delivered: [],
      stored: [],
      failed: [],
    }
    // Lamport: this node's clock passes every time it has seen.
    if (w.lamport > g.stored.clock)
      await this.init.store.save({ ...g, stored: { ...g.stored, clock: w.lamport } })
    if (await this.init.store.add(m)) this.init.onMessage(m)
    return OK
  }

  private async takeLog(from: string, sender: SenderState, w: GroupLogWire): Promise<Verdict> {
    let log
    let state
    try {
      log = decodeLog(w.entries)
      state = replay(log)
    } catch (err) {
      this.init.log.info(`group ${w.group}: a log from ${from} does not replay: ${String(err)}`)
      return { status: 400, reason: 'Invalid group log' }
    }
    if (state.id !== w.group) return { status: 400, reason: 'Group log of another group' }
    const local = await this.init.store.get(w.group)
    const inRemote = isMember(state, from, sender.fingerprint)
    // A removed member hears of its removal from the admin who removed it.
    const inLocal = local != null && isMember(local.state, from, sender.fingerprint)
    if (!inRemote && !inLocal) return NOT_A_MEMBER
    if (local == null) {
      const me = await this.init.ownName()
      if (me == null || !state.members.has(me)) return UNKNOWN_GROUP
      const joined = this.fresh(w.group, log, state)
      await this.init.store.save(joined)
      this.init.onLog?.(joined)
      this.init.log.info(`joined group ${w.group} "${state.name}" (added by ${from})`)
      return OK
    }
    let choice
    try {
      choice = chooseLog(local.log, log)
    } catch (err) {
      if (err instanceof KaiwaError) return { status: 400, reason: 'Invalid group log' }
      throw err
    }
    if (choice === 'b') {
      await this.init.store.save({ ...local, log, state })
      this.init.onLog?.({ ...local, log, state })
      this.init.log.info(`group ${w.group}: membership log now at ${state.version} entries`)
      const kept = new Set(log.map(hashHex))
      const me = await this.init.ownName()
      const displaced = local.log.filter((e) => e.author === me && !kept.has(hashHex(e)))
      if (displaced.length > 0) {
        this.init.log.info(`group ${w.group}: ${displaced.length} change(s) of ours lost a race`)
        queueMicrotask(() => this.init.onDisplaced?.(w.group, displaced))
      }
    }
    return OK
  }

  private fresh(id: string, log: Group['log'], state: GroupState): Group {
    return {
      log,
      state,
      stored: {
        id,
        log: [],
        clock: 0,
        seq: 0,
        lastRead: null,
        joinedAt: (this.init.now ?? Date.now)(),
      },
    }
  }
}
