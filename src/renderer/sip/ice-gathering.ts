/**
 * When to stop gathering ICE candidates. sip.js does not trickle: the offer
 * or answer leaves only once gathering ends, so gathering time is call-setup
 * time. Host candidates come at once; a server-reflexive one (STUN) proves a
 * public mapping; a relay one (TURN) guarantees a path even through symmetric
 * NATs. So: stop on the first relay candidate; on a server-reflexive one,
 * stop too when there is no TURN server to wait for, else give TURN a grace.
 *
 * The grace and the cap adapt to the round trip. A server-reflexive candidate
 * costs one round trip (a STUN Binding, RFC 8489 §6), a relay candidate two:
 * the first Allocate is refused with 401 and the nonce, the second carries the
 * credentials (RFC 8656 §6.1–6.2, RFC 8489 §9.2). So the relay candidate is
 * expected about one srflx-time after the srflx one; the grace is that plus a
 * margin. The gathering cap is short without TURN (nothing slow to wait for)
 * and a larger ceiling with TURN: at 300 ms RTT the relay candidate arrives
 * after 600 ms or more, past the old fixed 500 ms cap, and a call through a
 * symmetric NAT without it has no path at all.
 */

/** The candidate's type (host, srflx, prflx, relay), from the object or its SDP line. */
export function candidateType(c: { type?: string | null; candidate: string }): string | undefined {
  if (c.type) return c.type
  return /\styp\s+(\S+)/.exec(c.candidate)?.[1]
}

export function hasTurnServer(servers: ReadonlyArray<{ urls: string | string[] }>): boolean {
  return servers.some((s) =>
    (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(u)),
  )
}

export type GatheringVerdict = 'finish' | 'grace' | 'wait'

export function gatheringVerdict(type: string | undefined, turn: boolean): GatheringVerdict {
  if (type === 'relay') return 'finish'
  if (type === 'srflx') return turn ? 'grace' : 'finish'
  return 'wait'
}

/** Margin for a relay candidate beyond one more srflx round trip. */
export const RELAY_GRACE_MS = 150

/** The longest wait for a relay candidate when a TURN server is configured. */
export const TURN_GATHERING_CEILING_MS = 2_500

/**
 * The gathering timeout for one offer/answer: `baseMs` (the UA's setting)
 * without TURN; with TURN at least the ceiling, since the early finish ends
 * gathering as soon as waiting buys nothing (see EarlyGathering).
 */
export function gatheringTimeoutMs(turn: boolean, baseMs: number): number {
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new RangeError(`ICE gathering timeout must be a positive number of ms, got ${baseMs}`)
  }
  return turn ? Math.max(baseMs, TURN_GATHERING_CEILING_MS) : baseMs
}

/**
 * How long to wait for a relay candidate after a server-reflexive one that
 * came `srflxAfterMs` into gathering: one more such round trip, plus margin.
 */
export function relayGraceMs(srflxAfterMs: number, marginMs = RELAY_GRACE_MS): number {
  return Math.max(0, srflxAfterMs) + marginMs
}

/**
 * Feeds candidates in, calls `finish` (sip.js's `iceGatheringComplete`) when
 * waiting longer buys nothing. Finishing again is harmless: sip.js ignores it
 * when nothing waits.
 */
export class EarlyGathering {
  private grace: ReturnType<typeof setTimeout> | undefined

  private started: number

  /**
   * @param graceMs margin added to the srflx round trip (default RELAY_GRACE_MS)
   * @param now the clock; gathering is taken to start when this object is made
   *   (with the media handler, the peer connection's candidate pool starts then)
   */
  constructor(
    private readonly turn: boolean,
    private readonly finish: () => void,
    private readonly graceMs = RELAY_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now()
  }

  candidate(c: { type?: string | null; candidate: string }): void {
    const verdict = gatheringVerdict(candidateType(c), this.turn)
    if (verdict === 'finish') {
      this.stop()
      this.finish()
    } else if (verdict === 'grace' && this.grace === undefined) {
      const grace = relayGraceMs(this.now() - this.started, this.graceMs)
      this.grace = setTimeout(() => {
        this.grace = undefined
        this.finish()
      }, grace)
    }
  }

  stop(): void {
    if (this.grace !== undefined) clearTimeout(this.grace)
    this.grace = undefined
  }

  /** Gathering starts again (an ICE restart): the relay grace is timed from now. */
  restart(): void {
    this.stop()
    this.started = this.now()
  }
}
