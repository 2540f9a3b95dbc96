/**
 * Clock offset from one NTP-style exchange, and a robust estimate from many.
 *
 * RFC 5905 §8 (On-Wire Protocol), with its T1..T4 renamed t0..t3:
 *
 *   requester            peer
 *   t0 send ───────────▶ t1 receive
 *   t3 receive ◀──────── t2 send
 *
 *   offset θ = ((t1 − t0) + (t2 − t3)) / 2   (peer clock − own clock)
 *   delay  δ = (t3 − t0) − (t2 − t1)         (round trip, without the peer's time)
 *
 * The estimate is exact when both directions take equally long; otherwise
 * its error is at most δ / 2.
 */
import { KaiwaError } from '../errors.js'
import { MAX_SAMPLE_RTT_MS } from './clock-limits.js'

/** The four timestamps of one exchange, in ms since the Unix epoch. */
export interface ClockExchange {
  /** Own clock, when the request was sent. */
  t0: number
  /** Peer's clock, when it received the request. */
  t1: number
  /** Peer's clock, when it sent the reply. */
  t2: number
  /** Own clock, when the reply arrived. */
  t3: number
}

export interface ClockEstimate {
  /** Peer clock minus own clock, in ms: positive when the peer is ahead. */
  offsetMs: number
  /** Round trip without the peer's processing time, in ms. */
  rttMs: number
}

/** Timestamps that cannot come from a real exchange. */
export class ClockSampleError extends KaiwaError {
  constructor(message: string) {
    super(`clock sample refused: ${message}`, 'invalid_input')
    this.name = 'ClockSampleError'
  }
}

/**
 * θ and δ of one exchange (RFC 5905 §8). Throws ClockSampleError for
 * timestamps that are not finite, a reply sent before it was received (t2 < t1),
 * a reply received before the request was sent (t3 < t0), a peer that claims
 * to have held the request longer than the whole round trip (δ < 0), or a
 * round trip over `maxRttMs`, whose estimate would be too loose to use.
 */
export function estimateOffset(x: ClockExchange, maxRttMs = MAX_SAMPLE_RTT_MS): ClockEstimate {
  for (const k of ['t0', 't1', 't2', 't3'] as const) {
    if (!Number.isFinite(x[k])) throw new ClockSampleError(`${k} is not a finite number`)
  }
  if (x.t2 < x.t1)
    throw new ClockSampleError('the peer sent its reply before it received the request')
  if (x.t3 < x.t0) throw new ClockSampleError('the reply arrived before the request was sent')
  const rttMs = x.t3 - x.t0 - (x.t2 - x.t1)
  if (rttMs < 0) throw new ClockSampleError('the peer held the request longer than the round trip')
  if (rttMs > maxRttMs) throw new ClockSampleError(`the round trip took ${rttMs} ms`)
  return { offsetMs: (x.t1 - x.t0 + (x.t2 - x.t3)) / 2, rttMs }
}

/**
 * The median of the offsets measured against several peers (each peer's
 * latest). The median, not the mean: fewer than half of the peers lying about
 * the time, or wrong by hours, cannot move it outside the honest ones' range.
 * Undefined when there are none.
 */
export function medianOffset(offsets: readonly number[]): number | undefined {
  const xs = offsets.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (xs.length === 0) return undefined
  const mid = xs.length >> 1
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2
}
