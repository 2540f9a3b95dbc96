/**
 * How a call ended, as the UI explains and logs it. The far end's side of
 * it (a final status, its Reason header, a CANCEL, a BYE) is decided here
 * from what the session saw; local ends (hang-up, decline, a failure while
 * answering) are set by the session itself.
 */
import { parseReasons, reasonFor } from '../../shared/sip/reason-header.js'
import type { OfferProblem } from '../../shared/sip/webrtc-offer.js'

export type CallOutcome = 'answered' | 'missed' | 'declined' | 'failed' | 'cancelled'

export interface CallEnd {
  outcome: CallOutcome
  /** Who ended it. */
  by: 'local' | 'remote'
  /** The SIP status that ended it, when one did (404, 480, 486, 487, 603, ...). */
  status?: number
  reason: string
  /** The text of the far end's Reason header (RFC 3326), when it sent one. */
  reasonText?: string
  /** An incoming offer this app cannot use, refused with 488 before it rang. */
  offerProblem?: OfferProblem
  /** A local failure (no microphone, an answer that could not be set up, ...). */
  error?: Error
  /** The device's network changed and ICE restarts could not bring the media back. */
  networkLost?: boolean
}

/** A final response to our INVITE: its status, phrase and Reason text. */
export interface FinalResponse {
  status: number
  reason: string
  reasonText?: string
}

/** What the session saw of the other side, to tell how the call ended. */
export interface RemoteFacts {
  direction: 'in' | 'out'
  /** The call was established (200/ACK). */
  answered: boolean
  remoteCancelled: boolean
  finalResponse: FinalResponse | undefined
}

/** Busy and declined are the callee's choice, not a failure. */
const DECLINED = new Set([486, 600, 603])

/** A final response as the call end keeps it; `reasons` are its Reason header values. */
export function finalResponse(
  status: number | undefined,
  reason: string | undefined,
  reasons: readonly string[],
): FinalResponse {
  const code = status ?? 0
  const text = reasonFor(parseReasons(reasons), code)?.text
  return { status: code, reason: reason ?? '', ...(text != null ? { reasonText: text } : {}) }
}

/** ICE restarts could not bring the media back (never "missed": the call was answered). */
export function networkLostEnd(): CallEnd {
  return { outcome: 'failed', by: 'local', reason: 'Network changed', networkLost: true }
}

/** The end of a call that the other side (or the network) ended. */
export function remoteCallEnd(f: RemoteFacts): CallEnd {
  if (f.answered) return { outcome: 'answered', by: 'remote', reason: 'Hung up' }
  if (f.direction === 'in') {
    return { outcome: 'missed', by: 'remote', reason: f.remoteCancelled ? 'Cancelled' : '' }
  }
  const r = f.finalResponse
  if (r == null) return { outcome: 'failed', by: 'remote', reason: 'No answer' }
  return {
    outcome: DECLINED.has(r.status) ? 'declined' : 'failed',
    by: 'remote',
    status: r.status,
    reason: r.reason,
    ...(r.reasonText != null ? { reasonText: r.reasonText } : {}),
  }
}
