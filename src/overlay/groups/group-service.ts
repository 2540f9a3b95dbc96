/**
 * Group chat for one node (issue 15 §2): create a group, change its members,
 * send to it, list it. Encryption is per-member sealing: there is no group
 * key; every message is sent to each member separately, as a SIP MESSAGE
 * (RFC 3428) signed with the sender's Identity token (RFC 8224), encrypted to
 * that member alone by the Noise session of the link between the two devices,
 * or, when the member is offline, sealed to the member's account key in the
 * mailbox (src/shared/mail/sealed-mail.ts). Members change through the signed
 * membership log (group-log.ts, group-state.ts), which is sent to every
 * member, removed ones included, after each change.
 *
 * Order: each message carries the sender's sequence number and Lamport clock
 * and is shown by (lamport, sender, seq) on every member (group-wire.ts).
 */
import { randomBytes } from '@noble/hashes/utils.js'
import type { PrivateKey } from '@libp2p/interface'
import { fromString, toString } from 'uint8arrays'
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { checkGroupName, signGroupEntry } from '../../shared/groups/group-log.js'
import type {
  GroupEntry,
  GroupMemberKey,
  UnsignedGroupEntry,
} from '../../shared/groups/group-log.js'
import { applyEntry } from '../../shared/groups/group-state.js'
import type { GroupState } from '../../shared/groups/group-state.js'
import {
  InvalidGroupWireError,
  MAX_LOG_ENTRIES,
  encodeGroupWire,
} from '../../shared/groups/group-wire.js'
import type { GroupMessageWire } from '../../shared/groups/group-wire.js'
import type { StoredGroupMessage } from '../store/migrations/groups.js'
import { fanOut, logBody } from './group-fanout.js'
import type { FanOut } from './group-fanout.js'
import { GroupInbound } from './group-inbound.js'
import type { Verdict } from './group-inbound.js'
import { GroupSiblings } from './group-siblings.js'
import { GroupEvents } from './group-events.js'
import { messageKey as orderKeyOf } from './group-store.js'
import type { Group, GroupStore } from './group-store.js'

export interface GroupServiceInit {
  store: GroupStore
  accountKey: PrivateKey
  ownName: () => Promise<string | null>
  /**
   * The account key of `name` to put in the log: its record's key, which must
   * match the pinned fingerprint if the contact is pinned (throws NotFoundError
   * or KeyChangedError otherwise).
   */
  memberKey: (name: string) => Promise<Uint8Array>
  /** Send one group body to one user as a SIP MESSAGE; resolves with the final status. */
  send: (to: string, body: string) => Promise<Verdict>
  log: Logger
  now?: () => number
}

export class GroupService {
  readonly inbound: GroupInbound
  /** What the account's other devices did in their groups (account sync). */
  readonly siblings: GroupSiblings
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly events = new GroupEvents()

  constructor(private readonly init: GroupServiceInit) {
    const now = init.now != null ? { now: init.now } : {}
    this.inbound = new GroupInbound({
      store: init.store,
      ownName: init.ownName,
      locked: (g, fn) => this.locked(g, fn),
      onMessage: (message) => {
        this.events.message(message)
        this.events.changed({ kind: 'message', message })
      },
      onDisplaced: (g, entries) => void this.redo(g, entries),
      onLog: (group) => this.events.changed({ kind: 'log', group }),
      log: init.log,
      ...now,
    })
    this.siblings = new GroupSiblings({
      store: init.store,
      locked: (g, fn) => this.locked(g, fn),
      onMessage: (m) => this.events.message(m),
      onGroup: (id) => this.events.group(id),
      log: init.log,
      ...now,
    })
  }

  readonly onMessage = this.events.onMessage.bind(this.events)
  readonly onChange = this.events.onChange.bind(this.events)
  readonly onGroup = this.events.onGroup.bind(this.events)

  private now(): number {
    return (this.init.now ?? Date.now)()
  }

  /** Run `fn` after every earlier change to `group` (one writer per group). */
  private locked<T>(group: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(group) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    this.locks.set(group, tail)
    void tail.then(() => this.locks.get(group) === tail && this.locks.delete(group))
    return next
  }

  private async me(): Promise<string> {
    const name = await this.init.ownName()
    if (name == null) throw new NotFoundError('claim a user ID first: kaiwa claim NAME')
    return name
  }

  /** A group by ID, or by name when exactly one group has it. */
  async resolve(ref: string): Promise<Group> {
    const byId = await this.init.store.get(ref)
    if (byId != null) return byId
    const named = (await this.init.store.all()).filter((g) => g.state.name === ref)
    if (named.length === 1) return named[0]!
    if (named.length > 1)
      throw new ConflictError(`${named.length} groups are called "${ref}"; give the group ID`)
    throw new NotFoundError(`no group "${ref}" (kaiwa group list shows them)`)
  }

