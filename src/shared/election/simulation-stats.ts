/**
 * What a simulation run shows, and its verdict against the goal: the
 * supernode fraction settles at 1% ± 0.3%, and no client is ever left without
 * a supernode.
 */

/** @default 0.01 */
export const TARGET_FRACTION = 0.01
/** @default 0.003 */
export const FRACTION_TOLERANCE = 0.003

/** One round's figures, taken at its end (after re-attachment). */
export interface RoundStats {
  round: number
  /** Live nodes (constant: every leaving node is replaced by a joining one). */
  nodes: number
  /** Live supernodes, including ones handing off. */
  supernodes: number
  /** supernodes / nodes. */
  fraction: number
  /** All attachments over all targets (the load every node samples). */
  meanLoad: number
  /** Capable `auto` clients: the nodes that could promote. */
  candidates: number
  promotions: number
  /** Step-downs started (the node hands off for one round, then becomes a client). */
  demotions: number
  /** Role changes reversing the node's previous change within FLAP_WINDOW_ROUNDS. */
  flaps: number
  /** Nodes that left (and as many joined). */
  leaves: number
  /** Supernodes among them: they left abruptly, without a handoff. */
  supernodesLost: number
  /** Clients attached to no live supernode after re-attachment. */
  orphans: number
}

export interface SimulationSummary {
  nodes: number
  rounds: number
  warmupRounds: number
  /** Over the rounds after warm-up. */
  fractionMean: number
  fractionMin: number
  fractionMax: number
  supernodesMean: number
  meanLoad: number
  promotionsPerRound: number
  demotionsPerRound: number
  flapsPerRound: number
  leavesPerRound: number
  supernodesLostPerRound: number
  /** Over every round, warm-up included. */
  orphansMax: number
  /** First round from which the fraction stays in the band to the end; null if never. */
  settleRound: number | null
  pass: boolean
  /** Why it failed (empty on pass). */
  failures: string[]
}

const inBand = (f: number): boolean => Math.abs(f - TARGET_FRACTION) <= FRACTION_TOLERANCE + 1e-12

export function summarize(
  stats: readonly RoundStats[],
  nodes: number,
  warmupRounds: number,
): SimulationSummary {
  const steady = stats.slice(warmupRounds)
  const mean = (f: (s: RoundStats) => number): number =>
    steady.length === 0 ? NaN : steady.reduce((a, s) => a + f(s), 0) / steady.length
  const fractions = steady.map((s) => s.fraction)
  let settleRound: number | null = stats.length
  for (let i = stats.length - 1; i >= 0; i--) {
    if (!inBand(stats[i]!.fraction)) break
    settleRound = i
  }
  if (settleRound === stats.length) settleRound = null
  const orphansMax = stats.reduce((a, s) => Math.max(a, s.orphans), 0)
  const summary: SimulationSummary = {
    nodes,
    rounds: stats.length,
    warmupRounds,
    fractionMean: mean((s) => s.fraction),
    fractionMin: fractions.length ? Math.min(...fractions) : NaN,
    fractionMax: fractions.length ? Math.max(...fractions) : NaN,
    supernodesMean: mean((s) => s.supernodes),
    meanLoad: mean((s) => s.meanLoad),
    promotionsPerRound: mean((s) => s.promotions),
    demotionsPerRound: mean((s) => s.demotions),
    flapsPerRound: mean((s) => s.flaps),
    leavesPerRound: mean((s) => s.leaves),
    supernodesLostPerRound: mean((s) => s.supernodesLost),
    orphansMax,
    settleRound,
    pass: false,
    failures: [],
  }
  if (steady.length === 0) summary.failures.push('no rounds after warm-up')
  if (!inBand(summary.fractionMean)) summary.failures.push('mean fraction outside 1% ± 0.3%')
  if (!inBand(summary.fractionMin) || !inBand(summary.fractionMax)) {
    summary.failures.push('fraction left 1% ± 0.3% after warm-up')
  }
  if (orphansMax > 0) summary.failures.push(`${orphansMax} orphaned clients in a round`)
  summary.pass = summary.failures.length === 0
  return summary
}
