/**
 * Account sync (issue 15 §3): what one device of an account sends the
 * account's other devices, in the spirit of XMPP Message Carbons (XEP-0280):
 * a copy of every message it sent or received, its read marks, contact
 * changes and device removals, and the groups it is in (their membership
 * logs, messages and read marks).
 *
 * A batch is a CBOR map (canonical, as contact records are):
 *
 *   { v: 1, a: account public key (32), f: sender device peer id,
 *     t: target device peer id, s: sent-at (ms), n: nonce (24), c: ciphertext, sig }
 *
 * `c` is XChaCha20-Poly1305 under a key only the account's devices can derive
 * (HKDF-SHA256 from the account's private key, info `kaiwa-account-sync-v1`),
 * with the header `{a, f, t, s}` as associated data; supernodes, relays and
 * mailboxes see ciphertext only. `sig` is the account key's Ed25519 signature
 * over `kaiwa-sync-v1\n` + the map without `sig`. Every device holds the
 * account key, so the receiver also checks that `f` is the peer that sent it
 * and a device its account's record lists (sync-inbound.ts).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { decode, encode } from 'cborg'
import { concat, equals } from 'uint8arrays'
import { z } from 'zod'
import { STRICT_DECODE } from '../cbor-strict.js'
import { KaiwaError } from '../errors.js'

/** Largest encoded batch: it must fit in one sealed mail (MAX_MAIL_BYTES 64 KiB) with room to spare. */
export const MAX_SYNC_BATCH_BYTES = 48 * 1024
export const SYNC_CONTENT_TYPE = 'application/kaiwa-sync'

const DOMAIN = new TextEncoder().encode('kaiwa-sync-v1\n')
const KEY_INFO = new TextEncoder().encode('kaiwa-account-sync-v1')
const BATCH_KEYS = ['a', 'c', 'f', 'n', 's', 'sig', 't', 'v']

/** A batch that is malformed, not signed by its account key, or does not decrypt. */
export class InvalidSyncBatchError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`invalid sync batch: ${message}`, 'invalid_input', options)
    this.name = 'InvalidSyncBatchError'
  }
}

const Str = (max: number): z.ZodString => z.string().max(max)

/** A message this device sent or received (its history entry, keyed by `id`). */
export const SyncMessageEventSchema = z
  .object({
    k: z.literal('m'),
    /** Stable across devices: direction and the MESSAGE's Call-ID. */
    id: Str(300),
    d: z.enum(['in', 'out']),
    p: Str(300),
    fr: Str(300),
    to: Str(300),
    dt: Str(40),
    ct: Str(200),
    tx: Str(16_384),
    st: z.enum(['delivered', 'stored', 'failed', 'received']),
    cd: z.number().int().min(0).max(999),
    of: z.boolean().optional(),
    vf: z.enum(['verified', 'new', 'mismatch']).optional(),
    fp: Str(64).optional(),
  })
  .strict()
/**
 * The user read these received messages (SyncMessageEvent ids) of `p`'s
 * conversation. Devices file messages in different orders, so a read mark
 * travels as the messages it newly covers, not as one position.
 */
export const SyncReadEventSchema = z
  .object({ k: z.literal('r'), p: Str(300), ids: z.array(Str(300)).min(1).max(500) })
  .strict()
/** A contact pinned (fp) or removed (fp null) at `at`; the latest `at` wins. */
export const SyncContactEventSchema = z
  .object({ k: z.literal('c'), n: Str(64), fp: Str(64).nullable(), at: z.number().int().min(0) })
  .strict()
/**
 * The account-wide settings changed at `at`: how large a file from a pinned
 * contact is taken without asking (aa) and the largest file (mx), both MiB.
 * Machine-specific settings (supernode mode, caps, downloads folder) stay put.
 */
export const SyncSettingsEventSchema = z
  .object({
    k: z.literal('s'),
    aa: z.number().int().min(0).max(1_000_000).optional(),
    mx: z.number().int().min(1).max(1_000_000).optional(),
    at: z.number().int().min(0),
  })
  .strict()
