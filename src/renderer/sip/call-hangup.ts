/**
 * How this side ends a call (call-session.ts), in each state of its sip.js
 * session: an offer this app cannot use is refused before it rings (488 with
 * a Reason header, RFC 3261 §21.4.26, RFC 3326); a ringing call is declined
 * (486 Busy Here or 603 Decline); an answer still being set up is refused
 * (603); an INVITE not yet answered is cancelled (RFC 3261 §9.1); an
 * established call gets a BYE (§15.1.1). Each records how the call ended
 * before it sends anything, so the Terminated state that follows is read as
 * this side's doing.
 */
import { formatReason } from '../../shared/sip/reason-header.js'
import type { OfferProblem } from '../../shared/sip/webrtc-offer.js'
import { Invitation, SessionState } from 'sip.js'
import type { Inviter } from 'sip.js'
import type { CallEnd } from './call-end.js'

/** What ending a call needs from the call. */
export interface HangupHooks {
  /** Records how the call ended here, unless it already has an end. */
  localEnd(end: CallEnd): void
  /** The request failed: the call ends as failed with the error. */
  fail(err: unknown): void
  log(text: string): void
}

/** Refuse an incoming offer with 488; false when the session is not a new incoming one. */
export async function refuseOffer(
  s: Inviter | Invitation,
  problem: OfferProblem,
  hooks: HangupHooks,
): Promise<boolean> {
  if (!(s instanceof Invitation) || s.state !== SessionState.Initial) return false
  hooks.localEnd({
    outcome: 'failed',
    by: 'local',
    status: 488,
    reason: 'Not Acceptable Here',
    offerProblem: problem,
  })
  const extraHeaders = [`Reason: ${formatReason(488, problem.text)}`]
  await s.reject({ statusCode: 488, extraHeaders }).catch((err: unknown) => hooks.fail(err))
  return true
}

/** Decline a ringing call (busy: 486, else 603); a call past ringing is hung up instead. */
export async function declineCall(
  s: Inviter | Invitation,
  busy: boolean,
  hooks: HangupHooks,
): Promise<void> {
  if (!(s instanceof Invitation)) return
  if (s.state !== SessionState.Initial) return hangupSession(s, hooks)
  const status = busy ? 486 : 603
  hooks.localEnd({
    outcome: busy ? 'missed' : 'declined',
    by: 'local',
    status,
    reason: busy ? 'Busy Here' : 'Decline',
  })
  await s.reject({ statusCode: status }).catch((err: unknown) => hooks.fail(err))
}

/** End the call the way its session's state allows (see the header). */
export async function hangupSession(s: Inviter | Invitation, hooks: HangupHooks): Promise<void> {
  switch (s.state) {
    case SessionState.Initial:
    case SessionState.Establishing:
      if (s instanceof Invitation) {
        if (s.state === SessionState.Initial) return declineCall(s, false, hooks)
        // Answering (media still being set up): nothing was sent yet, refuse instead.
        hooks.localEnd({ outcome: 'cancelled', by: 'local', reason: 'Hung up' })
        await s.reject({ statusCode: 603 }).catch((err: unknown) => hooks.fail(err))
        return
      }
      hooks.localEnd({ outcome: 'cancelled', by: 'local', reason: 'Cancelled' })
      await s.cancel().catch((err: unknown) => hooks.log(`cancel: ${String(err)}`))
      return
    case SessionState.Established:
      break
    default:
      return
  }
  hooks.localEnd({ outcome: 'answered', by: 'local', reason: 'Hung up' })
  await s.bye().catch((err: unknown) => hooks.log(`bye: ${String(err)}`))
}
