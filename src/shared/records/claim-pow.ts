/**
 * Proof-of-work stamps on name claims (hashcash, Back 2002): a claim for
 * `name` by account key `publicKey` carries an 8-byte nonce such that
 *
 *   SHA-256("kaiwa-claim-pow-v1\n" ‖ name ‖ 0x00 ‖ publicKey ‖ nonce)
 *
 * starts with at least `bits` zero bits. Finding one costs about 2^bits hashes
 * on average; checking one costs a single hash, so every storing node and every
 * reader verifies it. The stamp binds the name and the key, so it is computed
 * once per (name, key) and reused by every later refresh of the claim; it does
 * not bind a time, so precomputing stamps gains an attacker nothing it would
 * not pay for later anyway.
 *
 * Pure and platform-neutral (noble's SHA-256), so the browser can verify too.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidRecordError } from '../errors.js'

/**
 * Network-wide difficulty that storing nodes demand of a first claim. 20 bits
 * is ~1M hashes: about 2–3 s of one core on the reference machine (see
 * `bench/claim-pow.mjs` and docs/security.md for the measured figures).
 */
export const CLAIM_POW_BITS = 20
/** Stamp nonce length: fixed, so a stamp has exactly one wire form. */
export const CLAIM_STAMP_BYTES = 8
/** Upper bound accepted for a difficulty setting; 2^40 hashes is days of CPU. */
export const MAX_CLAIM_POW_BITS = 40

const DOMAIN = new TextEncoder().encode('kaiwa-claim-pow-v1\n')
const utf8 = new TextEncoder()
/** Hashes between yields to the event loop while searching (~20–50 ms of work). */
const HASHES_PER_SLICE = 16_384

/** A record that needs a proof-of-work stamp (a first claim, or any v2 record) has none or a bad one. */
export class ClaimStampError extends InvalidRecordError {
  constructor(message: string) {
    super(message)
    this.name = 'ClaimStampError'
  }
}

export function checkPowBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > MAX_CLAIM_POW_BITS) {
    throw new RangeError(`proof-of-work bits must be an integer in 0..${MAX_CLAIM_POW_BITS}`)
  }
  return bits
}

/** The hash input with the nonce slot (last CLAIM_STAMP_BYTES bytes) zeroed. */
function stampInput(name: string, publicKey: Uint8Array): Uint8Array {
  const n = utf8.encode(name)
  const buf = new Uint8Array(DOMAIN.length + n.length + 1 + publicKey.length + CLAIM_STAMP_BYTES)
  buf.set(DOMAIN, 0)
  buf.set(n, DOMAIN.length)
  buf[DOMAIN.length + n.length] = 0 // separator: names never contain NUL
  buf.set(publicKey, DOMAIN.length + n.length + 1)
  return buf
}

/** Number of leading zero bits of `digest`. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/** The work a stamp proves: leading zero bits of its hash (0 for a malformed stamp). */
export function stampWork(name: string, publicKey: Uint8Array, stamp: Uint8Array): number {
  if (!(stamp instanceof Uint8Array) || stamp.length !== CLAIM_STAMP_BYTES) return 0
  const buf = stampInput(name, publicKey)
  buf.set(stamp, buf.length - CLAIM_STAMP_BYTES)
  return leadingZeroBits(sha256(buf))
}

/** True if `stamp` proves at least `bits` bits of work for (name, publicKey). */
export function verifyClaimStamp(
  name: string,
  publicKey: Uint8Array,
  stamp: Uint8Array,
  bits: number,
): boolean {
  return stampWork(name, publicKey, stamp) >= checkPowBits(bits)
}

export interface MintOptions {
  signal?: AbortSignal
  /**
   * SHA-256 to search with. Node's native one (`crypto.hash`) is about twice
   * as fast as the portable default; checking always uses the default.
   * @default noble's sha256
   */
  sha256?: (data: Uint8Array) => Uint8Array
  /** Called between slices of work; defaults to a macrotask yield so timers and I/O keep running. */
  yieldFn?: () => Promise<void>
}

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * Search for a stamp with at least `bits` bits of work. Counts the nonce up
 * from a random start (so two devices of one account do not duplicate work)
 * and yields to the event loop every few thousand hashes: a node keeps
 * answering its peers while it mints.
 */
export async function mintClaimStamp(
  name: string,
  publicKey: Uint8Array,
  bits: number,
  options: MintOptions = {},
): Promise<Uint8Array> {
  checkPowBits(bits)
  const buf = stampInput(name, publicKey)
  const at = buf.length - CLAIM_STAMP_BYTES
  crypto.getRandomValues(buf.subarray(at))
  const pause = options.yieldFn ?? macrotask
  const hash = options.sha256 ?? sha256
  for (;;) {
    for (let i = 0; i < HASHES_PER_SLICE; i++) {
      if (leadingZeroBits(hash(buf)) >= bits) return buf.slice(at)
      increment(buf, at)
    }
    options.signal?.throwIfAborted()
    await pause()
  }
}

/** Big-endian increment of the nonce bytes buf[at..]. */
function increment(buf: Uint8Array, at: number): void {
  for (let j = buf.length - 1; j >= at; j--) {
    buf[j] = (buf[j]! + 1) & 0xff
    if (buf[j] !== 0) return
  }
}
