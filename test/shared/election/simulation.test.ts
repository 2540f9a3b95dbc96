import { describe, it, expect } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import { createPrng } from '../../../src/shared/election/prng.js'
import { runSimulation } from '../../../src/shared/election/simulation.js'
import {
  FRACTION_TOLERANCE,
  TARGET_FRACTION,
} from '../../../src/shared/election/simulation-stats.js'

const SEED = 42

describe('election simulation', () => {
  for (const nodes of [1_000, 10_000]) {
    it(`${nodes} nodes with churn settle at 1% ± 0.3% with no orphaned client`, () => {
      const { summary, stats } = runSimulation({ nodes, rounds: 360, seed: SEED })
      expect(summary.failures).toEqual([])
      expect(summary.pass).toBe(true)
      expect(Math.abs(summary.fractionMean - TARGET_FRACTION)).toBeLessThanOrEqual(
        FRACTION_TOLERANCE,
      )
      expect(summary.fractionMin).toBeGreaterThanOrEqual(TARGET_FRACTION - FRACTION_TOLERANCE)
      expect(summary.fractionMax).toBeLessThanOrEqual(TARGET_FRACTION + FRACTION_TOLERANCE)
      expect(stats.every((s) => s.orphans === 0)).toBe(true)
      // Nodes and supernodes really churned, and the cold start settled quickly.
      expect(summary.leavesPerRound).toBeGreaterThan(nodes / 500)
      expect(stats.reduce((a, s) => a + s.supernodesLost, 0)).toBeGreaterThan(0)
      expect(summary.settleRound).not.toBeNull()
      expect(summary.settleRound!).toBeLessThan(30)
    })
  }

  it('10,000 nodes through an evening (half the clients leave and return): step-downs, no orphans', () => {
    const { summary } = runSimulation({ nodes: 10_000, rounds: 360, seed: SEED, scenario: 'wave' })
    expect(summary.failures).toEqual([])
    expect(summary.demotionsPerRound).toBeGreaterThan(0)
    expect(summary.orphansMax).toBe(0)
  })

  it('is deterministic for a seed', () => {
    const a = runSimulation({ nodes: 2_000, rounds: 60, seed: 7, warmupRounds: 10 })
    const b = runSimulation({ nodes: 2_000, rounds: 60, seed: 7, warmupRounds: 10 })
    const c = runSimulation({ nodes: 2_000, rounds: 60, seed: 8, warmupRounds: 10 })
    expect(b.stats).toEqual(a.stats)
    expect(c.stats).not.toEqual(a.stats)
  })

  it('refuses nonsense options with a named error', () => {
    expect(() => runSimulation({ nodes: 1, rounds: 10, seed: 1 })).toThrow(InvalidInputError)
    expect(() => runSimulation({ nodes: 100, rounds: 0, seed: 1 })).toThrow(InvalidInputError)
    expect(() => runSimulation({ nodes: 100, rounds: 10, seed: Number.NaN })).toThrow(
      InvalidInputError,
    )
  })
})

describe('seeded PRNG', () => {
  it('repeats for a seed and is roughly uniform', () => {
    const a = createPrng(1)
    const b = createPrng(1)
    const xs = Array.from({ length: 10_000 }, () => a.next())
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(mean).toBeGreaterThan(0.48)
    expect(mean).toBeLessThan(0.52)
    const ints = new Set(Array.from({ length: 1_000 }, () => a.int(10)))
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})
