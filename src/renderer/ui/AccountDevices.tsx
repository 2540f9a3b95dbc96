/**
 * Settings → Devices (issue 15 §3): every device of this account, which one
 * this is, which the account's record lists now, and Remove for the others
 * (asked once more: it cannot be undone from here).
 */
import { useEffect, useMemo, useState } from 'react'
import { t } from '../i18n/t.js'
import { createAccountDevicesController } from '../settings/account-devices.js'
import type { AccountDevicesController } from '../settings/account-devices.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function AccountDevices({ controller }: { controller?: AccountDevicesController }) {
  const app = useApp()
  const devices = useMemo(
    () => controller ?? createAccountDevicesController(app.bridge),
    [controller, app],
  )
  const s = useStore(devices.store)
  const [confirming, setConfirming] = useState<string>()
  useEffect(() => {
    void devices.load()
  }, [devices])
  const short = (peerId: string): string => `…${peerId.slice(-8)}`
  return (
    <section className="settings-section" aria-labelledby="devices-title">
      <h2 id="devices-title">{t('devices.title')}</h2>
      <p className="field-help">{t('devices.help')}</p>
      {s.error != null && (
        <p className="error" role="alert">
          {t('devices.failed', { reason: s.error })}
        </p>
      )}
      <ul className="device-list">
        {(s.devices ?? []).map((d) => (
          <li key={d.peerId} className="device-item">
            <span className="device-id" title={d.peerId}>
              {short(d.peerId)}
            </span>{' '}
            <span className="device-state">
              {d.self
                ? t('devices.thisDevice')
                : d.removed
                  ? t('devices.removed')
                  : d.listed
                    ? t('devices.online')
                    : t('devices.away', { lastSeen: new Date(d.lastSeen).toLocaleString() })}
            </span>
            {!d.self && !d.removed && confirming !== d.peerId && (
              <button
                type="button"
                className="button"
                aria-label={t('devices.removeLabel', { id: short(d.peerId) })}
                onClick={() => setConfirming(d.peerId)}
              >
                {t('devices.remove')}
              </button>
            )}
            {confirming === d.peerId && (
              <span className="device-confirm">
                {t('devices.confirm')}{' '}
                <button
                  type="button"
                  className="button button-danger"
                  disabled={s.removing != null}
                  onClick={() => void devices.remove(d.peerId).then(() => setConfirming(undefined))}
                >
                  {t('devices.removeNow')}
                </button>{' '}
                <button type="button" className="button" onClick={() => setConfirming(undefined)}>
                  {t('devices.keep')}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
