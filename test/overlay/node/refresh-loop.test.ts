/**
 * RefreshLoop's `soon()`: a burst of address changes is one republish within
 * one debounce of the first change (never pushed back by later ones), and a
 * change during a republish is followed by another republish.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RefreshLoop } from '../../../src/overlay/node/refresh-loop.js'
import { silentLogger } from '../../helpers/logger.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('RefreshLoop.soon', () => {
  it('coalesces a stream of changes without postponing the republish', async () => {
    let runs = 0
    const loop = new RefreshLoop({
      intervalMs: 300_000,
      debounceMs: 500,
      run: async () => void runs++,
      log: silentLogger,
    })
    loop.start()
    // A change every 100 ms for 2 s: a plain debounce would never fire.
    for (let t = 0; t < 2000; t += 100) {
      loop.soon()
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(runs).toBeGreaterThanOrEqual(3)
    expect(runs).toBeLessThanOrEqual(5)
    loop.stop()
  })

  it('republishes again after a change that came in during a republish', async () => {
    let runs = 0
    let release: (() => void) | undefined
    const loop = new RefreshLoop({
      intervalMs: 300_000,
      debounceMs: 500,
      run: () => {
        runs++
        return new Promise<void>((r) => (release = r))
      },
      log: silentLogger,
    })
    loop.start()
    loop.soon()
    await vi.advanceTimersByTimeAsync(500)
    expect(runs).toBe(1)
    loop.soon() // the relay was replaced while the first republish ran
    release!()
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toBe(2)
    release!()
    await vi.advanceTimersByTimeAsync(1000)
    expect(runs).toBe(2)
    loop.stop()
  })

  it('does nothing before start or after stop', async () => {
    let runs = 0
    const loop = new RefreshLoop({
      intervalMs: 1000,
      run: async () => void runs++,
      log: silentLogger,
    })
    loop.soon()
    await vi.advanceTimersByTimeAsync(5000)
    expect(runs).toBe(0)
    loop.start()
    loop.stop()
    loop.soon()
    await vi.advanceTimersByTimeAsync(5000)
    expect(runs).toBe(0)
  })
})
