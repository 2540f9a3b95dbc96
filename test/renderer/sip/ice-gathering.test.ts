/**
 * The adaptive ICE gathering cap: with a TURN server the relay candidate needs
 * two round trips (401, then the authenticated Allocate), so at long RTTs the
 * wait must stretch; without TURN, or when the relay candidate comes early,
 * the fast path stays.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  EarlyGathering,
  RELAY_GRACE_MS,
  TURN_GATHERING_CEILING_MS,
  gatheringTimeoutMs,
  relayGraceMs,
} from '../../../src/renderer/sip/ice-gathering.js'

const cand = (typ: string) => ({
  candidate: `candidate:1 1 udp 2122260223 192.0.2.1 54321 typ ${typ} generation 0`,
})

describe('adaptive ICE gathering cap', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('keeps the short cap without TURN and stretches it to the ceiling with TURN', () => {
    expect(gatheringTimeoutMs(false, 500)).toBe(500)
    expect(gatheringTimeoutMs(true, 500)).toBe(TURN_GATHERING_CEILING_MS)
    // A UA configured longer than the ceiling keeps its own setting.
    expect(gatheringTimeoutMs(true, 4_000)).toBe(4_000)
  })

  it('rejects a nonsensical timeout with a clear error', () => {
    expect(() => gatheringTimeoutMs(true, 0)).toThrow(RangeError)
    expect(() => gatheringTimeoutMs(false, Number.NaN)).toThrow(/positive number of ms/)
  })

  it('grants the relay candidate one more srflx round trip plus a margin', () => {
    expect(relayGraceMs(0)).toBe(RELAY_GRACE_MS)
    expect(relayGraceMs(300)).toBe(300 + RELAY_GRACE_MS)
    expect(relayGraceMs(-5, 100)).toBe(100)
  })

  it('at 300 ms RTT waits past 500 ms for the relay candidate (srflx at ~300 ms, relay at ~600 ms)', () => {
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish)
    g.candidate(cand('host'))
    vi.advanceTimersByTime(300)
    g.candidate(cand('srflx'))
    // The old fixed grace (150 ms after srflx) would have ended gathering at 450 ms.
    vi.advanceTimersByTime(300)
    expect(finish).not.toHaveBeenCalled()
    g.candidate(cand('relay'))
    expect(finish).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(5_000) // the grace timer was cancelled
    expect(finish).toHaveBeenCalledTimes(1)
  })

  it('gives up on a relay candidate that never comes after srflx RTT + margin', () => {
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish)
    vi.advanceTimersByTime(300)
    g.candidate(cand('srflx'))
    vi.advanceTimersByTime(300 + RELAY_GRACE_MS - 1)
    expect(finish).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(finish).toHaveBeenCalledTimes(1)
  })

  it('keeps the fast path: an early relay candidate finishes at once, and on a LAN the grace is short', () => {
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish)
    vi.advanceTimersByTime(20)
    g.candidate(cand('relay'))
    expect(finish).toHaveBeenCalledTimes(1)

    const finish2 = vi.fn()
    const g2 = new EarlyGathering(true, finish2)
    vi.advanceTimersByTime(5)
    g2.candidate(cand('srflx'))
    vi.advanceTimersByTime(5 + RELAY_GRACE_MS)
    expect(finish2).toHaveBeenCalledTimes(1)
  })

  it('without TURN finishes on the first srflx candidate, however late', () => {
    const finish = vi.fn()
    const g = new EarlyGathering(false, finish)
    vi.advanceTimersByTime(400)
    g.candidate(cand('srflx'))
    expect(finish).toHaveBeenCalledTimes(1)
  })

  it('measures the srflx time on the given clock', () => {
    let t = 1_000
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish, 50, () => t)
    t += 200
    g.candidate(cand('srflx'))
    vi.advanceTimersByTime(249)
    expect(finish).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(finish).toHaveBeenCalledTimes(1)
  })

  it('times an ICE restart’s gathering from the restart, not from the start of the call', () => {
    let t = 0
    const finish = vi.fn()
    const g = new EarlyGathering(true, finish, 50, () => t)
    // A minute into the call, the network changed and gathering starts again.
    t = 60_000
    g.restart()
    t += 100
    g.candidate(cand('srflx'))
    vi.advanceTimersByTime(149)
    expect(finish).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(finish).toHaveBeenCalledTimes(1)
  })
})
