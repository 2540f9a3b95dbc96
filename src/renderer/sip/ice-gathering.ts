/**
 * When to stop gathering ICE candidates. sip.js does not trickle: the offer
 * or answer leaves only once gathering ends, so gathering time is call-setup
 * time. Host candidates come at once; a server-reflexive one (STUN) proves a
 * public mapping; a relay one (TURN) guarantees a path even through symmetric
 * NATs. So: stop on the first relay candidate; on a server-reflexive one,
 * stop too when there is no TURN server to wait for, else give TURN a short
 * grace. The configured gathering timeout bounds the rest.
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

/** Default grace for a relay candidate after a server-reflexive one. */
export const RELAY_GRACE_MS = 150

/**
 * Feeds candidates in, calls `finish` (sip.js's `iceGatheringComplete`) when
 * waiting longer buys nothing. Finishing again is harmless: sip.js ignores it
 * when nothing waits.
 */
export class EarlyGathering {
  private grace: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly turn: boolean,
    private readonly finish: () => void,
    private readonly graceMs = RELAY_GRACE_MS,
  ) {}

  candidate(c: { type?: string | null; candidate: string }): void {
    const verdict = gatheringVerdict(candidateType(c), this.turn)
    if (verdict === 'finish') {
      this.stop()
      this.finish()
    } else if (verdict === 'grace' && this.grace === undefined) {
      this.grace = setTimeout(() => {
        this.grace = undefined
        this.finish()
      }, this.graceMs)
    }
  }

  stop(): void {
    if (this.grace !== undefined) clearTimeout(this.grace)
    this.grace = undefined
  }
}
