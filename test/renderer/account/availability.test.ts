/** The claim form's live availability: debounced lookups, stale answers dropped. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAvailabilityChecker } from '../../../src/renderer/account/availability.js'
import type { Availability } from '../../../src/renderer/account/availability.js'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function setup(answers: Record<string, 'free' | 'taken' | 'mine' | 'error'> = {}) {
  const lookups: string[] = []
  const seen: Availability[] = []
  const checker = createAvailabilityChecker({
    delayMs: 400,
    ownFingerprint: () => 'mine-fp',
    onChange: (a) => seen.push(a),
    lookup: async (name) => {
      lookups.push(name)
      await new Promise((r) => setTimeout(r, 100))
      switch (answers[name] ?? 'free') {
        case 'free':
          throw Object.assign(new Error('no such user'), { code: 'not_found' })
        case 'taken':
          return { fingerprint: 'other-fp' }
        case 'mine':
          return { fingerprint: 'mine-fp' }
        case 'error':
          throw Object.assign(new Error('not connected to any supernode'), { code: 'no_peers' })
      }
    },
  })
  return { checker, lookups, seen, last: () => seen.at(-1) }
}

describe('availability', () => {
  it('asks once, after typing pauses, for the normalised name', async () => {
    const { checker, lookups, last } = setup()
    for (const partial of ['a', 'al', 'ali', 'Alic', 'Alice']) {
      checker.check(partial)
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(lookups).toEqual([])
    expect(last()).toEqual({ state: 'checking', name: 'alice' })
    await vi.advanceTimersByTimeAsync(400)
    expect(lookups).toEqual(['alice'])
    await vi.advanceTimersByTimeAsync(100)
    expect(last()).toEqual({ state: 'available', name: 'alice' })
  })

  it('reports taken, yours, and a failed check', async () => {
    const { checker, last } = setup({ bob: 'taken', carol: 'mine', dave: 'error' })
    checker.check('bob')
    await vi.advanceTimersByTimeAsync(600)
    expect(last()).toEqual({ state: 'taken', name: 'bob' })
    checker.check('carol')
    await vi.advanceTimersByTimeAsync(600)
    expect(last()).toEqual({ state: 'yours', name: 'carol' })
    checker.check('dave')
    await vi.advanceTimersByTimeAsync(600)
    expect(last()).toEqual({
      state: 'unknown',
      name: 'dave',
      reason: 'not connected to any supernode',
    })
  })

  it('says invalid at once, without asking the network', async () => {
    const { checker, lookups, last } = setup()
    checker.check('a b')
    expect(last()).toEqual({ state: 'invalid', input: 'a b' })
    checker.check('   ')
    expect(last()).toEqual({ state: 'idle' })
    await vi.advanceTimersByTimeAsync(1000)
    expect(lookups).toEqual([])
  })

  it('drops the answer for a name no longer in the box', async () => {
    const { checker, lookups, seen, last } = setup({ bob: 'taken' })
    checker.check('bob')
    await vi.advanceTimersByTimeAsync(450) // bob's lookup is in flight
    checker.check('bobby')
    await vi.advanceTimersByTimeAsync(1000)
    expect(lookups).toEqual(['bob', 'bobby'])
    expect(seen.some((a) => a.state === 'taken')).toBe(false)
    expect(last()).toEqual({ state: 'available', name: 'bobby' })
  })

  it('is silent after dispose', async () => {
    const { checker, lookups, seen } = setup()
    checker.check('alice')
    const before = seen.length
    checker.dispose()
    await vi.advanceTimersByTimeAsync(1000)
    expect(lookups).toEqual([])
    expect(seen.length).toBe(before)
  })
})
