/**
 * Who the simulated nodes are: their capabilities and how long they stay. The
 * defaults are a plausible mix for a consumer softphone, not measurements:
 * most users sit behind NAT, a minority have a public address (IPv6, a mapped
 * port, a server), some of those block the TURN port, some opted out, uplinks
 * vary over two orders of magnitude, and session lengths are heavy-tailed (many
 * short sessions, a few that last days), as P2P measurement studies find.
 */
import type { Prng } from './prng.js'

export interface PopulationMix {
  /**
   * Share of nodes whose public address AutoNAT confirms.
   *
   * @default 0.15
   */
  publicShare: number
  /**
   * Of those, the share whose TURN port is reachable from outside too.
   *
   * @default 0.85
   */
  turnReachableShare: number
  /**
   * Share of nodes running `--supernode auto` (the default); the rest run `off`.
   *
   * @default 0.6
   */
  autoShare: number
  /**
   * `on` nodes per node (operators' servers and the bootstrap list: public,
   * fast, always up), at least one.
   *
   * @default 0.0003
   */
  onShare: number
  /**
   * Median uplink, kbit/s (log-normal).
   *
   * @default 15_000
   */
  uplinkMedianKbps: number
  /**
   * Log-normal shape of the uplink: with σ = 1 the middle 68% span 5.5–41 Mbit/s.
   *
   * @default 1
   */
  uplinkSigma: number
  /**
   * Median session length, minutes (log-normal).
   *
   * @default 60
   */
  sessionMedianMin: number
  /**
   * Log-normal shape of the session length. σ = 1.5 gives a mean three times
   * the median and a few sessions of days: a heavy tail.
   *
   * @default 1.5
   */
  sessionSigma: number
}

export const DEFAULT_POPULATION_MIX: Readonly<PopulationMix> = Object.freeze({
  publicShare: 0.15,
  turnReachableShare: 0.85,
  autoShare: 0.6,
  onShare: 0.0003,
  uplinkMedianKbps: 15_000,
  uplinkSigma: 1,
  sessionMedianMin: 60,
  sessionSigma: 1.5,
})

export const MODE_OFF = 0
export const MODE_AUTO = 1
export const MODE_ON = 2
export type ModeCode = typeof MODE_OFF | typeof MODE_AUTO | typeof MODE_ON

export interface NodeProfile {
  mode: ModeCode
  publicReachable: boolean
  turnReachable: boolean
  uplinkKbps: number
  /** Whole session, in rounds (at least one). */
  sessionRounds: number
  /** Rounds already online when the simulation starts (0 for a node joining). */
  ageRounds: number
}

/** How many `on` nodes a network of `nodes` has. */
export function onNodeCount(nodes: number, mix: PopulationMix): number {
  return Math.max(1, Math.round(nodes * mix.onShare))
}

/** An operator's `on` node: public, reachable, fast, never leaves. */
export function onNodeProfile(): NodeProfile {
  return {
    mode: MODE_ON,
    publicReachable: true,
    turnReachable: true,
    uplinkKbps: 100_000,
    sessionRounds: Number.POSITIVE_INFINITY,
    ageRounds: 0,
  }
}

/**
 * An ordinary node. With `stationary`, it is one already online when the
 * simulation starts: seen at a random moment, a node is more likely in a long
 * session (length-biased sampling; for a log-normal that shifts the median by
 * e^{σ²}), and it is uniformly far into it. Otherwise it joins now.
 */
export function drawNodeProfile(
  rng: Prng,
  mix: PopulationMix,
  roundMinutes: number,
  stationary: boolean,
): NodeProfile {
  const publicReachable = rng.next() < mix.publicShare
  const turnReachable = publicReachable && rng.next() < mix.turnReachableShare
  const mode = rng.next() < mix.autoShare ? MODE_AUTO : MODE_OFF
  const uplinkKbps = rng.logNormal(mix.uplinkMedianKbps, mix.uplinkSigma)
  const median = stationary
    ? mix.sessionMedianMin * Math.exp(mix.sessionSigma ** 2)
    : mix.sessionMedianMin
  const length = Math.max(1, Math.round(rng.logNormal(median, mix.sessionSigma) / roundMinutes))
  const ageRounds = stationary ? Math.floor(rng.next() * length) : 0
  return { mode, publicReachable, turnReachable, uplinkKbps, sessionRounds: length, ageRounds }
}

/**
 * How many nodes are online in each round. `steady`: always `nodes` (each
 * leaving node is replaced at once). `wave`: an evening — steady for the first
 * quarter, then half the clients leave over the second quarter while the
 * supernodes stay, and as many join over the third: the load per supernode
 * halves and recovers, which is what drives step-downs and re-promotions.
 */
export type PopulationScenario = 'steady' | 'wave'

export function populationCurve(
  scenario: PopulationScenario,
  nodes: number,
  rounds: number,
): (round: number) => number {
  if (scenario === 'steady') return () => nodes
  const q = rounds / 4
  return (r) => {
    if (r < q) return nodes
    if (r < 2 * q) return Math.round(nodes * (1 - (0.5 * (r - q)) / q))
    if (r < 3 * q) return Math.round(nodes * (0.5 + (0.5 * (r - 2 * q)) / q))
    return nodes
  }
}
