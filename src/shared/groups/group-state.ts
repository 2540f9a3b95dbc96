/**
 * A group's state, replayed from its membership log (group-log.ts), and the
 * deterministic choice between two logs that diverged (issue 15 §2).
 *
 * Validity, entry by entry (a member applies only valid changes):
 *   - `create` is entry 0, signed by its author, who is one of its members and
 *     becomes the only admin (rank 0, the most senior);
 *   - every later entry names the group, has the next index and the previous
 *     entry's hash, and is signed by its author's key as the log holds it;
 *   - add, remove, rename and admin need an admin; `leave` any member (for
 *     itself); an admin may remove only non-admins and admins junior to it,
 *     so nobody removes the creator;
 *   - `admin` promotes a member, whose rank is the entry's index.
 *
 * Two valid logs with one genesis either extend one another (the longer wins)
 * or diverge at some index k. Then the branch whose entries from k on include
 * the most senior author (lowest rank in the state before k; non-admins rank
 * last) wins, and between equals the lower hash of entry k. A removed member
 * therefore cannot undo its removal by forking from before it: its branch
 * holds only its own entries, and whoever removed it was senior to it. Every
 * member that has seen both logs picks the same one.
 */
import { toString } from 'uint8arrays'
import { KaiwaError } from '../errors.js'
import { fingerprint } from '../records/contact-record.js'
import { MAX_GROUP_MEMBERS, entryHash, groupIdOf, verifyGroupEntry } from './group-log.js'
import type { GroupEntry } from './group-log.js'

/** A change that does not apply to the state it claims to follow. */
export class InvalidGroupChangeError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'InvalidGroupChangeError'
  }
}

export interface GroupMember {
  name: string
  key: Uint8Array
  fingerprint: string
  /** Admin seniority (0 = creator); undefined for a member who is not an admin. */
  rank?: number
}

export interface GroupState {
  id: string
  name: string
  creator: string
  members: Map<string, GroupMember>
  /** Entries applied so far (the next entry's index). */
  version: number
  /** Hash of the last entry. */
  head: Uint8Array
}

const NON_ADMIN = Number.MAX_SAFE_INTEGER

function bad(message: string): never {
  throw new InvalidGroupChangeError(message)
}

const isAdmin = (s: GroupState, name: string): boolean => s.members.get(name)?.rank != null

/** A copy that `apply` can change without touching `s`. */
function clone(s: GroupState): GroupState {
  return { ...s, members: new Map([...s.members].map(([k, m]) => [k, { ...m }])) }
}

/** Apply one entry; returns the new state or throws InvalidGroupChangeError. */
export function applyEntry(prev: GroupState | undefined, e: GroupEntry): GroupState {
  if (prev == null) {
    if (e.index !== 0 || e.op !== 'create') bad('a group log starts with its create entry')
    const author = e.members!.find((m) => m.name === e.author)
    if (author == null) bad('the creator is not among the members')
    if (!verifyGroupEntry(e, author.key)) bad('the create entry is not signed by its creator')
    const members = new Map<string, GroupMember>()
    for (const m of e.members!)
      members.set(m.name, { name: m.name, key: m.key, fingerprint: fingerprint(m.key) })
    members.get(e.author)!.rank = 0
    return {
      id: groupIdOf(e),
      name: e.name!,
      creator: e.author,
      members,
      version: 1,
      head: entryHash(e),
    }
  }
  if (e.op === 'create') bad('a group has one create entry')
  if (e.index !== prev.version) bad(`entry ${e.index} where ${prev.version} was due`)
  if (toString(e.group, 'base16') !== prev.id) bad('the entry names another group')
  if (toString(e.prev, 'base16') !== toString(prev.head, 'base16'))
    bad('the entry does not follow the last one')
  const author = prev.members.get(e.author)
  if (author == null) bad(`${e.author} is not a member`)
  if (!verifyGroupEntry(e, author.key)) bad(`the entry is not signed by ${e.author}'s key`)
  if (e.op !== 'leave' && !isAdmin(prev, e.author)) bad(`${e.author} is not an admin`)
  const s = clone(prev)
  switch (e.op) {
    case 'add':
      for (const m of e.members!) {
        if (s.members.has(m.name)) bad(`${m.name} is already a member`)
        s.members.set(m.name, { name: m.name, key: m.key, fingerprint: fingerprint(m.key) })
      }
      if (s.members.size > MAX_GROUP_MEMBERS)
        bad(`a group has at most ${MAX_GROUP_MEMBERS} members`)
      break
    case 'remove': {
      const target = s.members.get(e.user!)
      if (target == null) bad(`${e.user} is not a member`)
      if (e.user === e.author) bad('leave the group instead of removing yourself')
      if (target.rank != null && target.rank <= author.rank!)
        bad(`${e.author} may not remove ${e.user}, an admin senior to it`)
      s.members.delete(e.user!)
      break
    }
    case 'leave':
      s.members.delete(e.author)
      break
    case 'rename':
      s.name = e.name!
      break
    case 'admin': {
      const target = s.members.get(e.user!)
      if (target == null) bad(`${e.user} is not a member`)
      if (target.rank != null) bad(`${e.user} is already an admin`)
      target.rank = e.index
      break
    }
    default:
      bad(`unknown operation ${String(e.op)}`)
  }
  s.version = e.index + 1
  s.head = entryHash(e)
  return s
}

/** Replay a whole log from its genesis; throws InvalidGroupChangeError at the first bad entry. */
export function replay(log: readonly GroupEntry[]): GroupState {
  if (log.length === 0) bad('an empty group log')
  let s: GroupState | undefined
  for (const e of log) s = applyEntry(s, e)
  return s!
}

const hex = (e: GroupEntry): string => toString(entryHash(e), 'base16')

/** The lowest rank among the authors of `suffix`, by the admins of `base`. */
function seniority(base: GroupState, suffix: readonly GroupEntry[]): number {
  let best = NON_ADMIN
  for (const e of suffix) best = Math.min(best, base.members.get(e.author)?.rank ?? NON_ADMIN)
  return best
}

/**
 * Which of two valid logs of one group a member keeps (see the header):
 * 'a', 'b', or 'same' when they are equal. Both must replay without error.
 */
export function chooseLog(a: readonly GroupEntry[], b: readonly GroupEntry[]): 'a' | 'b' | 'same' {
  let k = 0
  while (k < a.length && k < b.length && hex(a[k]!) === hex(b[k]!)) k++
  if (k === 0) bad('the two logs have different genesis entries')
  if (k === a.length && k === b.length) return 'same'
  if (k === a.length) return 'b'
  if (k === b.length) return 'a'
  const base = replay(a.slice(0, k))
  const ra = seniority(base, a.slice(k))
  const rb = seniority(base, b.slice(k))
  if (ra !== rb) return ra < rb ? 'a' : 'b'
  return hex(a[k]!) < hex(b[k]!) ? 'a' : 'b'
}

/** Members' names, sorted. */
export function memberNames(s: GroupState): string[] {
  return [...s.members.keys()].sort()
}

/** Admins' names, most senior first. */
export function adminNames(s: GroupState): string[] {
  return [...s.members.values()]
    .filter((m) => m.rank != null)
    .sort((x, y) => x.rank! - y.rank!)
    .map((m) => m.name)
}
