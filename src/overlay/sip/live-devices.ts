/**
 * A contact record's live devices as the router dials them (peer IDs and
 * multiaddrs), for sip-service.ts `resolve`.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { ALLOWED_SKEW_MS } from '../../shared/clock/clock-limits.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { ResolvedDevice } from './sip-router-types.js'

/**
 * Decoding multiaddrs is not free and a cached record is resolved for every
 * request, so the decoded form is memoised per record object.
 */
const decoded = new WeakMap<ContactRecord, Array<ResolvedDevice & { expiresAt: number }>>()

/** Live devices of a record as peer IDs and multiaddrs. */
export function liveDevices(record: ContactRecord, now = Date.now()): ResolvedDevice[] {
  let all = decoded.get(record)
  if (all == null) {
    all = record.devices.map((d) => ({
      peer: peerIdFromBytes(d.peerId).toString(),
      addrs: d.addrs.map((a) => multiaddr(a)),
      expiresAt: d.expiresAt,
    }))
    decoded.set(record, all)
  }
  // A device is tried until its expiry plus the allowed clock skew: a sender
  // whose clock runs a few minutes fast must not find a live device expired.
  return all.filter((d) => d.expiresAt + ALLOWED_SKEW_MS > now)
}
