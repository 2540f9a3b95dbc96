/** This account's `kaiwa:` link (with the key fingerprint) as text, QR code and a copy button. */
import { useState } from 'react'
import { formatKaiwaLink } from '../contacts/kaiwa-link.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'
import { QrCode } from './QrCode.js'

export function MyCard() {
  const app = useApp()
  const { name, status } = useStore(app.session.store)
  const [copied, setCopied] = useState(false)
  if (name == null || status == null) return null
  const link = formatKaiwaLink({ name, fingerprint: status.fingerprint })
  const copy = async (): Promise<void> => {
    try {
      await app.win.navigator.clipboard.writeText(link)
      setCopied(true)
      setTimeout(() => setCopied(false), 2000)
    } catch {
      setCopied(false)
    }
  }
  return (
    <div className="my-card">
      <QrCode text={link} label={t('card.qr', { name })} />
      <div className="my-card-text">
        <p className="my-card-name">{name}</p>
        <p className="field-help">{t('card.help')}</p>
        <code className="link-text">{link}</code>
        <button type="button" className="button" onClick={() => void copy()}>
          {copied ? t('card.copied') : t('card.copy')}
        </button>
        <p className="fingerprint-line">
          {t('card.fingerprint')}: <span className="fingerprint">{status.fingerprint}</span>
        </p>
      </div>
    </div>
  )
}
