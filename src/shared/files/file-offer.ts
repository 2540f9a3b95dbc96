/**
 * A file offer: what a sender proposes before any byte of the file moves
 * (`/kaiwa/file/1.0.0`, docs in src/overlay/files/file-protocol.ts). It names
 * the file, its size, the SHA-256 of the whole file and of every chunk, and is
 * signed by the sender's ed25519 account key, as a SIP request carries an
 * RFC 8224 Identity token. The receiver checks the signature, that the key is
 * the sender name's (and the pinned one), and that the peer it came from is a
 * device of that name before it accepts anything.
 *
 * The chunk hashes are committed in the signed offer, so a chunk is checked
 * the moment it arrives (a tampered one is refused and asked for again) and a
 * resumed transfer trusts only chunks it verified itself; the whole-file hash
 * is checked once more at the end, before the file is shown as received.
 *
 * Wire form: canonical CBOR (cborg's deterministic encoder), decoded strictly
 * and re-encoded to the same bytes, so a signature has exactly one byte form.
 * Pure and browser-safe: no node: imports.
 */
import { decode, encode } from 'cborg'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { concat, equals } from 'uint8arrays'
import { STRICT_DECODE } from '../cbor-strict.js'
import { KaiwaError } from '../errors.js'
import { isValidUserId } from '../user-id.js'

/** Bytes per chunk: one hash, one verification and one acknowledgement each. */
export const CHUNK_BYTES = 1024 * 1024
/** The largest chunk an offer may name (it bounds what a receiver buffers). */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024
/** At most this many chunks (32 GiB): the offer carries 32 bytes of hash per chunk. */
export const MAX_CHUNKS = 32 * 1024
export const MAX_FILE_BYTES = CHUNK_BYTES * MAX_CHUNKS
/** Largest encoded offer: the chunk hashes plus a small header. */
export const MAX_OFFER_BYTES = MAX_CHUNKS * 32 + 4096
export const OFFER_ID_BYTES = 16
const MAX_NAME_CHARS = 255
const MAX_MIME_CHARS = 127
const MAX_TIME_MS = 8_640_000_000_000_000

const SIGNING_DOMAIN = new TextEncoder().encode('kaiwa-file-offer-v1\n')

export interface FileOffer {
  v: 1
  /** 16 random bytes: the transfer's identity on both sides (and across restarts). */
  id: Uint8Array
  /** Sender user ID; its record's key must be senderKey. */
  from: string
  /** Recipient user ID. */
  to: string
  /** Sender ed25519 account public key (32 bytes). */
  senderKey: Uint8Array
  /** The file's base name as the sender had it (the receiver sanitises it again). */
  name: string
  /** A media type such as image/png, or application/octet-stream. */
  mime: string
  size: number
  /** SHA-256 of the whole file. */
  sha256: Uint8Array
  chunkSize: number
  /** SHA-256 of every chunk, concatenated (32 bytes each, in order). */
  chunks: Uint8Array
  /** ms since the epoch, set by the sender. */
  createdAt: number
  /** ed25519 signature by senderKey over fileOfferSignedBytes(offer). */
  sig: Uint8Array
}

export type UnsignedFileOffer = Omit<FileOffer, 'sig'>

