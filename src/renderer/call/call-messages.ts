/**
 * What the user reads when a call ends without a plain hang-up: what happened
 * and what to do next. Undefined when there is nothing to say.
 */
import { t } from '../i18n/t.js'
import type { CallEnd } from '../sip/call-session.js'

export function describeCallEnd(
  end: CallEnd,
  peer: string,
  direction: 'in' | 'out',
): string | undefined {
  if (end.error != null) return describeMediaError(end.error)
  if (direction === 'in') {
    return end.outcome === 'missed' && end.by === 'remote' ? t('call.missed', { peer }) : undefined
  }
  if (end.by === 'local' || end.outcome === 'answered') return undefined
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
    case 488:
    case 606:
      return t('call.incompatible', { peer })
    case 503:
      return t('call.noRoute', { peer })
    case undefined:
      return t('call.noAnswer', { peer })
    default:
      return t('call.failedStatus', { peer, status: end.status, reason: end.reason })
  }
}

/** getUserMedia and friends fail with DOMExceptions named for the cause. */
export function describeMediaError(err: Error): string {
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
      return t('call.failedLocal', { reason: err.message })
  }
}
