/**
 * A group's membership log: the signed, hash-chained entries that say who is
 * in a group, who administers it and what it is called (issue 15 §2).
 *
 * Each entry is deterministic CBOR (cborg's default encoder: sorted keys,
 * minimal integers, no tags) of a map with short keys, signed by its author's
 * Ed25519 account key over `kaiwa-group-v1\n` + the CBOR of the map without
 * `sig` (the same discipline as contact records, contact-record.ts). Decoding
 * is strict and demands that re-encoding gives the same bytes, so an entry has
 * exactly one valid byte form and its hash names it.
 *
 *   i    index in the log (0 = the genesis entry, `create`)
 *   g    genesis: 16 random bytes; later entries: the group ID
 *   p    SHA-256 of the previous entry's bytes (empty for the genesis)
 *   a    author's user ID        t  author's clock, ms (informational)
 *   o    create | add | remove | leave | rename | admin
 *   n    group name (create, rename)
 *   m    [[user ID, 32-byte account key], …] (create, add)
 *   u    the member concerned (remove, admin)
 *
 * The group ID is the first 16 bytes of SHA-256 of the genesis entry, hex: it
 * binds the group to its creator's signed genesis, so nobody can mint another
 * group with the same ID. Which entries are valid, and how two logs merge, is
 * group-state.ts.
 */
import { STRICT_DECODE } from '../cbor-strict.js'
import { decode, encode } from 'cborg'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { PrivateKey } from '@libp2p/interface'
import { concat, equals, toString } from 'uint8arrays'
import { KaiwaError } from '../errors.js'
import { isValidUserId } from '../user-id.js'

export const GROUP_OPS = ['create', 'add', 'remove', 'leave', 'rename', 'admin'] as const
export type GroupOp = (typeof GROUP_OPS)[number]

/** Members a group may have (every message is sealed and sent to each). */
export const MAX_GROUP_MEMBERS = 50
/** A group name: 1–64 characters after trimming. */
export const MAX_GROUP_NAME = 64
/** Largest encoded entry (a genesis naming MAX_GROUP_MEMBERS members fits). */
export const MAX_ENTRY_BYTES = 4096
export const GROUP_ID_BYTES = 16

const SIGNING_DOMAIN = new TextEncoder().encode('kaiwa-group-v1\n')

export interface GroupMemberKey {
  name: string
  /** Raw Ed25519 account key (32 bytes). */
  key: Uint8Array
}

export interface GroupEntry {
  index: number
  /** Genesis: a random nonce; later: the group ID's bytes. */
  group: Uint8Array
  prev: Uint8Array
  author: string
  time: number
  op: GroupOp
  name?: string
  members?: GroupMemberKey[]
  user?: string
  signature: Uint8Array
}
export type UnsignedGroupEntry = Omit<GroupEntry, 'signature'>

/** An entry that is malformed or not in its one canonical byte form. */
export class InvalidGroupEntryError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`invalid group log entry: ${message}`, 'invalid_input', options)
    this.name = 'InvalidGroupEntryError'
  }
}

interface Wire {
  i: number
  g: Uint8Array
  p: Uint8Array
  a: string
  t: number
  o: string
  n?: string
  m?: Array<[string, Uint8Array]>
  u?: string
  sig?: Uint8Array
}

function fail(message: string, cause?: unknown): never {
  throw new InvalidGroupEntryError(message, cause != null ? { cause } : undefined)
}

function toWire(e: UnsignedGroupEntry, sig?: Uint8Array): Wire {
  const w: Wire = { i: e.index, g: e.group, p: e.prev, a: e.author, t: e.time, o: e.op }
  if (e.name != null) w.n = e.name
  if (e.members != null) w.m = e.members.map((m) => [m.name, m.key])
  if (e.user != null) w.u = e.user
  if (sig != null) w.sig = sig
  return w
}

const bytes = (v: unknown, len: number | [number, number], what: string): Uint8Array => {
  if (!(v instanceof Uint8Array)) fail(`${what} is not bytes`)
  const [lo, hi] = typeof len === 'number' ? [len, len] : len
  if (v.length < lo || v.length > hi) fail(`${what} has ${v.length} bytes`)
  return v
}
const user = (v: unknown, what: string): string =>
  isValidUserId(v) ? (v as string) : fail(`${what} is not a valid user ID`)

/** A checked group name (trimmed, 1–64 characters, no control characters). */
export function checkGroupName(v: unknown): string {
  if (typeof v !== 'string') fail('the group name is not a string')
  const s = v.trim()
  // eslint-disable-next-line no-control-regex
  if (s.length === 0 || s.length > MAX_GROUP_NAME || /[\u0000-\u001f\u007f]/.test(s))
    fail(`the group name must be 1–${MAX_GROUP_NAME} printable characters`)
  if (s !== v) fail('the group name has surrounding spaces')
  return s
}

