/**
 * This account's invite link (`invite`): text, QR code and a copy button. It
 * is made on request, since it lists the supernodes live now and expires.
 */
import { useState } from 'react'
import { toApiError } from '../bridge/api-error.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useCopy } from './hooks.js'
import { QrCode } from './QrCode.js'

export function InviteCard() {
  const app = useApp()
  const [invite, setInvite] = useState<{ link: string; expiresAt: string } | undefined>()
  const [error, setError] = useState<string | undefined>()
  const { copied, copy } = useCopy(app.win)
  const create = async (): Promise<void> => {
    setError(undefined)
    try {
      setInvite(await app.bridge.call('invite', {}))
    } catch (err) {
      setError(t('invite.failed', { reason: toApiError(err).message }))
    }
  }
  return (
    <div className="invite-card">
      <h3>{t('invite.title')}</h3>
      <p className="field-help">{t('invite.help')}</p>
      <button type="button" className="button" onClick={() => void create()}>
        {t('invite.create')}
      </button>
      {error != null && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {invite != null && (
        <div className="my-card">
          <QrCode text={invite.link} label={t('invite.qr')} size={256} />
          <div className="my-card-text">
            <code className="link-text">{invite.link}</code>
            <button type="button" className="button" onClick={() => void copy(invite.link)}>
              {copied ? t('card.copied') : t('card.copy')}
            </button>
            <p className="field-help">
              {t('invite.expires', { date: new Date(invite.expiresAt).toLocaleString() })}
            </p>
          </div>
        </div>
      )}
    </div>
  )
}
