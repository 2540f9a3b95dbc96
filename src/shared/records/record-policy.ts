/**
 * Limits and acceptance rules for contact records. Every DHT node that stores
 * or returns a record runs these, so they are pure: the caller passes `now`,
 * nothing here reads the clock, and the same inputs always give the same answer.
 */
import { ALLOWED_SKEW_MS } from '../clock/clock-limits.js'
import { equals } from 'uint8arrays'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidRecordError, NameTakenError, StaleRecordError } from '../errors.js'
import { isValidUserId } from '../user-id.js'
import {
  decodeContactRecord,
  peerIdFromBytes,
  verifyContactRecordSignature,
  type ContactRecord,
  type Device,
} from './contact-record.js'
import { nameFromRecordKey } from './dht-key.js'
import { chooseClaim, type RankOptions } from './claim-ranking.js'
import { CLAIM_POW_BITS, ClaimStampError, verifyClaimStamp } from './claim-pow.js'

/**
 * Caps what one name can cost a storing node. Not every combination of the
 * other limits fits: 8 devices × 8 IPv4 relay addrs is ~4040 bytes, with IPv6
 * or webrtc-direct addrs it is more, so publishers must trim addrs to fit.
 */
export const MAX_RECORD_BYTES = 4096
/** Devices per account (desktop, laptop, phone…); bounds record size and fan-out of a call. */
export const MAX_DEVICES = 8
/** Addresses per device; more rarely help and only make dialing slower. */
export const MAX_ADDRS_PER_DEVICE = 8
/** Tolerated disagreement between the signer's clock and ours, for issuedAt and TTL checks. */
export const MAX_CLOCK_SKEW_MS = ALLOWED_SKEW_MS
/** Lifetime of a device entry, like a SIP registration's Expires: a device that stops refreshing drops off. */
export const CONTACT_TTL_MS = 10 * 60_000
/** How often an online device republishes: half the TTL, so one lost refresh does not take it offline. */
export const CONTACT_REFRESH_MS = 5 * 60_000
/** Longest device lifetime a record may claim; stops a device advertising stale addrs for days. */
export const MAX_DEVICE_TTL_MS = 60 * 60_000
/** A name claim lapses unless refreshed within this time, so abandoned names become free again. */
export const CLAIM_TTL_MS = 30 * 24 * 3600_000
/** Longest claim lifetime storing nodes accept; equal to CLAIM_TTL_MS so nobody can squat longer. */
export const MAX_CLAIM_TTL_MS = CLAIM_TTL_MS

const bad = (reason: string, cause?: unknown): never => {
  throw new InvalidRecordError(`invalid contact record: ${reason}`, cause ? { cause } : undefined)
}

/** A record is live (its name claim holds) while expiresAt is in the future. */
export function isLive(r: ContactRecord, now: number): boolean {
  return r.expiresAt > now
}

export interface ValidateOptions {
  /**
   * Proof-of-work a v2 record's stamp must show (claim-pow.ts). Every node of
   * one network must use the same value.
   * @default CLAIM_POW_BITS
   */
  powBits?: number
}

/**
 * Full validation of a record fetched from or offered to the DHT: size,
 * canonical encoding, key/name match, signature, stamp, times and limits.
 * Returns the decoded record, or throws InvalidRecordError saying exactly what
 * is wrong.
 *
 * A v1 record (from before stamps) has no stamp to check and passes here:
 * readers keep resolving legacy claims until they lapse (CLAIM_TTL_MS). What a
 * storing node accepts is stricter; see checkFirstClaim.
 */
export async function validateContactRecord(
  key: Uint8Array,
  bytes: Uint8Array,
  now: number,
  options: ValidateOptions = {},
): Promise<ContactRecord> {
  // Size first: never spend CPU decoding or verifying an oversized blob.
  if (bytes.length > MAX_RECORD_BYTES) {
    bad(`${bytes.length} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`)
  }
  const keyName = nameFromRecordKey(key)
  const r = decodeContactRecord(bytes)
  if (r.name !== keyName) bad(`record is for "${r.name}" but stored under "${keyName}"`)
  if (!isValidUserId(r.name)) bad('name is not a valid user ID')
  // The stamp before the signature: one hash is cheaper than an Ed25519 verify.
  const powBits = options.powBits ?? CLAIM_POW_BITS
  if (r.v === 2 && !verifyClaimStamp(r.name, r.publicKey, r.stamp!, powBits)) {
    throw new ClaimStampError(
      `invalid contact record: proof-of-work stamp does not show ${powBits} bits of work`,
    )
  }
  if (!(await verifyContactRecordSignature(r))) bad('signature does not verify')

  if (r.issuedAt > now + MAX_CLOCK_SKEW_MS) bad('issuedAt is in the future')
  if (r.claimedAt > r.issuedAt) bad('claimedAt is after issuedAt')
  if (r.expiresAt <= now) bad('record has expired')
  if (r.expiresAt - r.issuedAt > MAX_CLAIM_TTL_MS + MAX_CLOCK_SKEW_MS) {
    bad('claim lifetime (expiresAt − issuedAt) is longer than allowed')
  }

  if (r.devices.length > MAX_DEVICES) bad(`more than ${MAX_DEVICES} devices`)
  r.devices.forEach((d, i) => {
    peerIdFromBytes(d.peerId)
    // at most MAX_DEVICES entries, so the quadratic scan is cheap
    if (r.devices.slice(0, i).some((o) => equals(o.peerId, d.peerId))) {
      bad(`device ${i} repeats a peer id`)
    }
    if (d.addrs.length > MAX_ADDRS_PER_DEVICE) {
      bad(`device ${i} has more than ${MAX_ADDRS_PER_DEVICE} addrs`)
    }
    d.addrs.forEach((a, j) => checkAddr(a, `device ${i} addr ${j}`))
    if (d.expiresAt > r.issuedAt + MAX_DEVICE_TTL_MS) bad(`device ${i} lifetime is too long`)
  })
  return r
}

