/** This account's `kaiwa:` link (with the key fingerprint) as text, QR code and a copy button. */
import { formatKaiwaLink } from '../contacts/kaiwa-link.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useCopy, useStore } from './hooks.js'
import { QrCode } from './QrCode.js'

export function MyCard() {
  const app = useApp()
  const { name, status } = useStore(app.session.store)
  const { copied, copy } = useCopy(app.win)
  if (name == null || status == null) return null
  const link = formatKaiwaLink({ name, fingerprint: status.fingerprint })
  return (
    <div className="my-card">
      <QrCode text={link} label={t('card.qr', { name })} />
      <div className="my-card-text">
        <p className="my-card-name">{name}</p>
        <p className="field-help">{t('card.help')}</p>
        <code className="link-text">{link}</code>
        <button type="button" className="button" onClick={() => void copy(link)}>
          {copied ? t('card.copied') : t('card.copy')}
        </button>
        <p className="fingerprint-line">
          {t('card.fingerprint')}: <span className="fingerprint">{status.fingerprint}</span>
        </p>
      </div>
    </div>
  )
}
