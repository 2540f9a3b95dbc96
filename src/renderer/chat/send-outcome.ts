/**
 * What became of a sent message, from the SIP answer (or the API error when
 * the node sent it for us), with the sentence the user reads next to it.
 */
import { t } from '../i18n/t.js'
import type { LocalStatus } from './thread-merge.js'

export interface SendOutcome {
  status: Exclude<LocalStatus, 'sending'>
  note?: string
}

export function outcomeOfStatus(code: number, peer: string, reason = ''): SendOutcome {
  // 202: a supernode keeps it sealed until the recipient's next registration.
  if (code === 202) return { status: 'stored', note: t('chat.stored', { peer }) }
  if (code >= 200 && code < 300) return { status: 'delivered' }
  switch (code) {
    case 404:
    case 604:
      return { status: 'failed', note: t('chat.noSuchUser', { peer }) }
    case 480:
      return { status: 'failed', note: t('chat.unreachable', { peer }) }
    case 408:
      return { status: 'failed', note: t('chat.timeout') }
    case 413:
      return { status: 'failed', note: t('chat.tooLong') }
    default:
      return { status: 'failed', note: t('chat.failed', { status: code, reason }) }
  }
}

/** The API's error codes, for messages the node sent itself. */
export function outcomeOfApiError(code: string, peer: string, message: string): SendOutcome {
  switch (code) {
    case 'not_found':
      return outcomeOfStatus(404, peer)
    case 'unavailable':
      return outcomeOfStatus(480, peer)
    case 'timeout':
    case 'disconnected':
      return outcomeOfStatus(408, peer)
    default:
      return { status: 'failed', note: t('chat.failedOther', { reason: message }) }
  }
}