/** A device (peer id) was removed from the account at `at`. */
export const SyncDeviceEventSchema = z
  .object({ k: z.literal('d'), p: Str(100), at: z.number().int().min(0) })
  .strict()

const GroupId = z.string().regex(/^[0-9a-f]{32}$/)
const GroupUser = z.string().min(3).max(32)
const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
/**
 * A group's membership log as this device now holds it (issue 15 §2's
 * group-log.ts entries, each its canonical CBOR): created, joined, left or
 * changed here. Each entry carries its author's signature, so the receiving
 * device replays and checks it as it would a member's log.
 */
export const SyncGroupLogEventSchema = z
  .object({
    k: z.literal('g'),
    g: GroupId,
    e: z
      .array(z.instanceof(Uint8Array).refine((b) => b.length > 0 && b.length <= 4096))
      .min(1)
      .max(128),
  })
  .strict()
/**
 * A group message this device sent (with how its members got it) or
 * received; every device files it once, by its ID.
 */
export const SyncGroupMessageEventSchema = z
  .object({
    k: z.literal('gm'),
    g: GroupId,
    id: GroupId,
    d: z.enum(['in', 'out']),
    sn: GroupUser,
    fp: Str(64),
    sq: Count,
    l: Count,
    sa: Str(40),
    tx: Str(16_000),
    v: z.enum(['direct', 'mailbox', 'sent']),
    dl: z.array(GroupUser).max(50),
    st: z.array(GroupUser).max(50),
    fl: z.array(GroupUser).max(50),
  })
  .strict()
/** The user read group `g` up to the message with order key `r` (a mark only moves forward). */
export const SyncGroupReadEventSchema = z
  .object({ k: z.literal('gr'), g: GroupId, r: Str(120) })
  .strict()

export const SyncEventSchema = z.discriminatedUnion('k', [
  SyncMessageEventSchema,
  SyncReadEventSchema,
  SyncContactEventSchema,
  SyncDeviceEventSchema,
  SyncSettingsEventSchema,
  SyncGroupLogEventSchema,
  SyncGroupMessageEventSchema,
  SyncGroupReadEventSchema,
])
export type SyncEvent = z.infer<typeof SyncEventSchema>
export type SyncMessageEvent = z.infer<typeof SyncMessageEventSchema>
export type SyncGroupEvent = z.infer<
  | typeof SyncGroupLogEventSchema
  | typeof SyncGroupMessageEventSchema
  | typeof SyncGroupReadEventSchema
>
export type SyncGroupMessageEvent = z.infer<typeof SyncGroupMessageEventSchema>

/**
 * Group events travel in batches of their own: a device running a Kaiwa from
 * before group sync refuses a whole batch with an event kind it does not know,
 * and must still take the rest.
 */
export function isGroupEvent(e: SyncEvent): e is SyncGroupEvent {
  return e.k === 'g' || e.k === 'gm' || e.k === 'gr'
}

const PlainSchema = z.object({ e: z.array(SyncEventSchema).max(2000) }).strict()

/** Events as canonical CBOR `{e: [...]}`: what a batch seals, and what the outbox stores. */
export function encodeSyncEvents(events: SyncEvent[]): Uint8Array {
  return encode(PlainSchema.parse({ e: events }))
}

/** The inverse of encodeSyncEvents, checked against the schema; throws InvalidSyncBatchError. */
export function decodeSyncEvents(plain: Uint8Array): SyncEvent[] {
  let parsed: unknown
  try {
    parsed = decode(plain, STRICT_DECODE)
  } catch (err) {
    throw new InvalidSyncBatchError('bad CBOR inside', { cause: err })
  }
  const res = PlainSchema.safeParse(parsed)
  if (!res.success) throw new InvalidSyncBatchError(`bad events: ${res.error.message}`)
  return res.data.e
}

export interface SyncBatch {
  v: 1
  /** The account's raw Ed25519 public key. */
  a: Uint8Array
  /** Sender and target device peer ids (multihash bytes). */
  f: Uint8Array
  t: Uint8Array
  s: number
  n: Uint8Array
  c: Uint8Array
  sig: Uint8Array
}

