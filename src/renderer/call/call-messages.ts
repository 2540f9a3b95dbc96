/**
 * What the user reads when a call ends without a plain hang-up: what happened
 * and what to do next (who to ask, what to change, what to try instead).
 * Undefined when there is nothing to say.
 *
 * The status alone often misleads: a 488 from a desk phone is about its codec
 * settings, not about updating Kaiwa (issue 12 §4). The far end's Reason
 * header (RFC 3326), when it sent one, is shown as the detail.
 */
import { t } from '../i18n/t.js'
import type { CallEnd } from '../sip/call-session.js'

export function describeCallEnd(
  end: CallEnd,
  peer: string,
  direction: 'in' | 'out',
): string | undefined {
  if (end.offerProblem != null) {
    const detail = end.offerProblem.text
    return end.offerProblem.kind === 'no-common-codec'
      ? t('call.unsupportedCodec', { peer, detail })
      : t('call.unsupportedOffer', { peer, detail })
  }
  if (end.networkLost === true) return t('call.networkLost', { peer })
  if (end.error != null) return describeLocalError(end.error, peer, direction)
  if (direction === 'in') {
    return end.outcome === 'missed' && end.by === 'remote' ? t('call.missed', { peer }) : undefined
  }
  if (end.by === 'local' || end.outcome === 'answered') return undefined
  return describeFailedStatus(end, peer)
}

/** A final response to our INVITE (RFC 3261 §21), in words that say what to do. */
function describeFailedStatus(end: CallEnd, peer: string): string {
  switch (end.status) {
    case 404:
    case 604:
      return t('call.noSuchUser', { peer })
    case 480:
      return t('call.offline', { peer })
    case 408:
      return t('call.timeout', { peer })
    case 486:
    case 600:
      return t('call.busy', { peer })
    case 603:
      return t('call.declined', { peer })
    // 488/606: the two sides share no media (RFC 3261 §21.4.26, §21.6.4).
    case 488:
    case 606:
      return end.reasonText != null
        ? t('call.noCommonMediaWhy', { peer, detail: end.reasonText })
        : t('call.noCommonMedia', { peer })
    case 502:
    case 503:
    case 504:
      return t('call.noRoute', { peer })
    case undefined:
      return t('call.noAnswer', { peer })
    default:
      return t('call.failedStatus', {
        peer,
        status: end.status,
        reason: end.reasonText ?? end.reason,
      })
  }
}

/**
 * A failure on this side: the microphone (for either direction), else the
 * call we placed or the answer we tried to set up.
 */
function describeLocalError(err: Error, peer: string, direction: 'in' | 'out'): string {
  const media = describeMicrophoneError(err)
  if (media != null) return media
  return direction === 'in'
    ? t('call.answerFailed', { peer, reason: err.message })
    : t('call.failedLocal', { reason: err.message })
}

/** getUserMedia and friends fail with DOMExceptions named for the cause. */
function describeMicrophoneError(err: Error): string | undefined {
  switch (err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return t('media.denied')
    case 'NotFoundError':
    case 'OverconstrainedError':
      return t('media.missing')
    case 'NotReadableError':
      return t('media.busy')
    default:
      return undefined
  }
}

/** A failure before any call existed (opening the microphone, placing the INVITE). */
export function describeMediaError(err: Error): string {
  return describeMicrophoneError(err) ?? t('call.failedLocal', { reason: err.message })
}
