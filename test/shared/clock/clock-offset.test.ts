import { describe, expect, it } from 'vitest'
import {
  ClockSampleError,
  estimateOffset,
  medianOffset,
} from '../../../src/shared/clock/clock-offset.js'

describe('estimateOffset (RFC 5905 §8)', () => {
  it('is exact for a symmetric path', () => {
    // Peer 1000 ms ahead, 50 ms each way, 5 ms inside the peer.
    expect(estimateOffset({ t0: 0, t1: 1050, t2: 1055, t3: 105 })).toEqual({
      offsetMs: 1000,
      rttMs: 100,
    })
  })

  it('handles a peer behind us', () => {
    expect(estimateOffset({ t0: 10_000, t1: 2_010, t2: 2_010, t3: 10_020 })).toEqual({
      offsetMs: -8000,
      rttMs: 20,
    })
  })

  it('errs by at most half the round trip on an asymmetric path', () => {
    // True offset 0; 90 ms out, 10 ms back.
    const { offsetMs, rttMs } = estimateOffset({ t0: 0, t1: 90, t2: 90, t3: 100 })
    expect(rttMs).toBe(100)
    expect(Math.abs(offsetMs - 0)).toBeLessThanOrEqual(rttMs / 2)
  })

  it('refuses impossible timestamps', () => {
    const bad = [
      { t0: 0, t1: 10, t2: 5, t3: 20 }, // sent before received
      { t0: 20, t1: 10, t2: 10, t3: 10 }, // reply before request
      { t0: 0, t1: 0, t2: 500, t3: 100 }, // peer held it longer than the round trip
      { t0: Number.NaN, t1: 0, t2: 0, t3: 0 },
      { t0: 0, t1: Infinity, t2: Infinity, t3: 0 },
    ]
    for (const x of bad) expect(() => estimateOffset(x)).toThrow(ClockSampleError)
  })

  it('refuses a round trip too long to say anything', () => {
    expect(() => estimateOffset({ t0: 0, t1: 0, t2: 0, t3: 20_000 })).toThrow(/round trip/)
    expect(estimateOffset({ t0: 0, t1: 0, t2: 0, t3: 20_000 }, 30_000).rttMs).toBe(20_000)
  })
})

describe('medianOffset', () => {
  it('is undefined for no samples', () => {
    expect(medianOffset([])).toBeUndefined()
    expect(medianOffset([Number.NaN])).toBeUndefined()
  })

  it('takes the middle one, or the mean of the middle two', () => {
    expect(medianOffset([5])).toBe(5)
    expect(medianOffset([3, 1, 2])).toBe(2)
    expect(medianOffset([4, 1, 3, 2])).toBe(2.5)
  })

  it('is not moved by a minority of liars, however far off', () => {
    const hour = 3_600_000
    expect(medianOffset([10, -20, 30, 1000 * hour, -1000 * hour])).toBe(10)
  })
})
