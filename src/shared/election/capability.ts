/**
 * Whether this node may serve as a supernode at all (design, "Supernodes":
 * capable). A supernode is the DHT server, circuit relay, STUN/TURN server and
 * mailbox for about a hundred clients, so a node behind NAT, on a thin uplink
 * or that just came online would serve them badly. Pure: the caller measures
 * reachability, uplink and uptime and passes them in.
 */
import type { SupernodeMode } from '../api/contract.js'

/**
 * Least uplink a supernode needs, kbit/s. Each supernode carries ~100 clients'
 * DHT traffic and relays the calls that ICE cannot connect directly: a relayed
 * Opus call is ~100 kbit/s both ways, and a few such calls at once plus DHT and
 * mailbox traffic fit in 5 Mbit/s with headroom for the user's own calls.
 *
 * @default 5000
 */
export const MIN_UPLINK_KBPS = 5_000

/**
 * Least time online (this session) before a node may promote itself. Session
 * lengths are heavy-tailed: a node that has stayed 30 minutes is likely to stay
 * much longer, while most short sessions end within minutes and would leave
 * their clients to re-attach.
 *
 * @default 1_800_000 (30 min)
 */
export const MIN_UPTIME_MS = 30 * 60_000

/** The thresholds `checkCapability` applies; tests and operators may pass others. */
export interface CapabilityThresholds {
  /** @default MIN_UPLINK_KBPS */
  minUplinkKbps: number
  /** @default MIN_UPTIME_MS */
  minUptimeMs: number
}

export const DEFAULT_CAPABILITY_THRESHOLDS: Readonly<CapabilityThresholds> = Object.freeze({
  minUplinkKbps: MIN_UPLINK_KBPS,
  minUptimeMs: MIN_UPTIME_MS,
})

/** What the node knows about itself, measured by the caller. */
export interface CapabilityInput {
  mode: SupernodeMode
  /** AutoNAT (or a UDP dial-back) confirmed a public, direct address. */
  publicReachable: boolean
  /**
   * A peer outside reached our STUN/TURN port. Separate from AutoNAT, which only
   * tests the libp2p TCP port: a firewall may pass one and drop the other.
   */
  turnReachable: boolean
  /** Measured (or operator-configured) uplink, kbit/s. */
  uplinkKbps: number
  /** Time since this node came online, ms. */
  uptimeMs: number
}

export type CapabilityGap =
  'opted-out' | 'not-reachable' | 'turn-not-reachable' | 'low-uplink' | 'low-uptime'

export interface CapabilityResult {
  capable: boolean
  /** Every unmet requirement, for `kaiwa status` and logs (empty when capable). */
  missing: CapabilityGap[]
}

/**
 * `on` is the operator's word and skips every check; `off` is never capable;
 * `auto` needs all of: public reachability, a reachable TURN port, uplink and
 * uptime at or above the thresholds.
 */
export function checkCapability(
  input: CapabilityInput,
  thresholds: CapabilityThresholds = DEFAULT_CAPABILITY_THRESHOLDS,
): CapabilityResult {
  if (input.mode === 'on') return { capable: true, missing: [] }
  if (input.mode === 'off') return { capable: false, missing: ['opted-out'] }
  const missing: CapabilityGap[] = []
  if (!input.publicReachable) missing.push('not-reachable')
  if (!input.turnReachable) missing.push('turn-not-reachable')
  // NaN (an unmeasured uplink) fails the comparison, which is the safe answer.
  if (!(input.uplinkKbps >= thresholds.minUplinkKbps)) missing.push('low-uplink')
  if (!(input.uptimeMs >= thresholds.minUptimeMs)) missing.push('low-uptime')
  return { capable: missing.length === 0, missing }
}

/** True when `checkCapability` finds nothing missing. */
export function isCapable(
  input: CapabilityInput,
  thresholds: CapabilityThresholds = DEFAULT_CAPABILITY_THRESHOLDS,
): boolean {
  return checkCapability(input, thresholds).capable
}
