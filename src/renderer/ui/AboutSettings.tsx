/** Versions, the data directory, and "Export logs" for bug reports. */
import { useState } from 'react'
import { downloadText, fileStamp } from '../base/download.js'
import { toApiError } from '../bridge/api-error.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function AboutSettings() {
  const app = useApp()
  const { about } = useStore(app.settings.store)
  const [error, setError] = useState<string | undefined>()
  const versions = { ...(about?.versions ?? {}), ...app.platform.versions }
  const exportLogs = async (): Promise<void> => {
    setError(undefined)
    try {
      const text = await app.settings.logs()
      downloadText(app.win.document, `kaiwa-logs-${fileStamp()}.txt`, text)
    } catch (err) {
      setError(t('about.logsFailed', { reason: toApiError(err).message }))
    }
  }
  return (
    <section className="settings-section" aria-labelledby="about-title">
      <h2 id="about-title">{t('about.title')}</h2>
      <p>{about?.app ?? t('app.name')}</p>
      <dl className="stats-grid">
        {Object.entries(versions).map(([k, v]) => (
          <div key={k} className="stats-pair">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
        {about != null && (
          <div className="stats-pair">
            <dt>{t('about.dataDir')}</dt>
            <dd className="mono">{about.dataDir}</dd>
          </div>
        )}
      </dl>
      <button type="button" className="button" onClick={() => void exportLogs()}>
        {t('about.exportLogs')}
      </button>
      {error != null && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
