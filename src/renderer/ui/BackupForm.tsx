/**
 * Back up the account: a passphrase (twice), then the node encrypts the
 * account key and user ID with it (`identityExport`) and the browser saves
 * the result as a file. Without the backup, a lost device means a lost user ID.
 */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { downloadText, fileStamp } from '../base/download.js'
import { toApiError } from '../bridge/api-error.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'

const MIN_PASSPHRASE = 8

export function BackupForm(props: { name: string; onDone: () => void; doneLabel?: string }) {
  const app = useApp()
  const [pass, setPass] = useState('')
  const [again, setAgain] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [saved, setSaved] = useState(false)
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (pass.length < MIN_PASSPHRASE) return setError(t('backup.tooShort', { n: MIN_PASSPHRASE }))
    if (pass !== again) return setError(t('backup.mismatch'))
    setBusy(true)
    setError(undefined)
    try {
      const backup = await app.settings.exportIdentity(pass)
      downloadText(app.win.document, `kaiwa-${props.name}-${fileStamp()}.kaiwa-backup`, backup)
      setSaved(true)
      setPass('')
      setAgain('')
    } catch (err) {
      setError(t('backup.failed', { reason: toApiError(err).message }))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form" onSubmit={(e) => void submit(e)}>
      <p className="field-help">{t('backup.help')}</p>
      {/* For password managers: which account this passphrase belongs to. */}
      <input
        type="text"
        name="username"
        autoComplete="username"
        value={props.name}
        readOnly
        hidden
      />
      <label className="field-label" htmlFor="backup-pass">
        {t('backup.passphrase')}
      </label>
      <input
        id="backup-pass"
        type="password"
        autoComplete="new-password"
        value={pass}
        onChange={(e) => setPass(e.target.value)}
      />
      <label className="field-label" htmlFor="backup-again">
        {t('backup.again')}
      </label>
      <input
        id="backup-again"
        type="password"
        autoComplete="new-password"
        value={again}
        onChange={(e) => setAgain(e.target.value)}
      />
      {error != null && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {saved && (
        <p className="field-ok" role="status">
          {t('backup.saved')}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={props.onDone}>
          {saved ? (props.doneLabel ?? t('common.close')) : t('backup.later')}
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? t('backup.working') : t('backup.download')}
        </button>
      </div>
    </form>
  )
}
