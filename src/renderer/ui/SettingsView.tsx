/** Settings: audio and video devices, notifications, theme, files, supernode, network, account, its devices, about. */
import { useEffect } from 'react'
import { t } from '../i18n/t.js'
import { AboutSettings } from './AboutSettings.js'
import { AccountSettings } from './AccountSettings.js'
import { AccountDevices } from './AccountDevices.js'
import { useApp } from './app-context.js'
import { AudioSettings } from './AudioSettings.js'
import { AppearanceSettings } from './AppearanceSettings.js'
import { FileSettings } from './FileSettings.js'
import { NetworkStatus } from './NetworkStatus.js'
import { SupernodeSettings } from './SupernodeSettings.js'
import { VideoSettings } from './VideoSettings.js'

export function SettingsView() {
  const app = useApp()
  useEffect(() => {
    void app.settings.load()
  }, [app])
  return (
    <section className="view settings" aria-labelledby="settings-title">
      <header className="view-header">
        <h1 id="settings-title">{t('settings.title')}</h1>
      </header>
      <AudioSettings />
      <VideoSettings />
      <AppearanceSettings />
      <FileSettings />
      <SupernodeSettings />
      <NetworkStatus />
      <AccountSettings />
      <AccountDevices />
      <AboutSettings />
    </section>
  )
}