function fromWire(x: unknown): GroupEntry {
  if (typeof x !== 'object' || x == null || Array.isArray(x)) fail('not a map')
  const w = x as Record<string, unknown>
  const allowed = new Set(['i', 'g', 'p', 'a', 't', 'o', 'n', 'm', 'u', 'sig'])
  for (const k of Object.keys(w)) if (!allowed.has(k)) fail(`unknown field ${k}`)
  const index = w.i
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) fail('bad index')
  const time = w.t
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) fail('bad time')
  const op = w.o as GroupOp
  if (!GROUP_OPS.includes(op)) fail(`unknown operation ${String(w.o)}`)
  const e: GroupEntry = {
    index,
    group: bytes(w.g, GROUP_ID_BYTES, 'g'),
    prev: bytes(w.p, index === 0 ? 0 : 32, 'p'),
    author: user(w.a, 'the author'),
    time,
    op,
    signature: bytes(w.sig, 64, 'sig'),
  }
  const wants = {
    n: op === 'create' || op === 'rename',
    m: op === 'create' || op === 'add',
    u: op === 'remove' || op === 'admin',
  }
  for (const k of ['n', 'm', 'u'] as const)
    if ((w[k] !== undefined) !== wants[k]) fail(`${op} ${wants[k] ? 'needs' : 'takes no'} ${k}`)
  if (wants.n) e.name = checkGroupName(w.n)
  if (wants.u) e.user = user(w.u, 'the member')
  if (wants.m) {
    if (!Array.isArray(w.m) || w.m.length === 0 || w.m.length > MAX_GROUP_MEMBERS)
      fail(`members must list 1–${MAX_GROUP_MEMBERS} users`)
    e.members = w.m.map((pair: unknown) => {
      if (!Array.isArray(pair) || pair.length !== 2) fail('a member is not [name, key]')
      return { name: user(pair[0], 'a member'), key: bytes(pair[1], 32, 'a member key') }
    })
    if (new Set(e.members.map((m) => m.name)).size !== e.members.length)
      fail('a member is listed twice')
  }
  return e
}

/** The bytes the author signs: a domain-separation prefix, then the unsigned CBOR map. */
export function entrySignedBytes(e: UnsignedGroupEntry): Uint8Array {
  return concat([SIGNING_DOMAIN, encode(toWire(e))])
}

/** Wire bytes of a signed entry. */
export function encodeGroupEntry(e: GroupEntry): Uint8Array {
  return encode(toWire(e, e.signature))
}

/** Parse wire bytes (canonical CBOR, exact schema); the signature is checked by group-state.ts. */
export function decodeGroupEntry(b: Uint8Array): GroupEntry {
  if (!(b instanceof Uint8Array)) fail('not a byte array')
  if (b.length > MAX_ENTRY_BYTES) fail(`${b.length} bytes, over ${MAX_ENTRY_BYTES}`)
  let value: unknown
  try {
    value = decode(b, STRICT_DECODE)
  } catch (err) {
    return fail(`bad CBOR (${(err as Error).message})`, err)
  }
  const entry = fromWire(value)
  if (!equals(encodeGroupEntry(entry), b)) fail('CBOR is not in canonical form')
  return entry
}

/** Sign with the author's account key (Ed25519). */
export async function signGroupEntry(e: UnsignedGroupEntry, key: PrivateKey): Promise<GroupEntry> {
  if (key.type !== 'Ed25519') fail('account keys must be Ed25519')
  const signature = new Uint8Array(await key.sign(entrySignedBytes(e)))
  const entry = { ...e, signature }
  if (encodeGroupEntry(entry).length > MAX_ENTRY_BYTES) fail('entry too large')
  return entry
}

/** True when `key` signed `e`; never throws. */
export function verifyGroupEntry(e: GroupEntry, key: Uint8Array): boolean {
  try {
    return ed25519.verify(e.signature, entrySignedBytes(e), key)
  } catch {
    return false
  }
}

/** SHA-256 of the entry's wire bytes: what the next entry's `p` names. */
export function entryHash(e: GroupEntry): Uint8Array {
  return sha256(encodeGroupEntry(e))
}

/** The group ID a genesis entry defines (32 hex characters). */
export function groupIdOf(genesis: GroupEntry): string {
  return toString(entryHash(genesis).subarray(0, GROUP_ID_BYTES), 'base16')
}

export const GROUP_ID_RE = /^[0-9a-f]{32}$/
