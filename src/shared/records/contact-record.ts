/**
 * The signed contact record stored under `/kaiwa-user/<name>`. It carries both
 * the name claim (account key, claimedAt, expiresAt) and the current contacts
 * (devices with their multiaddrs), so "look up alice" is a single DHT get.
 *
 * Wire form: deterministic CBOR (cborg's default encoder: minimal integers,
 * sorted map keys, no tags) of a map with short keys. The signature covers
 * `kaiwa-record-v1\n` + CBOR of the same map without `sig`. Decoding is strict
 * and re-encodes to demand byte equality, so every record has exactly one
 * valid byte form (no malleability, no hidden data).
 *
 * Versions: v1 is the original form. v2 adds `w`, the claim's proof-of-work
 * stamp (claim-pow.ts), and is otherwise identical; `v` is inside the signed
 * map, so a v2 record cannot be passed off as v1 by dropping the stamp. How
 * storing nodes treat v1 records is decided in record-policy.ts.
 */
import { STRICT_DECODE } from '../cbor-strict.js'
import { decode, encode } from 'cborg'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decode as decodeMultihash } from 'multiformats/hashes/digest'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat, equals, toString } from 'uint8arrays'
import type { ContactRecordJson } from '../api/contract.js'
import { InvalidRecordError } from '../errors.js'
import { isValidUserId } from '../user-id.js'

export interface Device {
  /** Peer id multihash bytes of the device's libp2p node. */
  peerId: Uint8Array
  /** Multiaddr bytes; relayed (/p2p-circuit) addresses are allowed. */
  addrs: Uint8Array[]
  /** ms since epoch; like a SIP registration's Expires. */
  expiresAt: number
}

export type RecordVersion = 1 | 2

export interface ContactRecord {
  /** 1: legacy, no stamp. 2: carries `stamp`. */
  v: RecordVersion
  name: string
  /** Raw 32-byte Ed25519 account public key. */
  publicKey: Uint8Array
  /**
   * Informational only: when the claimant says it claimed the name. The
   * claimant chooses it freely, so nothing ranks or decides by it.
   */
  claimedAt: number
  seq: number
  issuedAt: number
  expiresAt: number
  devices: Device[]
  /** v2 only: the CLAIM_STAMP_BYTES-byte proof-of-work nonce for (name, publicKey). */
  stamp?: Uint8Array
  /** 64-byte Ed25519 signature over signedBytes(record). */
  signature: Uint8Array
}

export type UnsignedContactRecord = Omit<ContactRecord, 'signature'>

const SIGNING_DOMAIN = new TextEncoder().encode('kaiwa-record-v1\n')
const RECORD_KEYS_V1 = ['c', 'd', 'e', 'i', 'k', 'n', 's', 'sig', 'v']
const RECORD_KEYS_V2 = [...RECORD_KEYS_V1, 'w']
/** CLAIM_STAMP_BYTES, repeated here so this codec does not depend on the PoW module. */
const STAMP_BYTES = 8
const DEVICE_KEYS = ['a', 'e', 'p']
/** The largest time Date can represent; keeps toISOString from throwing. */
const MAX_TIME_MS = 8_640_000_000_000_000

type WireDevice = { p: Uint8Array; a: Uint8Array[]; e: number }
type WireRecord = {
  v: RecordVersion
  n: string
  k: Uint8Array
  c: number
  s: number
  i: number
  e: number
  d: WireDevice[]
  w?: Uint8Array
  sig?: Uint8Array
}

const fail = (reason: string, cause?: unknown): never => {
  throw new InvalidRecordError(`invalid contact record: ${reason}`, cause ? { cause } : undefined)
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype
}

function checkKeys(obj: Record<string, unknown>, expected: string[], what: string): void {
  const keys = Object.keys(obj).sort()
  for (const k of keys) if (!expected.includes(k)) fail(`${what} has unexpected field "${k}"`)
  for (const k of expected) if (!keys.includes(k)) fail(`${what} is missing field "${k}"`)
}