/** Multiaddr bytes must parse, be non-empty, and be in canonical form. */
function checkAddr(a: Uint8Array, what: string): void {
  let bytes: Uint8Array
  try {
    bytes = multiaddr(a).bytes
  } catch (err) {
    return bad(`${what} is not a valid multiaddr`, err)
  }
  if (a.length === 0 || !equals(bytes, a)) bad(`${what} is not a canonical multiaddr`)
}

/**
 * The storing node's rule for replacing what it holds. Both records must
 * already have passed validateContactRecord. First come, first served: a live
 * claim can only be replaced by the same account key with a higher seq.
 */
export function checkReplaces(
  incoming: ContactRecord,
  incomingBytes: Uint8Array,
  existing: ContactRecord | undefined,
  existingBytes: Uint8Array | undefined,
  now: number,
): void {
  if (existing === undefined || !isLive(existing, now)) return
  if (!equals(incoming.publicKey, existing.publicKey)) throw new NameTakenError(existing.name)
  if (existingBytes !== undefined && equals(incomingBytes, existingBytes)) return // republish
  if (incoming.seq > existing.seq) return
  throw new StaleRecordError(
    `sequence number did not go up: incoming seq ${incoming.seq} is not greater than stored seq ${existing.seq} for "${existing.name}"`,
  )
}

/**
 * The storing node's rule for a record when it holds no live claim for the
 * name under the same key (a first claim, as far as this node knows): it must
 * carry a proof-of-work stamp. Legacy v1 records therefore only ever refresh a
 * claim a node already holds; they can never enter a node, or the network, as
 * a new claim. (Whether another key holds the name is checkReplaces's and the
 * neighbour check's business.)
 */
export function checkFirstClaim(incoming: ContactRecord): void {
  if (incoming.v === 1) {
    throw new ClaimStampError(
      `invalid contact record: a first claim for "${incoming.name}" must carry a proof-of-work stamp (record v2)`,
    )
  }
}

/**
 * Index of the record a DHT get should believe. Ranks by what this node
 * observed, never by the claimant's own claimedAt; see claim-ranking.ts.
 * Throws if `records` is empty.
 */
export function selectBestRecord(
  records: ContactRecord[],
  now: number,
  options: RankOptions = {},
): number {
  if (records.length === 0) throw new InvalidRecordError('no records to select from')
  return chooseClaim(records, now, options)
}

/**
 * The device list for a new publish from one device of a multi-device
 * account: this device first, then the other still-live devices from the
 * previous record (in their previous order), less those removed from the
 * account (`removed`). If that exceeds MAX_DEVICES, the
 * devices that would expire soonest are dropped.
 */
export function mergeDevices(
  previous: ContactRecord | undefined,
  own: Device,
  now: number,
  removed: (peerId: Uint8Array) => boolean = () => false,
): Device[] {
  const others = (previous?.devices ?? []).filter(
    (d) => d.expiresAt > now && !equals(d.peerId, own.peerId) && !removed(d.peerId),
  )
  const room = MAX_DEVICES - 1
  if (others.length > room) {
    // keep the `room` latest-expiring; stable sort keeps ties in previous order
    const keep = new Set(
      others
        .map((d, i) => ({ d, i }))
        .sort((x, y) => y.d.expiresAt - x.d.expiresAt || x.i - y.i)
        .slice(0, room)
        .map((x) => x.i),
    )
    return [own, ...others.filter((_, i) => keep.has(i))]
  }
  return [own, ...others]
}

/**
 * The seq for the next publish. Using the clock keeps seq rising even if a
 * device lost its state; the +1 keeps it rising if the clock went backwards.
 */
export function nextSeq(previousSeq: number | undefined, now: number): number {
  return Math.max(now, (previousSeq ?? 0) + 1)
}
