/** Warming a callee's overlay route before the click: when, how often, and never for junk. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RouteWarmer, whenForInput } from '../../../src/renderer/call/route-warmer.js'

describe('RouteWarmer', () => {
  let now = 0
  let prepare: ReturnType<typeof vi.fn<(peer: string) => Promise<unknown>>>
  let warmer: RouteWarmer
  beforeEach(() => {
    vi.useFakeTimers()
    now = 1_000_000
    prepare = vi.fn<(peer: string) => Promise<unknown>>(() => Promise.resolve({ devices: 1 }))
    warmer = new RouteWarmer({ prepare, pauseMs: 400, freshMs: 15_000, now: () => now })
  })
  afterEach(() => vi.useRealTimers())

  it('prepares an ID entered whole at once, normalised', () => {
    warmer.want('  Bob ', 'now')
    expect(prepare).toHaveBeenCalledExactlyOnceWith('bob')
  })

  it('prepares a typed ID only once typing pauses, never the prefixes typed on the way', () => {
    warmer.want('b', 'pause')
    vi.advanceTimersByTime(200)
    warmer.want('bo', 'pause')
    vi.advanceTimersByTime(200)
    warmer.want('bob', 'pause')
    vi.advanceTimersByTime(399)
    expect(prepare).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(prepare).toHaveBeenCalledExactlyOnceWith('bob')
  })

  it('ignores what is not a user ID, and a pending prepare is dropped when the box changes', () => {
    warmer.want('bob', 'pause')
    warmer.want('not a user id!', 'now')
    vi.advanceTimersByTime(1000)
    expect(prepare).not.toHaveBeenCalled()
  })

  it('asks the node once per ID while the route is fresh, again after', () => {
    warmer.want('bob', 'now')
    warmer.go('bob') // the click
    expect(prepare).toHaveBeenCalledTimes(1)
    warmer.go('carol')
    expect(prepare).toHaveBeenCalledTimes(2)
    now += 15_000
    warmer.go('carol')
    expect(prepare).toHaveBeenCalledTimes(3)
  })

  it('asks again at the click when the earlier prepare failed', async () => {
    prepare.mockRejectedValueOnce(new Error('overlay down'))
    warmer.want('bob', 'now')
    await vi.waitFor(() => expect(prepare).toHaveBeenCalledTimes(1))
    await Promise.resolve()
    warmer.go('bob')
    expect(prepare).toHaveBeenCalledTimes(2)
  })

  it('a click cancels a prepare still waiting for the pause', () => {
    warmer.want('bob', 'pause')
    warmer.go('bob')
    vi.advanceTimersByTime(1000)
    expect(prepare).toHaveBeenCalledTimes(1)
  })
})

describe('whenForInput', () => {
  it('takes pastes, picks and whole fills as meant at once, keystrokes as typing', () => {
    expect(whenForInput({ inputType: 'insertFromPaste', data: null })).toBe('now')
    expect(whenForInput({ inputType: 'insertReplacementText', data: null })).toBe('now')
    expect(whenForInput({ inputType: 'insertText', data: 'bob' })).toBe('now')
    expect(whenForInput({ inputType: 'insertText', data: 'b' })).toBe('pause')
    expect(whenForInput({ inputType: 'deleteContentBackward', data: null })).toBe('pause')
    expect(whenForInput(undefined)).toBe('pause')
  })
})
