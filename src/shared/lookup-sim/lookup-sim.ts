/**
 * The lookup simulation (issue 16 §5): lookups over 10^4–10^6 users with 1 %
 * supernodes, today's client-driven kad-dht lookup against a one-hop lookup
 * through the client's supernode, and what each costs a supernode in routing
 * upkeep under churn. Pure and seeded: bench/lookup-sim.mjs prints it, the
 * tests run it small.
 */
import { createPrng } from '../election/prng.js'
import { kadLookup, oneHopLookup } from './lookups.js'
import type { LookupResult } from './lookups.js'
import { membershipTraffic } from './membership-traffic.js'
import type { TrafficResult } from './membership-traffic.js'
import { XorSpace } from './xor-space.js'

export interface LookupSimOptions {
  users: number
  /** @default 0.01 */
  supernodeFraction?: number
  /** @default 1000 */
  lookups?: number
  /** @default 1 */
  seed?: number
  /** Supernodes a client knows when it looks up: its relay supernodes. @default 2 */
  clientKnows?: number
  /** kad-dht's α. @default 10 */
  alpha?: number
  /** Record holders that must agree (quorum-read.ts). @default 3 */
  agree?: number
  /** Replication K. @default 20 */
  k?: number
  /** Mean supernode session, seconds. @default 4 h */
  sessionS?: number
  /** From a supernode's death to every table knowing it, seconds (detection + gossip). @default 30 */
  staleS?: number
}

export interface DepthStats {
  p50: number
  p99: number
  mean: number
  messages: number
  success: number
}

export interface LookupSimResult {
  users: number
  supernodes: number
  kad: DepthStats
  oneHop: DepthStats
  traffic: TrafficResult
  kadBuckets: number
}

export function runLookupSim(opts: LookupSimOptions): LookupSimResult {
  const fraction = opts.supernodeFraction ?? 0.01
  const supernodes = Math.max(1, Math.round(opts.users * fraction))
  const lookups = opts.lookups ?? 1000
  const prng = createPrng(opts.seed ?? 1)
  const space = new XorSpace(supernodes, prng, opts.k ?? 20)
  const agree = Math.min(opts.agree ?? 3, space.k, supernodes)
  const sessionS = opts.sessionS ?? 4 * 3600
  const staleEntry = Math.min(1, (opts.staleS ?? 30) / sessionS)
  const kad: LookupResult[] = []
  const one: LookupResult[] = []
  for (let i = 0; i < lookups; i++) {
    const key = prng.int(2 ** 32) >>> 0
    const start = Array.from({ length: opts.clientKnows ?? 2 }, () => space.randomNode())
    kad.push(kadLookup(space, key, start, { alpha: opts.alpha ?? 10, agree }))
    one.push(oneHopLookup(space, key, prng, { agree, staleEntry }))
  }
  let buckets = 0
  const sample = Math.min(50, supernodes)
  for (let i = 0; i < sample; i++) buckets += space.filledBuckets(space.randomNode())
  const kadStats = depth(kad)
  const kadBuckets = buckets / sample
  return {
    users: opts.users,
    supernodes,
    kad: kadStats,
    oneHop: depth(one),
    kadBuckets,
    traffic: membershipTraffic({
      supernodes,
      clientsPerSupernode: Math.round((1 - fraction) / fraction),
      sessionS,
      kadRounds: kadStats.mean,
      kadBuckets,
    }),
  }
}

function depth(results: LookupResult[]): DepthStats {
  const rts = results.map((r) => r.roundTrips).sort((a, b) => a - b)
  const at = (q: number): number => rts[Math.min(rts.length - 1, Math.floor(q * rts.length))]!
  const sum = (f: (r: LookupResult) => number): number => results.reduce((s, r) => s + f(r), 0)
  return {
    p50: at(0.5),
    p99: at(0.99),
    mean: sum((r) => r.roundTrips) / results.length,
    messages: sum((r) => r.messages) / results.length,
    success: results.filter((r) => r.ok).length / results.length,
  }
}