function checkTime(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0 || x > MAX_TIME_MS) {
    fail(`${what} must be a non-negative integer number of milliseconds`)
  }
  return x as number
}

function checkBytes(x: unknown, what: string, length?: number): Uint8Array {
  if (!(x instanceof Uint8Array)) return fail(`${what} must be a byte string`)
  if (length !== undefined && x.length !== length) fail(`${what} must be ${length} bytes`)
  return x
}

/** Exact schema check of the wire map (shared by encode and decode). */
function checkWire(x: unknown, withSig: boolean): WireRecord {
  if (!isPlainObject(x)) return fail('not a CBOR map')
  if (x.v !== 1 && x.v !== 2) fail(`unsupported version ${String(x.v)}`)
  const keys = x.v === 1 ? RECORD_KEYS_V1 : RECORD_KEYS_V2
  checkKeys(x, withSig ? keys : keys.filter((k) => k !== 'sig'), 'record')
  if (typeof x.n !== 'string' || !isValidUserId(x.n)) fail('name is not a valid user ID')
  checkBytes(x.k, 'publicKey', 32)
  checkTime(x.c, 'claimedAt')
  checkTime(x.i, 'issuedAt')
  checkTime(x.e, 'expiresAt')
  if (typeof x.s !== 'number' || !Number.isSafeInteger(x.s) || x.s < 0) {
    fail('seq must be a non-negative integer')
  }
  if (!Array.isArray(x.d)) fail('devices must be an array')
  ;(x.d as unknown[]).forEach((d, i) => {
    if (!isPlainObject(d)) return fail(`device ${i} is not a map`)
    checkKeys(d, DEVICE_KEYS, `device ${i}`)
    checkBytes(d.p, `device ${i} peerId`)
    if (!Array.isArray(d.a)) fail(`device ${i} addrs must be an array`)
    ;(d.a as unknown[]).forEach((a, j) => checkBytes(a, `device ${i} addr ${j}`))
    checkTime(d.e, `device ${i} expiresAt`)
  })
  if (x.v === 2) checkBytes(x.w, 'stamp', STAMP_BYTES)
  if (withSig) checkBytes(x.sig, 'signature', 64)
  return x as WireRecord
}

/** Picks exactly the record's fields, so stray properties never reach the wire. */
function toWire(r: UnsignedContactRecord, sig?: Uint8Array): WireRecord {
  const wire: WireRecord = {
    v: r.v,
    n: r.name,
    k: r.publicKey,
    c: r.claimedAt,
    s: r.seq,
    i: r.issuedAt,
    e: r.expiresAt,
    d: r.devices.map((d) => ({ p: d.peerId, a: [...d.addrs], e: d.expiresAt })),
  }
  // A v1 record never carries a stamp (a stray one is dropped, as any stray
  // property is); a v2 record without one fails checkWire.
  if (r.v === 2 && r.stamp !== undefined) wire.w = r.stamp
  if (sig) wire.sig = sig
  return checkWire(wire, sig !== undefined)
}

function fromWire(w: WireRecord & { sig: Uint8Array }): ContactRecord {
  return {
    v: w.v,
    name: w.n,
    publicKey: w.k,
    claimedAt: w.c,
    seq: w.s,
    issuedAt: w.i,
    expiresAt: w.e,
    devices: w.d.map((d) => ({ peerId: d.p, addrs: d.a, expiresAt: d.e })),
    ...(w.v === 2 ? { stamp: w.w! } : {}),
    signature: w.sig,
  }
}

/** The bytes the account key signs: a domain-separation prefix, then the unsigned CBOR map. */
export function signedBytes(r: UnsignedContactRecord): Uint8Array {
  return concat([SIGNING_DOMAIN, encode(toWire(r))])
}

/** Wire bytes of a signed record. Throws InvalidRecordError if the record is malformed. */
export function encodeContactRecord(r: ContactRecord): Uint8Array {
  return encode(toWire(r, r.signature))
}

/**
 * Parse wire bytes. Checks canonical CBOR and the exact schema; it does NOT
 * check the signature, times or limits (see validateContactRecord).
 */
