/**
 * Where a call's encryption ends (issue 12 §4): end to end between two Kaiwa
 * apps, or, when the far end's media is anchored at its node for a SIP phone
 * (`a=x-kaiwa-anchor:phone`), only to that node, with plain RTP from there to
 * the phone. Shown in the call panel, the incoming-call dialog and the call
 * history, so the user knows before and while they talk.
 */
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import { t } from '../i18n/t.js'

/** The short value of the call panel's "Encryption" field. */
export function encryptionLabel(anchor: MediaAnchorKind | undefined, peer: string): string {
  return anchor === 'phone' ? t('call.toNode', { peer }) : t('call.endToEnd')
}

/** The sentence that says where encryption ends; nothing for end-to-end calls. */
export function AnchorNote(props: { anchor: MediaAnchorKind | undefined; peer: string }) {
  if (props.anchor !== 'phone') return null
  return (
    <p className="call-anchor" role="note">
      {t('call.anchoredPhone', { peer: props.peer })}
    </p>
  )
}
