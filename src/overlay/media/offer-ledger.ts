/**
 * An anchored call's offer/answer bookkeeping (anchored-call.ts): the one
 * offer outstanding at a time (RFC 3264 §4), the last answer translated (a
 * 18x and then the 2xx carry the same answer, RFC 3261 §13.2.1), and what a
 * refused offer or answer goes back to (RFC 3264 §8). It never reads SDP:
 * the call hands it the state to snapshot and to restore.
 */
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Answered, Pending, Snapshot } from './call-state.js'

/** The call's state an offer changes, as the ledger reads and restores it. */
export interface OfferedState {
  /** True once the first offer/answer exchange has completed. */
  settled(): boolean
  snapshot(): Snapshot
  restore(s: Snapshot): void
}

export class OfferLedger {
  /** Our offer (or our translation of theirs) waiting for its answer. */
  pending: Pending | undefined
  private answered: Answered | undefined
  private over = false

  constructor(private readonly state: OfferedState) {}

  get ended(): boolean {
    return this.over
  }

  /** The call is over: every later offer or answer fails. */
  end(): void {
    this.over = true
    this.pending = undefined
  }

  /** Throws once the call has ended. */
  live(): void {
    if (this.over) throw new MediaNegotiationError('the call has ended')
  }

  /**
   * Called by each new offer. SIP never overlaps two offers in a dialog (RFC
   * 3261 §14.1, 491 on glare), so an offer of ours still waiting on an
   * established call was refused (its re-INVITE failed) without a body
   * reaching us: the session stays as it was before it (RFC 3264 §8). During
   * the first exchange there is nothing to go back to. Returns the state the
   * new offer may change.
   */
  dropUnanswered(): Snapshot {
    this.live()
    this.answered = undefined
    const p = this.pending
    if (p != null) {
      if (!this.state.settled())
        throw new MediaNegotiationError('an offer is already waiting for its answer')
      this.pending = undefined
      this.state.restore(p.before)
    }
    return this.state.snapshot()
  }

  /**
   * Without 100rel a 18x and then the 2xx both carry the answer (RFC 3261
   * §13.2.1), and the gateway hands us both: the same body again gets the
   * same translation; a changed one (new direction, port) is applied like the
   * answer to a re-offer, which also refuses an answer from another fork of
   * the call (other ICE credentials).
   */
  answerAgain(to: Pending['from']): Answered | undefined {
    this.live()
    const last = this.answered
    return this.pending == null && last?.pending.from === to ? last : undefined
  }

  /** Keep the translation of an answer, for the same answer again; returns it. */
  remember(pending: Pending, text: string, result: string): string {
    this.answered = { pending, text, result }
    return result
  }

  /** The offer an answer from the other side of `from` answers; throws without one. */
  take(from: Pending['from']): Pending {
    this.live()
    const p = this.pending
    if (p == null || p.from !== from) {
      throw new MediaNegotiationError(
        `an answer from the ${from === 'phone' ? 'overlay' : 'phone'} without our offer`,
      )
    }
    this.pending = undefined
    return p
  }

  /** A refused answer to a re-offer leaves the session as it was (the first exchange has nothing to keep). */
  rollback(p: Pending): void {
    if (this.state.settled() && !this.over) this.state.restore(p.before)
  }
}