/** An offer that does not decode, or does not fit its own sizes. */
export class InvalidFileOfferError extends KaiwaError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid file offer: ${reason}`, 'invalid_input', options)
    this.name = 'InvalidFileOfferError'
  }
}

/** The offer's signature does not verify under its senderKey. */
export class FileOfferSignatureError extends KaiwaError {
  constructor() {
    super('the file offer is not signed by the key it names', 'unauthorized')
    this.name = 'FileOfferSignatureError'
  }
}

const UNSIGNED_KEYS = [
  'chunkSize',
  'chunks',
  'createdAt',
  'from',
  'id',
  'mime',
  'name',
  'senderKey',
  'sha256',
  'size',
  'to',
  'v',
]
const OFFER_KEYS = [...UNSIGNED_KEYS, 'sig'].sort()

const fail = (reason: string, cause?: unknown): never => {
  throw new InvalidFileOfferError(reason, cause !== undefined ? { cause } : undefined)
}

function bytes(x: unknown, what: string, length?: number): Uint8Array {
  if (!(x instanceof Uint8Array)) return fail(`${what} must be a byte string`)
  if (length !== undefined && x.length !== length) fail(`${what} must be ${length} bytes`)
  return x
}

function text(x: unknown, what: string, max: number): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > max)
    return fail(`${what} must be 1-${max} characters`)
  return x
}

function int(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max)
    return fail(`${what} must be an integer ${min}-${max}`)
  return x
}

/** How many chunks a file of `size` bytes has (an empty file has none). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

/** The length of chunk `index`: chunkSize, except the last. */
export function chunkLength(offer: Pick<FileOffer, 'size' | 'chunkSize'>, index: number): number {
  return Math.min(offer.chunkSize, offer.size - index * offer.chunkSize)
}

/** The committed hash of chunk `index`. */
export function chunkHash(offer: Pick<FileOffer, 'chunks'>, index: number): Uint8Array {
  return offer.chunks.subarray(index * 32, index * 32 + 32)
}

/** Exact schema and internal consistency (chunk count matches size). */
function check(x: unknown, keys: string[]): FileOffer {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return fail('not a CBOR map')
  const o = x as Record<string, unknown>
  const present = Object.keys(o)
  for (const k of present) if (!keys.includes(k)) fail(`unexpected field "${k}"`)
  for (const k of keys) if (!present.includes(k)) fail(`missing field "${k}"`)
  if (o.v !== 1) fail(`unsupported version ${String(o.v)}`)
  bytes(o.id, 'id', OFFER_ID_BYTES)
  if (!isValidUserId(o.from)) fail('from is not a valid user ID')
  if (!isValidUserId(o.to)) fail('to is not a valid user ID')
  bytes(o.senderKey, 'senderKey', 32)
  text(o.name, 'name', MAX_NAME_CHARS)
  text(o.mime, 'mime', MAX_MIME_CHARS)
  const size = int(o.size, 'size', 0, MAX_FILE_BYTES)
  bytes(o.sha256, 'sha256', 32)
  const chunkSize = int(o.chunkSize, 'chunkSize', 1024, MAX_CHUNK_BYTES)
  const n = chunkCount(size, chunkSize)
  if (n > MAX_CHUNKS) fail(`more than ${MAX_CHUNKS} chunks`)
  bytes(o.chunks, 'chunks', n * 32)
  int(o.createdAt, 'createdAt', 0, MAX_TIME_MS)
  if (keys.includes('sig')) bytes(o.sig, 'sig', 64)
  return o as unknown as FileOffer
}

function pick(offer: UnsignedFileOffer | FileOffer, keys: string[]): Record<string, unknown> {
  const src = offer as unknown as Record<string, unknown>
  return Object.fromEntries(keys.map((k) => [k, src[k]]))
}

/** What the sender signs: a domain prefix, then CBOR of every field but sig. */
export function fileOfferSignedBytes(offer: UnsignedFileOffer): Uint8Array {
  const unsigned = pick(offer, UNSIGNED_KEYS)
  check(unsigned, UNSIGNED_KEYS)
  return concat([SIGNING_DOMAIN, encode(unsigned)])
}

export async function signFileOffer(
  offer: UnsignedFileOffer,
  accountKey: Ed25519PrivateKey,
): Promise<FileOffer> {
  if (!equals(offer.senderKey, accountKey.publicKey.raw)) fail('senderKey is not the signing key')
  const sig = new Uint8Array(await accountKey.sign(fileOfferSignedBytes(offer)))
  return { ...offer, sig }
}

export function encodeFileOffer(offer: FileOffer): Uint8Array {
  const out = encode(check(pick(offer, OFFER_KEYS), OFFER_KEYS))
  if (out.length > MAX_OFFER_BYTES) fail('too large')
  return out
}

/** Strict, canonical decode and schema check; does not verify the signature. */
export function decodeFileOffer(wire: Uint8Array): FileOffer {
  if (!(wire instanceof Uint8Array)) return fail('not bytes')
  if (wire.length > MAX_OFFER_BYTES) fail('too large')
  let value: unknown
  try {
    value = decode(wire, STRICT_DECODE)
  } catch (err) {
    return fail(`bad CBOR (${(err as Error).message})`, err)
  }
  if (!equals(encode(value), wire)) fail('not in canonical CBOR form')
  return check(value, OFFER_KEYS)
}

/** True when sig is senderKey's signature over the offer; never throws. */
export async function verifyFileOffer(offer: FileOffer): Promise<boolean> {
  try {
    const key = publicKeyFromRaw(offer.senderKey)
    if (key.type !== 'Ed25519') return false
    return await key.verify(fileOfferSignedBytes(offer), offer.sig)
  } catch {
    return false
  }
}

/** Hex of the offer id: the transfer's key in stores, the API and file names. */
export function offerIdHex(id: Uint8Array): string {
  return Array.from(id, (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * A name safe to create in a folder: no path, no control or reserved
 * characters, no leading dots, at most 200 characters (room for " (2)").
 */
export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? ''
  // eslint-disable-next-line no-control-regex -- control characters are what is being removed
  const cleaned = base.replace(/[\x00-\x1f\x7f<>:"|?*]/g, '_').replace(/^[.\s]+/, '')
  const trimmed = cleaned.trim().slice(0, 200)
  return trimmed === '' ? 'file' : trimmed
}