  async list(): Promise<Group[]> {
    return this.init.store.all()
  }

  messages(group: string, limit?: number): Promise<StoredGroupMessage[]> {
    return this.init.store.list(group, limit)
  }

  /** Create a group with this node's user as creator and admin; the others are told. */
  async create(name: string, members: readonly string[]): Promise<Group> {
    const me = await this.me()
    const title = checkName(name)
    const others = [...new Set(members)].filter((m) => m !== me)
    const keys: GroupMemberKey[] = [{ name: me, key: this.init.accountKey.publicKey.raw }]
    for (const m of others) keys.push({ name: m, key: await this.init.memberKey(m) })
    const entry = await signGroupEntry(
      {
        index: 0,
        group: randomBytes(16),
        prev: new Uint8Array(0),
        author: me,
        time: this.now(),
        op: 'create',
        name: title,
        members: keys,
      },
      this.init.accountKey,
    )
    const state = applyEntry(undefined, entry)
    const group: Group = {
      log: [entry],
      state,
      stored: {
        id: state.id,
        log: [],
        clock: 0,
        seq: 0,
        lastRead: null,
        joinedAt: this.now(),
      },
    }
    await this.init.store.save(group)
    this.events.changed({ kind: 'log', group })
    await this.pushLog(group, state)
    return group
  }

  /** Add members (admins only). */
  add(ref: string, names: readonly string[]): Promise<Group> {
    return this.change(ref, async (s) => {
      const fresh = [...new Set(names)].filter((n) => !s.members.has(n))
      if (fresh.length === 0) throw new InvalidInputError('every one of them is already a member')
      const members: GroupMemberKey[] = []
      for (const n of fresh) members.push({ name: n, key: await this.init.memberKey(n) })
      return { op: 'add', members }
    })
  }

  /** Remove a member (admins only; not an admin senior to this one). */
  remove(ref: string, name: string): Promise<Group> {
    return this.change(ref, async (s) => {
      if (!s.members.has(name)) throw new NotFoundError(`${name} is not a member of "${s.name}"`)
      return { op: 'remove', user: name }
    })
  }

  /** Make a member an admin (admins only); it ranks after every admin made before it. */
  promote(ref: string, name: string): Promise<Group> {
    return this.change(ref, async (s) => {
      if (!s.members.has(name)) throw new NotFoundError(`${name} is not a member of "${s.name}"`)
      return { op: 'admin', user: name }
    })
  }

  leave(ref: string): Promise<Group> {
    return this.change(ref, async () => ({ op: 'leave' }))
  }

  rename(ref: string, name: string): Promise<Group> {
    return this.change(ref, async () => ({ op: 'rename', name: checkName(name) }))
  }

  /** Sign one change, apply it here, and send the new log to old and new members. */
  private async change(
    ref: string,
    build: (s: GroupState) => Promise<Pick<UnsignedGroupEntry, 'op' | 'name' | 'members' | 'user'>>,
  ): Promise<Group> {
    const id = (await this.resolve(ref)).state.id
    const { group, before } = await this.locked(id, async () => {
      const g = (await this.init.store.get(id))!
      const me = await this.me()
      if (!g.state.members.has(me)) throw new InvalidInputError(`you are not in "${g.state.name}"`)
      if (g.log.length >= MAX_LOG_ENTRIES)
        throw new InvalidInputError(
          `"${g.state.name}" has had ${MAX_LOG_ENTRIES} membership changes, the most a group keeps; create a new group`,
        )
      const entry: GroupEntry = await signGroupEntry(
        {
          index: g.state.version,
          group: fromString(g.state.id, 'base16'),
          prev: g.state.head,
          author: me,
          time: this.now(),
          ...(await build(g.state)),
        },
        this.init.accountKey,
      )
      const state = applyEntry(g.state, entry) // InvalidGroupChangeError: not allowed
      const next: Group = { ...g, log: [...g.log, entry], state }
      // The whole log travels after each change: it must fit in one message.
      try {
        logBody(next)
      } catch (err) {
        if (!(err instanceof InvalidGroupWireError)) throw err
        throw new InvalidInputError(
          `"${g.state.name}"'s membership history is too large to send; create a new group`,
        )
      }
      await this.init.store.save(next)
      this.events.changed({ kind: 'log', group: next })
      return { group: next, before: g.state }
    })
    await this.pushLog(group, before)
    return group
  }

