/** Theme (system, light, dark) and notifications. */
import { useState } from 'react'
import type { ThemeChoice } from '../settings/theme.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

const THEMES: Array<{ id: ThemeChoice; label: MessageKey }> = [
  { id: 'system', label: 'theme.system' },
  { id: 'light', label: 'theme.light' },
  { id: 'dark', label: 'theme.dark' },
]

export function AppearanceSettings() {
  const app = useApp()
  const theme = useStore(app.theme.store)
  const [permission, setPermission] = useState(() => app.platform.notificationPermission())
  return (
    <section className="settings-section" aria-labelledby="appearance-title">
      <h2 id="appearance-title">{t('settings.appearance')}</h2>
      <fieldset className="radio-row">
        <legend className="field-label">{t('theme.label')}</legend>
        {THEMES.map((th) => (
          <label key={th.id} className="radio">
            <input
              type="radio"
              name="theme"
              value={th.id}
              checked={theme.choice === th.id}
              onChange={() => app.theme.set(th.id)}
            />
            {t(th.label)}
          </label>
        ))}
      </fieldset>
      <div className="field">
        <span className="field-label">{t('settings.notifications')}</span>
        {permission === 'granted' ? (
          <p className="field-help">{t('settings.notificationsOn')}</p>
        ) : permission === 'denied' ? (
          <p className="field-help">{t('settings.notificationsDenied')}</p>
        ) : (
          <button
            type="button"
            className="button"
            onClick={() => void app.platform.askNotifications().then(setPermission)}
          >
            {t('settings.enableNotifications')}
          </button>
        )}
      </div>
    </section>
  )
}
