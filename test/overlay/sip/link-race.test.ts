/**
 * raceAttempts: staggered connection attempts after RFC 8305 §5 (Happy
 * Eyeballs v2), with fake timers so every delay is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RaceFailedError, raceAttempts } from '../../../src/overlay/sip/link-race.js'
import type { RaceAttempt } from '../../../src/overlay/sip/link-race.js'

/** An attempt that settles when told to, recording when it started and whether it was aborted. */
function controlled(label: string, keepIfLost = false) {
  const s = {
    label,
    startedAt: null as number | null,
    signal: null as AbortSignal | null,
    resolve: (_v: string) => {},
    reject: (_e: unknown) => {},
  }
  const attempt: RaceAttempt<string> = {
    label,
    keepIfLost,
    run: (signal) => {
      s.startedAt = Date.now()
      s.signal = signal
      return new Promise<string>((resolve, reject) => {
        s.resolve = resolve
        s.reject = reject
        signal.addEventListener('abort', () => reject(signal.reason))
      })
    },
  }
  return { s, attempt }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('raceAttempts (RFC 8305 §5)', () => {
  it('uses the first attempt when it succeeds within the delay; the next never starts', async () => {
    const a = controlled('direct')
    const b = controlled('relay')
    const race = raceAttempts([a.attempt, b.attempt], { attemptDelayMs: 250 })
    await vi.advanceTimersByTimeAsync(100)
    a.s.resolve('A')
    await expect(race).resolves.toEqual({ value: 'A', label: 'direct' })
    await vi.advanceTimersByTimeAsync(1000)
    expect(b.s.startedAt).toBeNull()
  })

  it('starts the next attempt one delay later and takes whichever comes up first', async () => {
    const a = controlled('direct')
    const b = controlled('relay')
    const race = raceAttempts([a.attempt, b.attempt], { attemptDelayMs: 250 })
    await vi.advanceTimersByTimeAsync(249)
    expect(b.s.startedAt).toBeNull()
    await vi.advanceTimersByTimeAsync(1)
    expect(b.s.startedAt).toBe(250)
    await vi.advanceTimersByTimeAsync(30)
    b.s.resolve('B')
    await expect(race).resolves.toEqual({ value: 'B', label: 'relay' })
    // The losing attempt, not kept, is cancelled.
    expect(a.s.signal?.aborted).toBe(true)
  })

  it('starts the next attempt at once when one fails, without waiting for the delay', async () => {
    const a = controlled('direct')
    const b = controlled('relay')
    const errors: string[] = []
    const race = raceAttempts([a.attempt, b.attempt], {
      attemptDelayMs: 250,
      onAttemptError: (label) => errors.push(label),
    })
    await vi.advanceTimersByTimeAsync(10)
    a.s.reject(new Error('ECONNREFUSED'))
    await vi.advanceTimersByTimeAsync(0)
    expect(b.s.startedAt).toBe(10)
    b.s.resolve('B')
    await expect(race).resolves.toMatchObject({ label: 'relay' })
    expect(errors).toEqual(['direct'])
  })

  it('lets a kept attempt run on after losing, and reports its late success', async () => {
    const a = controlled('direct', true)
    const b = controlled('relay')
    const late: string[] = []
    const race = raceAttempts([a.attempt, b.attempt], {
      attemptDelayMs: 250,
      onLateWin: (v, label) => late.push(`${label}=${v}`),
    })
    await vi.advanceTimersByTimeAsync(300)
    b.s.resolve('B')
    await expect(race).resolves.toMatchObject({ value: 'B' })
    expect(a.s.signal?.aborted).toBe(false)
    a.s.resolve('A')
    await vi.advanceTimersByTimeAsync(0)
    expect(late).toEqual(['direct=A'])
  })

  it('uses what the fallback finds after a failure (another dialler connected meanwhile)', async () => {
    const a = controlled('relay')
    const race = raceAttempts([a.attempt], {
      fallback: () => 'EXISTING',
    })
    a.s.reject(new Error('Duplicate multiaddr connection'))
    await expect(race).resolves.toEqual({ value: 'EXISTING', label: 'existing' })
  })

  it('fails with every error when every attempt fails, only after the last one ends', async () => {
    const a = controlled('direct')
    const b = controlled('relay')
    const race = raceAttempts([a.attempt, b.attempt], { attemptDelayMs: 250 })
    const outcome = race.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(250)
    b.s.reject(new Error('NO_RESERVATION'))
    await vi.advanceTimersByTimeAsync(1000)
    a.s.reject(new Error('timeout'))
    const err = await outcome
    expect(err).toBeInstanceOf(RaceFailedError)
    expect((err as RaceFailedError).errors.map((e) => e.label)).toEqual(['relay', 'direct'])
    expect((err as Error).message).toMatch(/relay: NO_RESERVATION; direct: timeout/)
  })

  it("gives up, cancelling every attempt (kept ones too), when the caller's signal aborts", async () => {
    const a = controlled('direct', true)
    const b = controlled('relay')
    const ctl = new AbortController()
    const race = raceAttempts([a.attempt, b.attempt], { attemptDelayMs: 250, signal: ctl.signal })
    const outcome = race.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(300)
    ctl.abort(new Error('link open timeout'))
    expect(await outcome).toMatchObject({ message: 'link open timeout' })
    expect(a.s.signal?.aborted).toBe(true)
    expect(b.s.signal?.aborted).toBe(true)
  })

  it('rejects an empty list with a clear error', async () => {
    await expect(raceAttempts([])).rejects.toThrow(RaceFailedError)
    await expect(raceAttempts([])).rejects.toThrow('nothing to try')
  })
})
