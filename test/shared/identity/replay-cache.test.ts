/**
 * The replay cache: remembers for the window, forgets after it, stays under
 * its cap, and fails closed when the cap forces out a live entry.
 */
import { describe, expect, it } from 'vitest'
import { ReplayCache } from '../../../src/shared/identity/replay-cache.js'

const T = 1_700_000_000_000
const WINDOW = 600_000
const times = (issuedAt: number) => ({ issuedAt, expiresAt: issuedAt + WINDOW })

describe('ReplayCache', () => {
  it('refuses a key seen before while it is live, accepts it again after expiry', () => {
    const c = new ReplayCache()
    expect(c.check('a', times(T), T)).toBe('fresh')
    expect(c.check('a', times(T), T + 1)).toBe('replay')
    expect(c.has('a', T + WINDOW - 1)).toBe(true)
    expect(c.has('a', T + WINDOW)).toBe(false)
    // Past expiry the verifier refuses the token as stale anyway; the cache forgets it.
    expect(c.check('a', times(T), T + WINDOW)).toBe('fresh')
    expect(c.check('b', times(T), T + 1)).toBe('fresh')
  })

  it('prunes expired entries as it goes, so the size tracks one window of traffic', () => {
    const c = new ReplayCache({ maxEntries: 1_000_000 })
    for (let i = 0; i < 20_000; i++) {
      const now = T + i * 100 // 10 per second, window 600 s → about 6 000 live
      c.check(`k${i}`, times(now), now)
    }
    expect(c.size).toBeLessThanOrEqual(6_100)
    expect(c.evictions).toBe(0)
  })

  it('never holds more than maxEntries, and refuses unknown tokens issued before an evicted live one', () => {
    const c = new ReplayCache({ maxEntries: 3 })
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) {
      expect(c.check(k, times(T + i * 1000), T + 5000)).toBe('fresh')
    }
    expect(c.size).toBe(3)
    expect(c.evictions).toBe(1)
    // 'a' was forgotten while live: its replay must still be refused (floor = T).
    expect(c.check('a', times(T), T + 6000)).toBe('replay')
    // So is any unknown token issued at or before the floor...
    expect(c.check('x', times(T - 1), T + 6000)).toBe('replay')
    // ...while newer unknown tokens are fresh.
    expect(c.check('y', times(T + 4000), T + 6000)).toBe('fresh')
  })

  it('evicting an expired entry raises no floor', () => {
    const c = new ReplayCache({ maxEntries: 1 })
    c.check('a', times(T), T)
    expect(c.check('b', times(T + WINDOW), T + WINDOW + 1)).toBe('fresh')
    expect(c.evictions).toBe(0)
    expect(c.check('c', times(T + 1), T + WINDOW + 2)).toBe('fresh')
  })

  it('stays cheap against a full cache: 200 000 checks (cost logged, not asserted)', () => {
    const c = new ReplayCache({ maxEntries: 50_000 })
    const t = performance.now()
    for (let i = 0; i < 200_000; i++) c.check(`k${i}`, times(T + i), T + i)
    const perCheck = ((performance.now() - t) / 200_000) * 1000
    console.log(`replay cache: ${perCheck.toFixed(2)} µs per check, full cache of 50 000`)
    expect(c.size).toBe(50_000)
  })

  it('rejects a nonsensical cap', () => {
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(RangeError)
    expect(() => new ReplayCache({ maxEntries: 1.5 })).toThrow(RangeError)
  })
})