export function decodeContactRecord(bytes: Uint8Array): ContactRecord {
  if (!(bytes instanceof Uint8Array)) fail('not a byte array')
  let value: unknown
  try {
    value = decode(bytes, STRICT_DECODE)
  } catch (err) {
    return fail(`bad CBOR (${(err as Error).message})`, err)
  }
  let again: Uint8Array
  try {
    again = encode(value)
  } catch (err) {
    return fail('CBOR value cannot be re-encoded', err)
  }
  // cborg cannot enforce map key order or minimal floats on decode, and
  // replaces invalid UTF-8 with U+FFFD; any of these changes the re-encoding.
  if (!equals(again, bytes)) fail('CBOR is not in canonical form')
  return fromWire(checkWire(value, true) as WireRecord & { sig: Uint8Array })
}

/** Sign with the account's Ed25519 key, which must match `unsigned.publicKey`. */
export async function signContactRecord(
  unsigned: UnsignedContactRecord,
  privateKey: PrivateKey,
): Promise<ContactRecord> {
  if (privateKey.type !== 'Ed25519') fail('account keys must be Ed25519')
  if (!equals(privateKey.publicKey.raw, unsigned.publicKey)) {
    fail('publicKey does not belong to the signing key')
  }
  // Node's signer returns a Buffer; copy into a plain Uint8Array so records look
  // the same on every platform (and compare equal to decoded ones).
  const signature = new Uint8Array(await privateKey.sign(signedBytes(unsigned)))
  // Rebuild from the wire form so the result holds exactly the signed fields.
  return fromWire({ ...toWire(unsigned), sig: signature })
}

/** True if the signature is a valid Ed25519 signature by `publicKey`; never throws. */
export async function verifyContactRecordSignature(r: ContactRecord): Promise<boolean> {
  try {
    if (r.publicKey.length !== 32 || r.signature.length !== 64) return false
    const key = publicKeyFromRaw(r.publicKey)
    if (key.type !== 'Ed25519') return false
    return await key.verify(signedBytes(r), r.signature)
  } catch {
    return false
  }
}

/**
 * Parse a device's peer id bytes. Only key-derived peer ids are accepted
 * (libp2p also accepts "URL peer ids", which prove nothing), and the bytes must
 * be the peer id's canonical multihash.
 */
export function peerIdFromBytes(bytes: Uint8Array): PeerId {
  let peerId: PeerId
  try {
    peerId = peerIdFromMultihash(decodeMultihash(bytes))
  } catch (err) {
    return fail('device peerId is not a valid peer id', err)
  }
  if (peerId.type === 'url' || !equals(peerId.toMultihash().bytes, bytes)) {
    fail('device peerId is not a key-derived peer id')
  }
  return peerId
}

/**
 * Short key fingerprint for people to compare out of band: base32 of the first
 * 80 bits of SHA-256(publicKey), as `xxxx-xxxx-xxxx-xxxx`. Synchronous (noble's
 * pure-JS SHA-256) so it works the same in Node and the browser.
 */
export function fingerprint(publicKey: Uint8Array): string {
  const b32 = toString(sha256(publicKey).subarray(0, 10), 'base32')
  return (b32.match(/.{4}/g) ?? []).join('-')
}

const iso = (ms: number): string => new Date(ms).toISOString()

/** JSON view for the API; only devices still live at `now` are listed. */
export function contactRecordToJson(r: ContactRecord, now: number): ContactRecordJson {
  const devices = r.devices
    .filter((d) => d.expiresAt > now)
    .map((d) => ({
      peerId: peerIdFromBytes(d.peerId).toString(),
      addrs: d.addrs.map((a) => multiaddr(a).toString()),
      expiresAt: iso(d.expiresAt),
    }))
  return {
    name: r.name,
    publicKey: toString(r.publicKey, 'base64url'),
    fingerprint: fingerprint(r.publicKey),
    seq: r.seq,
    claimedAt: iso(r.claimedAt),
    issuedAt: iso(r.issuedAt),
    expiresAt: iso(r.expiresAt),
    devices,
    online: devices.length > 0,
  }
}