/** The symmetric key every device of the account derives from the account key alone. */
export function accountSyncKey(accountKey: Ed25519PrivateKey): Uint8Array {
  return hkdf(sha256, accountKey.raw, undefined, KEY_INFO, 32)
}

const header = (b: Pick<SyncBatch, 'a' | 'f' | 't' | 's'>): Uint8Array =>
  encode({ a: b.a, f: b.f, s: b.s, t: b.t })
const signed = (b: Omit<SyncBatch, 'sig'>): Uint8Array =>
  concat([DOMAIN, encode({ a: b.a, c: b.c, f: b.f, n: b.n, s: b.s, t: b.t, v: b.v })])

export interface SealSyncOptions {
  accountKey: Ed25519PrivateKey
  from: Uint8Array
  to: Uint8Array
  events: SyncEvent[]
  now?: number
}

/** Seal and sign `events` for one target device; the encoded batch bytes. */
export async function sealSyncBatch(opts: SealSyncOptions): Promise<Uint8Array> {
  const base = {
    v: 1 as const,
    a: opts.accountKey.publicKey.raw,
    f: opts.from,
    t: opts.to,
    s: opts.now ?? Date.now(),
  }
  const n = randomBytes(24)
  const plain = encodeSyncEvents(opts.events)
  const c = xchacha20poly1305(accountSyncKey(opts.accountKey), n, header(base)).encrypt(plain)
  const unsigned = { ...base, n, c }
  const sig = new Uint8Array(await opts.accountKey.sign(signed(unsigned)))
  const bytes = encode({ ...unsigned, sig })
  if (bytes.byteLength > MAX_SYNC_BATCH_BYTES)
    throw new InvalidSyncBatchError(`${bytes.byteLength} bytes is over ${MAX_SYNC_BATCH_BYTES}`)
  return bytes
}

/** Strict parse: canonical CBOR, exact fields. Checks neither signature nor account. */
export function decodeSyncBatch(bytes: Uint8Array): SyncBatch {
  if (bytes.byteLength > MAX_SYNC_BATCH_BYTES) throw new InvalidSyncBatchError('too large')
  let raw: unknown
  try {
    raw = decode(bytes, STRICT_DECODE)
  } catch (err) {
    throw new InvalidSyncBatchError('bad CBOR', { cause: err })
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidSyncBatchError('not a map')
  const m = raw as Record<string, unknown>
  const keys = Object.keys(m).sort()
  if (keys.join() !== BATCH_KEYS.join()) throw new InvalidSyncBatchError('unexpected fields')
  const isBytes = (x: unknown, len?: number): x is Uint8Array =>
    x instanceof Uint8Array && (len == null || x.length === len)
  if (
    m.v !== 1 ||
    !isBytes(m.a, 32) ||
    !isBytes(m.f) ||
    !isBytes(m.t) ||
    !isBytes(m.n, 24) ||
    !isBytes(m.c) ||
    !isBytes(m.sig, 64) ||
    typeof m.s !== 'number' ||
    !Number.isSafeInteger(m.s) ||
    m.s < 0
  )
    throw new InvalidSyncBatchError('bad field types')
  if (!equals(encode(m), bytes)) throw new InvalidSyncBatchError('CBOR is not in canonical form')
  return m as unknown as SyncBatch
}

/**
 * Open a batch for this account: refused unless it names our account key,
 * carries that key's signature and decrypts under the account's sync key.
 */
export async function openSyncBatch(
  batch: SyncBatch,
  accountKey: Ed25519PrivateKey,
): Promise<SyncEvent[]> {
  if (!equals(batch.a, accountKey.publicKey.raw))
    throw new InvalidSyncBatchError('it is for another account')
  const ok = await Promise.resolve()
    .then(() => publicKeyFromRaw(batch.a).verify(signed(batch), batch.sig))
    .catch(() => false)
  if (!ok) throw new InvalidSyncBatchError('the account signature does not verify')
  let plain: Uint8Array
  try {
    plain = xchacha20poly1305(accountSyncKey(accountKey), batch.n, header(batch)).decrypt(batch.c)
  } catch (err) {
    throw new InvalidSyncBatchError('it does not decrypt under the account key', { cause: err })
  }
  return decodeSyncEvents(plain)
}
