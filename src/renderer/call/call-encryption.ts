/**
 * Where a call's encryption ends, in words (issue 12 §4): end to end between
 * two Kaiwa apps, or, when the far end's media is anchored at its node for a
 * SIP phone (`a=x-kaiwa-anchor:phone`, media-anchor.ts), only to that node,
 * with plain RTP from there to the phone.
 */
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import { t } from '../i18n/t.js'

/** The short value of the call panel's "Encryption" field. */
export function encryptionLabel(anchor: MediaAnchorKind | undefined, peer: string): string {
  return anchor === 'phone' ? t('call.toNode', { peer }) : t('call.endToEnd')
}

/** The sentence that says where encryption ends; undefined for end-to-end calls. */
export function anchorNote(anchor: MediaAnchorKind | undefined, peer: string): string | undefined {
  return anchor === 'phone' ? t('call.anchoredPhone', { peer }) : undefined
}

/** The call history's note on a call with a phone behind the far node. */
export function anchorHistoryNote(
  anchor: MediaAnchorKind | undefined,
  peer: string,
): string | undefined {
  return anchor === 'phone' ? t('calls.anchoredPhone', { peer }) : undefined
}
