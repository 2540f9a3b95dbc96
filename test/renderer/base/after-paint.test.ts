/** Work deferred past the next paint still runs in a page that paints nothing (hidden). */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { afterPaint } from '../../../src/renderer/base/after-paint.js'

describe('afterPaint', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('runs once, just after the next frame', () => {
    vi.useFakeTimers()
    const frames: FrameRequestCallback[] = []
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb))
    const fn = vi.fn()
    afterPaint(fn, 100)
    vi.advanceTimersByTime(10)
    expect(fn).not.toHaveBeenCalled()
    frames.shift()!(0) // the frame: fn runs in the task after it
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(0)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1000)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('runs after latestMs when no frame comes (a hidden window still rings)', () => {
    vi.useFakeTimers()
    vi.stubGlobal('requestAnimationFrame', () => 0)
    const fn = vi.fn()
    afterPaint(fn, 100)
    vi.advanceTimersByTime(99)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(1)
  })
})
