/**
 * The first-run screen's words for a failed claim: the bridge's error code
 * (name_taken, invalid_user_id, no_peers, timeout) picks the sentence.
 */
import { toApiError } from '../bridge/api-error.js'
import { t } from '../i18n/t.js'

export function claimError(err: unknown, name: string): string {
  const e = toApiError(err)
  switch (e.code) {
    case 'name_taken':
      return t('firstRun.taken', { name })
    case 'invalid_user_id':
      return t('firstRun.invalid')
    case 'no_peers':
      return t('firstRun.noPeers')
    case 'timeout':
      return t('firstRun.timeout')
    default:
      return t('firstRun.claimFailed', { reason: e.message })
  }
}
