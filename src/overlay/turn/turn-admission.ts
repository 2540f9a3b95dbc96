/**
 * Who may have TURN credentials from this supernode (issue 11: "any overlay
 * member can get TURN credentials"). A TURN relay spends the operator's
 * bandwidth, and RFC 8656 §21 asks a server to limit what one client can make
 * it do, so Noise-authenticated is not enough. A peer is admitted when it is
 *
 * - attached: it holds a circuit-relay reservation on this supernode (this
 *   supernode already serves it, and the reservation store caps how many), or
 * - a device of a claimed name: it names a user ID whose live, verified
 *   contact record lists its peer ID as a live device (`deviceOf`, a DHT
 *   lookup the composition root wires),
 *
 * and only at a bounded rate: every request costs a token from the asking
 * peer's bucket (before any lookup, so refused requests are bounded too), and
 * every issuance under a name a token from that name's bucket (charged only
 * once the name is verified, so nobody can drain someone else's). Concurrent
 * lookups are capped, so Sybil peers cannot turn the supernode into a DHT
 * query amplifier.
 */
import { peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { TokenBucketLimiter } from './rate-limit.js'
import type { TokenBucketOptions } from './rate-limit.js'

/** Why a supernode refused; sent as the reply's `error`. */
export type TurnRefusal =
  /** This node does not relay now (not a supernode, or TURN is off). */
  | 'not_serving'
  /** Neither attached nor a verified device of the named user ID (or no name was sent). */
  | 'not_admitted'
  /** Over the per-peer or per-name issuance rate. */
  | 'rate_limited'
  /** The name could not be checked in time (lookup failed or timed out), or too many checks run. */
  | 'unverified'
  /** The request is malformed (e.g. the name is not a valid user ID). */
  | 'invalid_request'

/**
 * True when the live, verified record of `name` lists `peerId` as a live
 * device. Verification (signature, quorum) is the callee's: the composition
 * root backs this with the user directory's lookup.
 */
export type DeviceOf = (
  name: string,
  peerId: string,
  options: { signal: AbortSignal },
) => Promise<boolean>

export interface TurnIssueLimits {
  /** Requests per asking peer. @default { ratePerS: 1/60, burst: 10 } */
  perPeer?: TokenBucketOptions
  /** Issuances per user ID (all its devices together). @default { ratePerS: 1/30, burst: 20 } */
  perName?: TokenBucketOptions
  /** Name checks (DHT lookups) running at once. @default 16 */
  maxConcurrentChecks?: number
  /** Budget for one name check; under the exchange's 5 s deadline. @default 3000 */
  checkTimeoutMs?: number
}

export interface TurnAdmissionInit {
  deviceOf: DeviceOf
  /** True while `peerId` holds a relay reservation on this node. */
  isAttached: (peerId: string) => boolean
  limits?: TurnIssueLimits
  /** @default Date.now */
  now?: () => number
}

/** Undefined: admitted. Otherwise the refusal to send. */
export type TurnAdmit = (
  peerId: string,
  name: string | undefined,
  options: { signal: AbortSignal },
) => Promise<TurnRefusal | undefined>

// Credentials live an hour and clients reuse them, so a device needs a few an hour:
// ten at once and one a minute after that leave room for restarts and many calls.
export const DEFAULT_PER_PEER: TokenBucketOptions = { ratePerS: 1 / 60, burst: 10 }
export const DEFAULT_PER_NAME: TokenBucketOptions = { ratePerS: 1 / 30, burst: 20 }
export const DEFAULT_MAX_CONCURRENT_CHECKS = 16
export const DEFAULT_CHECK_TIMEOUT_MS = 3000

export function createTurnAdmission(init: TurnAdmissionInit): TurnAdmit {
  // Both edges are required: without them the supernode would have to guess, and the only
  // safe guess (refuse everyone) would look like a network fault to every client.
  if (typeof init.deviceOf !== 'function' || typeof init.isAttached !== 'function') {
    throw new TypeError(
      'TURN credentials need deviceOf(name, peerId, {signal}) and isAttached(peerId) callbacks',
    )
  }
  const now = init.now ?? Date.now
  const limits = init.limits ?? {}
  // Idle buckets are forgotten once they would be full again, so memory stays bounded.
  const bucket = (o: TokenBucketOptions): TokenBucketLimiter =>
    new TokenBucketLimiter({ idleMs: Math.ceil((o.burst / o.ratePerS) * 1000), ...o })
  const perPeer = bucket(limits.perPeer ?? DEFAULT_PER_PEER)
  const perName = bucket(limits.perName ?? DEFAULT_PER_NAME)
  const maxChecks = limits.maxConcurrentChecks ?? DEFAULT_MAX_CONCURRENT_CHECKS
  const checkTimeoutMs = limits.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS
  let checks = 0

  const verify = async (name: string, peerId: string, signal: AbortSignal): Promise<boolean> => {
    const budget = AbortSignal.any([signal, AbortSignal.timeout(checkTimeoutMs)])
    // A callback that ignores its signal still cannot hold the reply past the budget.
    let onAbort: (() => void) | undefined
    const expired = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error('the name check ran out of time'))
      if (budget.aborted) onAbort()
      else budget.addEventListener('abort', onAbort, { once: true })
    })
    checks++
    try {
      return (
        (await Promise.race([init.deviceOf(name, peerId, { signal: budget }), expired])) === true
      )
    } finally {
      checks--
      budget.removeEventListener('abort', onAbort!)
      expired.catch(() => {}) // settled or never settling: either way nobody waits on it
    }
  }

  return async (peerId, name, { signal }) => {
    if (!perPeer.take(peerId, now())) return 'rate_limited'
    if (init.isAttached(peerId)) return undefined
    if (name === undefined) return 'not_admitted'
    if (checks >= maxChecks) return 'unverified'
    let isDevice: boolean
    try {
      isDevice = await verify(name, peerId, signal)
    } catch {
      return 'unverified'
    }
    if (!isDevice) return 'not_admitted'
    return perName.take(name, now()) ? undefined : 'rate_limited'
  }
}

/**
 * The check `deviceOf` makes on a looked-up record: the record itself is
 * still live, and lists `peerId` as a device that has not expired.
 */
export function recordListsDevice(record: ContactRecord, peerId: string, now: number): boolean {
  if (record.expiresAt <= now) return false
  return record.devices.some((d) => {
    if (d.expiresAt <= now) return false
    try {
      return peerIdFromBytes(d.peerId).toString() === peerId
    } catch {
      return false // a device entry whose bytes are no peer ID lists nobody
    }
  })
}
