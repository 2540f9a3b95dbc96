/** Signed mailbox requests are admitted once within their skew window. */
import { describe, expect, it } from 'vitest'
import { ReplayCache } from '../../../src/overlay/mailbox/replay-cache.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('ReplayCache', () => {
  it('admits the same signed bytes once until they expire', () => {
    const c = new ReplayCache()
    expect(c.admit(bytes('fetch 1'), 1000, 0)).toBe(true)
    expect(c.admit(bytes('fetch 1'), 1000, 10)).toBe(false)
    expect(c.admit(bytes('fetch 2'), 1000, 10)).toBe(true)
    c.prune(1000)
    expect(c.size).toBe(0)
  })

  it('fails closed when full of live entries', () => {
    const c = new ReplayCache(2)
    expect(c.admit(bytes('a'), 1000, 0)).toBe(true)
    expect(c.admit(bytes('b'), 1000, 0)).toBe(true)
    expect(c.admit(bytes('c'), 1000, 0)).toBe(false)
    // Once the earlier ones expire there is room again.
    expect(c.admit(bytes('c'), 3000, 1000)).toBe(true)
  })
})