  /**
   * Make again, on top of the log that won, the changes of ours that a more
   * senior admin's concurrent change displaced; one that no longer applies
   * (the member was added or removed meanwhile) is dropped, as the user would.
   */
  private async redo(group: string, entries: readonly GroupEntry[]): Promise<void> {
    for (const e of entries) {
      const still = (s: GroupState): boolean => {
        if (e.op === 'add') return e.members!.some((m) => !s.members.has(m.name))
        if (e.op === 'remove') return s.members.has(e.user!)
        if (e.op === 'admin') return s.members.get(e.user!)?.rank == null
        return e.op !== 'create'
      }
      await this.change(group, async (s) => {
        if (!still(s)) throw new Redundant()
        if (e.op === 'add')
          return { op: 'add', members: e.members!.filter((m) => !s.members.has(m.name)) }
        const { op, name, user } = e
        return { op, ...(name != null ? { name } : {}), ...(user != null ? { user } : {}) }
      }).catch((err: unknown) => {
        if (!(err instanceof Redundant))
          this.init.log.info(
            `group ${group}: could not make a displaced ${e.op} again: ${String(err)}`,
          )
      })
    }
  }

  /** Send the group's log to every member of `before` and of the group now, but us. */
  private async pushLog(group: Group, before: GroupState): Promise<FanOut> {
    const me = await this.me()
    const to = new Set([...before.members.keys(), ...group.state.members.keys()])
    to.delete(me)
    const body = logBody(group)
    return fanOut(this.init.send, [...to], body, undefined, this.init.log)
  }

  /**
   * Send `text` to every other member. A member whose node does not know the
   * group yet (or not this member list) answers 403; it gets the log and the
   * message once more.
   */
  async send(ref: string, text: string): Promise<{ message: StoredGroupMessage } & FanOut> {
    const id = (await this.resolve(ref)).state.id
    const me = await this.me()
    const { group, message } = await this.locked(id, async () => {
      const g = (await this.init.store.get(id))!
      if (!g.state.members.has(me))
        throw new InvalidInputError(`you are no longer a member of "${g.state.name}"`)
      const stored = { ...g.stored, clock: g.stored.clock + 1, seq: g.stored.seq + 1 }
      const message: StoredGroupMessage = {
        id: toString(randomBytes(16), 'base16'),
        group: id,
        direction: 'out',
        sender: me,
        fingerprint: g.state.members.get(me)!.fingerprint,
        seq: stored.seq,
        lamport: stored.clock,
        sentAt: new Date(this.now()).toISOString(),
        receivedAt: this.now(),
        text,
        via: 'sent',
        delivered: [],
        stored: [],
        failed: [],
      }
      await this.init.store.save({ ...g, stored })
      await this.init.store.add(message)
      return { group: { ...g, stored }, message }
    })
    this.events.message(message)
    const wire: GroupMessageWire = {
      kaiwaGroup: 1,
      type: 'message',
      group: id,
      id: message.id,
      seq: message.seq,
      lamport: message.lamport,
      sentAt: message.sentAt,
      text,
      version: group.state.version,
    }
    const body = encodeGroupWire(wire)
    const others = [...group.state.members.keys()].filter((m) => m !== me)
    const out = await fanOut(this.init.send, others, body, logBody(group), this.init.log)
    const done = {
      ...message,
      delivered: out.delivered,
      stored: out.stored,
      failed: out.failed.map((f) => f.member),
    }
    await this.init.store.update(done)
    this.events.message(done) // the outcome, for every UI showing the group
    this.events.changed({ kind: 'message', message: done })
    return { message: done, ...out }
  }

  /** Everything in `group` up to now counts as read. */
  async markRead(ref: string): Promise<void> {
    const id = (await this.resolve(ref)).state.id
    await this.locked(id, async () => {
      const g = (await this.init.store.get(id))!
      const last = (await this.init.store.list(id, 1))[0]
      if (last == null) return
      const key = orderKeyOf(last)
      if (g.stored.lastRead != null && g.stored.lastRead >= key) return
      await this.init.store.save({ ...g, stored: { ...g.stored, lastRead: key } })
      this.events.changed({ kind: 'read', group: id, key })
    })
  }

  /** Messages received after the last one read. */
  async unread(group: Group): Promise<number> {
    const mark = group.stored.lastRead
    const list = await this.init.store.list(group.state.id)
    return list.filter((m) => m.direction === 'in' && (mark == null || orderKeyOf(m) > mark)).length
  }
}

/** A displaced change that the winning log already made unnecessary. */
class Redundant extends Error {
  constructor() {
    super('no longer needed')
    this.name = 'Redundant'
  }
}

function checkName(name: string): string {
  try {
    return checkGroupName(name.trim())
  } catch (err) {
    throw new InvalidInputError((err as Error).message)
  }
}
