/** The account: user ID, key fingerprint, the shareable link and QR, and the backup. */
import { useState } from 'react'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { BackupForm } from './BackupForm.js'
import { Dialog } from './Dialog.js'
import { useStore } from './hooks.js'
import { MyCard } from './MyCard.js'

export function AccountSettings() {
  const app = useApp()
  const { name } = useStore(app.session.store)
  const [backup, setBackup] = useState(false)
  return (
    <section className="settings-section" aria-labelledby="account-title">
      <h2 id="account-title">{t('account.title')}</h2>
      <MyCard />
      <button type="button" className="button" onClick={() => setBackup(true)}>
        {t('account.backup')}
      </button>
      {backup && name != null && (
        <Dialog title={t('account.backupTitle')} onClose={() => setBackup(false)}>
          <BackupForm name={name} onDone={() => setBackup(false)} />
        </Dialog>
      )}
    </section>
  )
}
