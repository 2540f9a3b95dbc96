import { describe, it, expect } from 'vitest'
import { prng, simulateHijack } from '../../../src/shared/records/hijack-sim.js'

describe('name hijack simulation', () => {
  it('is deterministic for a seed', () => {
    const o = { adversarial: 0.3, neighbourCheck: true, reader: 'quorum' as const, trials: 500 }
    expect(simulateHijack(o)).toEqual(simulateHijack(o))
    expect(prng(7)()).toBe(prng(7)())
  })

  it('without attacker nodes, the neighbour check and majority reads stop a late push', () => {
    const checked = simulateHijack({
      adversarial: 0,
      neighbourCheck: true,
      reader: 'quorum',
      trials: 2000,
    })
    expect(checked.hijacked).toBe(0)
    // Before: fresh nodes take the attacker's push and a first-answer reader believes them.
    const before = simulateHijack({
      adversarial: 0,
      neighbourCheck: false,
      reader: 'first',
      trials: 2000,
    })
    expect(before.hijacked).toBeGreaterThan(0.15)
    expect(before.silent).toBe(before.hijacked)
  })

  it('rises with the attacker share and shows most hijacks as conflicts', () => {
    const at = (adversarial: number) =>
      simulateHijack({ adversarial, neighbourCheck: true, reader: 'quorum', trials: 2000 })
    expect(at(0.2).hijacked).toBeLessThan(at(0.4).hijacked)
    expect(at(0.4).silent).toBeLessThan(at(0.4).hijacked)
  })

  it('rejects impossible settings', () => {
    const base = { neighbourCheck: false, reader: 'quorum' as const }
    expect(() => simulateHijack({ ...base, adversarial: 1.5 })).toThrow(RangeError)
    expect(() => simulateHijack({ ...base, adversarial: 0.1, agree: 6, max: 5 })).toThrow(
      RangeError,
    )
  })
})
