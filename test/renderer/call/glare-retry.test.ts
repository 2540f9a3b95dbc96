/**
 * A renegotiation that crosses the far end's is tried again after RFC 3261
 * §14.1's wait, a few times, and only while it is still wanted.
 */
import { describe, expect, it, vi } from 'vitest'
import { withGlareRetry } from '../../../src/renderer/call/glare-retry.js'

describe('withGlareRetry', () => {
  it('tries again after the §14.1 wait until it works', async () => {
    const waits: number[] = []
    let n = 0
    const run = vi.fn(async () => {
      if (++n < 3) throw new Error('There is an ongoing re-INVITE server transaction.')
    })
    await withGlareRetry(run, {
      ownsCallId: true,
      wanted: () => true,
      sleep: async (ms) => void waits.push(ms),
    })
    expect(run).toHaveBeenCalledTimes(3)
    expect(waits).toHaveLength(2)
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(2100)
  })

  it('gives up after the last attempt, or once it is no longer wanted', async () => {
    const fail = () => Promise.reject(new Error('491'))
    const sleep = () => Promise.resolve()
    await expect(
      withGlareRetry(fail, { ownsCallId: false, wanted: () => true, attempts: 2, sleep }),
    ).rejects.toThrow('491')
    const run = vi.fn(fail)
    await expect(
      withGlareRetry(run, { ownsCallId: false, wanted: () => false, sleep }),
    ).rejects.toThrow('491')
    expect(run).toHaveBeenCalledTimes(1)
  })
})
