/**
 * How the node verified a sender (RFC 8224 Identity, then compared with the
 * contact's pinned key; see src/shared/identity/verification-state.ts):
 * verified gets a small check, a first contact shows the key fingerprint to
 * compare out of band, and a key other than the pinned one is a loud warning.
 */
import type { SenderState } from '../../shared/identity/verification-state.js'
import { t } from '../i18n/t.js'

/** The caller's state on the incoming-call screen, shown before the user answers. */
export function CallerVerification(props: { peer: string; sender: SenderState | undefined }) {
  const { peer, sender } = props
  if (sender == null) return null
  if (sender.state === 'verified') {
    return (
      <span className="identity identity-verified">
        <span aria-hidden="true">✓ </span>
        {t('incoming.verified')}
      </span>
    )
  }
  if (sender.state === 'new') {
    return (
      <p className="identity identity-new">
        {t('incoming.firstCall', { peer, fp: sender.fingerprint })}
      </p>
    )
  }
  return (
    <p className="pill pill-danger identity identity-mismatch" role="alert">
      {t('incoming.notWhoYouKnow', { peer, fp: sender.fingerprint })}
    </p>
  )
}

/** The mark under a received message that did not come from the pinned key. */
export function MessageVerification(props: {
  verification: SenderState['state'] | undefined
  fingerprint: string | undefined
}) {
  const { verification, fingerprint } = props
  if (verification == null || verification === 'verified') return null
  if (verification === 'mismatch') {
    return (
      <p className="pill pill-danger identity identity-mismatch" role="alert">
        {t('messages.keyChanged')}
        {fingerprint != null && (
          <>
            {' '}
            · {t('card.fingerprint')}: <code>{fingerprint}</code>
          </>
        )}
      </p>
    )
  }
  return (
    <p className="message-note identity identity-new">
      {t('messages.firstContact', { fp: fingerprint ?? '?' })}
    </p>
  )
}
