/**
 * The ~1% election: one node's decision to promote itself to supernode, step
 * down, or stay (design, "Supernodes": self-regulating, like Skype's). Every
 * node runs it on its own, every DECIDE_INTERVAL_MS, from what it observes;
 * there is no coordinator. Pure and deterministic: time and randomness are
 * inputs, so the same observation always gives the same answer.
 *
 * What the node must observe, and why:
 * - its own mode, role, capability and time in the current role (the `on` /
 *   `off` overrides, the capability gate, dwell-time hysteresis);
 * - load reports from a uniform sample of the supernodes it knows (for example
 *   from its DHT routing table), not only the ones it is attached to: those are
 *   sampled by size (a client is more likely attached to a crowded one) and
 *   would overstate the load. A supernode adds its own report (`own`);
 * - how many supernodes it knows of network-wide, from its routing table or
 *   peer store, not only the two or three it is connected to (the floor, and
 *   "never the last one": a client of a large network that counted only its
 *   own supernodes would think the network is below the floor);
 * - whether it knows any peer at all (the first node of a network).
 *
 * The control loop: the sampled mean load L (attachments over targets) is
 * kept between DEMOTE_BELOW_LOAD and PROMOTE_ABOVE_LOAD. Outside that band each
 * eligible node acts with a probability sized so that the expected number of
 * actors, network-wide, closes ELECTION_GAIN of the gap back to L = 1. Inside
 * the band nothing happens, and the minimum dwell in each role keeps a node
 * from flapping even when its samples disagree from one round to the next.
 */
import type { Role, SupernodeMode } from '../api/contract.js'
import { CLIENT_ATTACHMENTS, isFresh, loadOf, type LoadReport } from './load-report.js'

/**
 * How often the node runs `decide` (add ±20% jitter so nodes do not act in
 * lock-step). One simulation round is one interval.
 *
 * @default 60_000
 */
export const DECIDE_INTERVAL_MS = 60_000

/**
 * Capable clients promote when the mean load is above this (the high
 * watermark). Just above 1, so that churn, which only ever removes supernodes,
 * keeps the load between 1 and this and the fraction near 1% (0.94% at 1.05).
 *
 * @default 1.05
 */
export const PROMOTE_ABOVE_LOAD = 1.05

/**
 * Supernodes step down when the mean load is below this (the low watermark; at
 * 0.8 the fraction is 1.24%). The gap to PROMOTE_ABOVE_LOAD is the hysteresis
 * band: a step-down cannot push the load over the promotion line.
 *
 * @default 0.8
 */
export const DEMOTE_BELOW_LOAD = 0.8

/**
 * Share of the gap to load 1 that one round of decisions aims to close. Below 1
 * so that noisy samples and stale reports do not overshoot into the opposite
 * watermark.
 *
 * @default 0.5
 */
export const ELECTION_GAIN = 0.5

/**
 * Supernodes the network keeps when it has enough capable nodes: a step-down
 * never takes the count below this, and capable clients promote while fewer
 * are known, so that every client can attach to CLIENT_ATTACHMENTS of them
 * with one to spare. A network with no capable node still works with one.
 *
 * @default 3
 */
export const MIN_SUPERNODES = 3

/**
 * Least time a node serves before it may step down (hysteresis): its clients
 * attached recently and the DHT moved records to it.
 *
 * @default 1_800_000 (30 min)
 */
export const MIN_SUPERNODE_DWELL_MS = 30 * 60_000

/**
 * Least time a node is a client before it may promote (hysteresis), so a node
 * that just stepped down does not come straight back.
 *
 * @default 600_000 (10 min)
 */
export const MIN_CLIENT_DWELL_MS = 10 * 60_000

/**
 * Reports a node asks for per decision. Eight reports of ~200 attachments give
 * the mean load within a few percent when loads are balanced.
 *
 * @default 8
 */
export const LOAD_SAMPLE_SIZE = 8

/** The policy's knobs; tests of real nodes shorten the dwell times. */
export interface PolicyTuning {
  /** @default PROMOTE_ABOVE_LOAD */
  promoteAboveLoad: number
  /** @default DEMOTE_BELOW_LOAD */
  demoteBelowLoad: number
  /** @default ELECTION_GAIN */
  gain: number
  /** @default MIN_SUPERNODES */
  minSupernodes: number
  /** @default MIN_SUPERNODE_DWELL_MS */
  minSupernodeDwellMs: number
  /** @default MIN_CLIENT_DWELL_MS */
  minClientDwellMs: number
}

