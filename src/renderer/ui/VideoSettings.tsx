/** The camera and the cap on the video Kaiwa sends (RTCRtpSender maxBitrate). */
import { useId } from 'react'
import { VIDEO_KBPS_CHOICES } from '../settings/devices-controller.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function VideoSettings() {
  const app = useApp()
  const d = useStore(app.devices.store)
  const cameraId = useId()
  const capId = useId()
  const missing =
    d.cameraId != null && d.cameras.length > 0 && !d.cameras.some((c) => c.id === d.cameraId)
  return (
    <section className="settings-section" aria-labelledby="video-title">
      <h2 id="video-title">{t('settings.video')}</h2>
      <div className="field">
        <label htmlFor={cameraId} className="field-label">
          {t('settings.camera')}
        </label>
        <select
          id={cameraId}
          value={missing ? '' : (d.cameraId ?? '')}
          onChange={(e) =>
            app.devices.setCamera(e.target.value === '' ? undefined : e.target.value)
          }
        >
          <option value="">{t('settings.systemDefault')}</option>
          {d.cameras.map((c, i) => (
            <option key={c.id} value={c.id}>
              {c.label || t('settings.cameraN', { n: i + 1 })}
            </option>
          ))}
        </select>
        {missing && <p className="field-help">{t('settings.deviceMissing')}</p>}
      </div>
      <div className="field">
        <label htmlFor={capId} className="field-label">
          {t('settings.videoCap')}
        </label>
        <select
          id={capId}
          value={d.videoKbps == null ? 'none' : String(d.videoKbps)}
          aria-describedby={`${capId}-help`}
          onChange={(e) => {
            const v = e.target.value
            app.devices.setVideoKbps(v === 'none' ? undefined : Number(v))
            void app.calls.video.applyCap()
          }}
        >
          {VIDEO_KBPS_CHOICES.map((k) => (
            <option key={k} value={String(k)}>
              {t('unit.kbps', { n: k })}
            </option>
          ))}
          <option value="none">{t('settings.videoCapNone')}</option>
        </select>
        <p className="field-help" id={`${capId}-help`}>
          {t('settings.videoCapHelp')}
        </p>
      </div>
    </section>
  )
}
