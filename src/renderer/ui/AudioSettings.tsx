/** Microphone and speaker, following hot-plugged devices. */
import { useEffect, useId } from 'react'
import type { DeviceOption } from '../settings/devices-controller.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

function DeviceSelect(props: {
  label: string
  devices: DeviceOption[]
  value: string | undefined
  disabled?: boolean
  numbered: (n: number) => string
  onChange: (id: string | undefined) => void
}) {
  const id = useId()
  const missing = props.value != null && !props.devices.some((d) => d.id === props.value)
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      <select
        id={id}
        value={missing ? '' : (props.value ?? '')}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.value)}
      >
        <option value="">{t('settings.systemDefault')}</option>
        {props.devices.map((d, i) => (
          <option key={d.id} value={d.id}>
            {d.label || props.numbered(i + 1)}
          </option>
        ))}
      </select>
      {missing && <p className="field-help">{t('settings.deviceMissing')}</p>}
    </div>
  )
}

export function AudioSettings() {
  const app = useApp()
  const d = useStore(app.devices.store)
  useEffect(() => app.devices.watch(), [app])
  return (
    <section className="settings-section" aria-labelledby="audio-title">
      <h2 id="audio-title">{t('settings.audio')}</h2>
      <DeviceSelect
        label={t('settings.microphone')}
        devices={d.inputs}
        value={d.micId}
        numbered={(n) => t('settings.micN', { n })}
        onChange={(id) => app.devices.setMic(id)}
      />
      <DeviceSelect
        label={t('settings.speaker')}
        devices={d.outputs}
        value={d.speakerId}
        disabled={!d.sinkSupported}
        numbered={(n) => t('settings.speakerN', { n })}
        onChange={(id) => void app.devices.setSpeaker(id)}
      />
      {!d.sinkSupported && <p className="field-help">{t('settings.noSinkSelection')}</p>}
      {d.labelsHidden && (
        <p className="field-help">
          {t('settings.labelsHidden')}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => void app.devices.allowLabels()}
          >
            {t('settings.allowMic')}
          </button>
        </p>
      )}
      {d.error != null && (
        <p className="field-error" role="alert">
          {t('settings.deviceError', { reason: d.error })}
        </p>
      )}
      <p className="field-help">{t('settings.processing')}</p>
    </section>
  )
}