export const DEFAULT_POLICY_TUNING: Readonly<PolicyTuning> = Object.freeze({
  promoteAboveLoad: PROMOTE_ABOVE_LOAD,
  demoteBelowLoad: DEMOTE_BELOW_LOAD,
  gain: ELECTION_GAIN,
  minSupernodes: MIN_SUPERNODES,
  minSupernodeDwellMs: MIN_SUPERNODE_DWELL_MS,
  minClientDwellMs: MIN_CLIENT_DWELL_MS,
})

export interface ElectionInput {
  mode: SupernodeMode
  role: Role
  /** `isCapable(...)` for this node now. */
  capable: boolean
  /** Time since the node took its current role (or came online), ms. */
  timeInRoleMs: number
  /** Now, ms since the epoch, on the clock the reports' `at` is compared with. */
  now: number
  /**
   * Reports from a uniform sample (LOAD_SAMPLE_SIZE) of the other supernodes
   * this node knows; stale ones are ignored.
   */
  reports: readonly LoadReport[]
  /** This node's own report, when it is a supernode (it counts in the mean). */
  own?: LoadReport
  /** Live supernodes this node knows of, itself included when it is one. */
  supernodesKnown: number
  /** Peers of any role this node knows (connected or in its routing table). */
  peersKnown: number
  /** Uniform in [0, 1), fresh for every call. */
  random: number
  /** Overrides of DEFAULT_POLICY_TUNING. */
  tuning?: Partial<PolicyTuning>
}

export type ElectionAction = 'promote' | 'demote' | 'stay'

export interface ElectionDecision {
  action: ElectionAction
  /** Why, for the log and `kaiwa status`. */
  reason: string
}

/** Sums over the fresh reports of a sample. */
export interface LoadSample {
  /** Fresh reports used. */
  reports: number
  /** Fresh reports of supernodes that stay (not stepping down). */
  serving: number
  /** Attachments on all of them, including supernodes stepping down (those clients move). */
  clients: number
  /** Candidate attachments on all of them. */
  candidates: number
  /** Largest candidate count of one report. */
  maxCandidates: number
  /** Targets of the ones that stay (stepping-down supernodes add no capacity). */
  target: number
  /** clients / target; Infinity when every sampled supernode is stepping down. */
  load: number
}

export function summarizeReports(reports: readonly LoadReport[], now: number): LoadSample {
  const s = {
    reports: 0,
    serving: 0,
    clients: 0,
    candidates: 0,
    maxCandidates: 0,
    target: 0,
    load: 0,
  }
  for (const r of reports) {
    if (!isFresh(r, now)) continue
    s.reports++
    s.clients += r.clients
    s.candidates += r.candidates
    s.maxCandidates = Math.max(s.maxCandidates, r.candidates)
    if (r.steppingDown) continue
    s.serving++
    s.target += r.target
  }
  s.load = s.target > 0 ? s.clients / s.target : s.reports > 0 ? Infinity : 0
  return s
}

const stay = (reason: string): ElectionDecision => ({ action: 'stay', reason })
const promote = (reason: string): ElectionDecision => ({ action: 'promote', reason })
const demote = (reason: string): ElectionDecision => ({ action: 'demote', reason })
const pct = (p: number): string => `${(p * 100).toFixed(1)}%`

/** Decide what this node does now. Call it every DECIDE_INTERVAL_MS (with jitter). */
export function decide(input: ElectionInput): ElectionDecision {
  if (input.mode === 'on') {
    return input.role === 'supernode' ? stay('mode on: always serves') : promote('mode on')
  }
  if (input.mode === 'off') {
    return input.role === 'supernode' ? demote('mode off: never serves') : stay('mode off')
  }
  const t =
    input.tuning == null ? DEFAULT_POLICY_TUNING : { ...DEFAULT_POLICY_TUNING, ...input.tuning }
  return input.role === 'client' ? decideAsClient(input, t) : decideAsSupernode(input, t)
}

function decideAsClient(input: ElectionInput, t: PolicyTuning): ElectionDecision {
  // Alone, an opted-in node waits to be given a network (an invite or a
  // bootstrap peer): founding a new one is the user's explicit act (`on`),
  // never the election's, so two strangers' nodes never become two networks.
  if (input.supernodesKnown === 0 && input.peersKnown === 0) {
    return stay('no peers and no supernode: waiting to join a network')
  }
  if (!input.capable) return stay('not capable')
  if (input.timeInRoleMs < t.minClientDwellMs) return stay('client dwell time not reached')

  const sample = summarizeReports(input.reports, input.now)
  const active = input.supernodesKnown - (sample.reports - sample.serving)
  const pFloor = floorProbability(sample, active, t.minSupernodes, input.peersKnown)
  const pLoad = sample.load > t.promoteAboveLoad ? promoteProbability(sample, active, t.gain) : 0
  const p = Math.max(pFloor, pLoad)
  if (p === 0) {
    return sample.reports === 0
      ? stay('no fresh load reports')
      : stay(`mean load ${pct(sample.load)} of target, not above ${pct(t.promoteAboveLoad)}`)
  }
  const why =
    pFloor >= pLoad
      ? `${active} supernodes known, below the floor of ${t.minSupernodes}`
      : `mean load ${pct(sample.load)} of target`
  return input.random < p
    ? promote(`${why} (p=${pct(p)})`)
    : stay(`${why}; another candidate is likelier to act (p=${pct(p)})`)
}

