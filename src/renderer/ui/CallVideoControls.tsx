/**
 * The call's video controls: Camera and Share screen toggles (pressed while
 * they send), off when the far end cannot take video, and the camera to use
 * while the camera is on.
 */
import { useId } from 'react'
import { t } from '../i18n/t.js'
import type { CallView } from '../call/call-controller.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function VideoControls({ call }: { call: CallView }) {
  const app = useApp()
  const { busy } = useStore(app.calls.video.store)
  const v = call.video
  const off = busy || call.busy || call.held || v.unavailable
  return (
    <>
      <button
        type="button"
        className="button"
        aria-pressed={v.source === 'camera'}
        disabled={off}
        onClick={() => void app.calls.video.toggleCamera()}
      >
        {t('video.camera')}
      </button>
      <button
        type="button"
        className="button"
        aria-pressed={v.source === 'screen'}
        disabled={off}
        onClick={() => void app.calls.video.toggleScreen()}
      >
        {t('video.shareScreen')}
      </button>
    </>
  )
}

export function CameraChoice({ call }: { call: CallView }) {
  const app = useApp()
  const d = useStore(app.devices.store)
  const id = useId()
  if (call.video.source !== 'camera' || d.cameras.length < 2) return null
  const current = app.devices.currentCamera() ?? ''
  return (
    <div className="field call-camera">
      <label htmlFor={id} className="field-label">
        {t('video.whichCamera')}
      </label>
      <select
        id={id}
        value={current}
        onChange={(e) => {
          const next = e.target.value === '' ? undefined : e.target.value
          app.devices.setCamera(next)
          void app.calls.video.switchCamera(next)
        }}
      >
        <option value="">{t('settings.systemDefault')}</option>
        {d.cameras.map((c, i) => (
          <option key={c.id} value={c.id}>
            {c.label || t('settings.cameraN', { n: i + 1 })}
          </option>
        ))}
      </select>
    </div>
  )
}