/**
 * Below MIN_SUPERNODES the node knows every supernode, and each candidate is
 * attached to all of them (or to CLIENT_ATTACHMENTS of them), so the largest
 * candidate count is how many candidates see the same deficit. Until some
 * client is counted (a cold start, or no supernode at all) the reports say
 * nothing, so every known peer is assumed to be a candidate: promotions then
 * trickle in over a few rounds instead of every candidate promoting at once.
 */
function floorProbability(
  sample: LoadSample,
  active: number,
  floor: number,
  peersKnown: number,
): number {
  if (active >= floor) return 0
  const candidates = sample.clients > 0 ? sample.maxCandidates : peersKnown
  return Math.min(1, (floor - active) / Math.max(1, candidates))
}

/**
 * Probability that sizes promotions to ELECTION_GAIN of the excess.
 *
 * At mean load L the S serving supernodes need S·(L − 1) more to bring the load
 * to 1. Each candidate attaches to k supernodes, so with a candidate
 * attachments per sampled supernode there are S·a/k distinct candidates. Each
 * promotes with ELECTION_GAIN·(L − 1)·k/a: S cancels, so no node needs the
 * network's size, only its sample.
 */
export function promoteProbability(
  sample: LoadSample,
  supernodesKnown: number,
  gain = ELECTION_GAIN,
): number {
  if (sample.serving === 0 || !(sample.load > 1)) return 0
  const k = Math.max(1, Math.min(CLIENT_ATTACHMENTS, supernodesKnown))
  // The node itself is a candidate, so at least one exists even when the sample
  // happens to miss every candidate attachment.
  const candidatesPerServing = Math.max(sample.candidates, 1) / sample.serving
  const p = (gain * (sample.load - 1) * k) / candidatesPerServing
  return Math.min(1, p)
}

function decideAsSupernode(input: ElectionInput, t: PolicyTuning): ElectionDecision {
  const seen = summarizeReports(input.reports, input.now)
  const sample =
    input.own == null ? seen : summarizeReports([input.own, ...input.reports], input.now)
  // What is left if this one goes, besides those already leaving.
  const others = input.supernodesKnown - 1 - (seen.reports - seen.serving)
  if (others < 1) return stay('the last supernode never steps down')
  if (input.timeInRoleMs < t.minSupernodeDwellMs) {
    return stay('supernode dwell time not reached')
  }
  if (!input.capable) return demote('no longer capable; other supernodes remain')
  if (others < t.minSupernodes) return stay(`at the floor of ${t.minSupernodes} supernodes`)
  if (input.own == null || sample.reports === 0) return stay('no fresh load reports')
  if (!(sample.load < t.demoteBelowLoad)) {
    return stay(`mean load ${pct(sample.load)} of target, not below ${pct(t.demoteBelowLoad)}`)
  }
  // The lightly loaded go first: fewer clients have to move, and a sample that
  // reads low only because it caught a few new, still-filling supernodes does
  // not take down a full one.
  const ownLoad = loadOf(input.own)
  if (!(ownLoad < t.demoteBelowLoad)) {
    return stay(`own load ${pct(ownLoad)} of target, not below ${pct(t.demoteBelowLoad)}`)
  }
  const p = demoteProbability(sample.load, others + 1, t)
  return input.random < p
    ? demote(`mean load ${pct(sample.load)} of target (p=${pct(p)})`)
    : stay(`mean load ${pct(sample.load)}; another supernode is likelier to act (p=${pct(p)})`)
}

/**
 * Probability that sizes step-downs to ELECTION_GAIN of the surplus: at mean
 * load L, S·(1 − L) supernodes are too many, and every supernode decides, so
 * each steps down with ELECTION_GAIN·(1 − L). Capped so the expected number of
 * step-downs among the `active` supernodes it knows stays within the floor:
 * in a small network two of four must not both leave in the same round.
 */
export function demoteProbability(
  load: number,
  active: number,
  t: Pick<PolicyTuning, 'gain' | 'minSupernodes'> = DEFAULT_POLICY_TUNING,
): number {
  const bySurplus = t.gain * (1 - load)
  const byFloor = (t.gain * (active - t.minSupernodes)) / active
  return Math.min(1, Math.max(0, Math.min(bySurplus, byFloor)))
}
