/**
 * The call in progress: who, its state and timer, the video (CallVideoStage),
 * live quality (CallQualityList) with the media path and where encryption
 * ends, and the controls: Mute, Hold/Resume, the DTMF keypad, Camera, Share
 * screen, Add to call and Hang up. Incoming calls that are still
 * ringing are IncomingCall's; a group call is GroupCallView's.
 */
import { useState } from 'react'
import { t } from '../i18n/t.js'
import type { CallView } from '../call/call-controller.js'
import { useApp } from './app-context.js'
import { AnchorNote } from './CallEncryption.js'
import { CallQualityList } from './CallQualityList.js'
import { CallVideoStage } from './CallVideoStage.js'
import { CameraChoice, VideoControls } from './CallVideoControls.js'
import { DtmfPad } from './DtmfPad.js'
import { AddToCall } from './AddToCall.js'
import { GroupCallView } from './GroupCallView.js'
import { formatDuration } from './format.js'
import { useNow, useStore } from './hooks.js'
import { ScreenPicker } from './ScreenPicker.js'

export function CallPanel() {
  const app = useApp()
  const { current } = useStore(app.calls.store)
  const { group } = useStore(app.groupCall.store)
  if (group != null) return <GroupCallView group={group} />
  if (current == null || current.phase === 'incoming' || current.phase === 'ended') return null
  return <ActiveCall call={current} />
}

function stateText(c: CallView): string {
  switch (c.phase) {
    case 'preparing':
    case 'dialing':
      return t('call.dialing')
    case 'ringing':
      return t('call.ringing')
    case 'connecting':
      return t('call.connecting')
    default:
      if (c.reconnecting) return t('call.reconnecting')
      if (c.held) return t('call.onHold')
      if (c.heldByRemote) return t('call.heldByRemote', { peer: c.peer })
      return t('call.active')
  }
}

function ActiveCall({ call }: { call: CallView }) {
  const app = useApp()
  const { contacts } = useStore(app.contacts.store)
  const keyChanged = contacts.some((c) => c.name === call.peer && c.keyChanged)
  const now = useNow(1000)
  const [keypad, setKeypad] = useState(false)
  const active = call.phase === 'active'
  return (
    <section className="call-panel" aria-label={t('call.region', { peer: call.peer })}>
      <div className="call-who">
        <div className="avatar avatar-large" aria-hidden="true">
          {call.peer.slice(0, 1).toUpperCase()}
        </div>
        <div>
          <h2 className="call-peer">
            {call.peer}{' '}
            {keyChanged && (
              <span className="pill pill-danger" role="alert">
                {t('call.keyWarning', { peer: call.peer })}
              </span>
            )}
          </h2>
          <p className="call-state" role="status">
            {stateText(call)}
            {active && call.answeredAt != null && (
              <>
                {' · '}
                <time className="call-timer" aria-label={t('call.duration')}>
                  {formatDuration(now - call.answeredAt)}
                </time>
              </>
            )}
          </p>
        </div>
      </div>
      <AnchorNote anchor={call.anchor} peer={call.peer} />
      {active && <CallVideoStage call={call} />}
      {active && call.video.unavailable && (
        <p className="call-note" role="note">
          {t('video.unavailable', { peer: call.peer })}
        </p>
      )}
      {active && <CallQualityList call={call} />}
      <div className="call-controls">
        {active && (
          <>
            <button
              type="button"
              className="button"
              aria-pressed={call.muted}
              onClick={() => app.calls.toggleMute()}
            >
              {t('call.mute')}
            </button>
            <button
              type="button"
              className="button"
              aria-pressed={call.held}
              disabled={call.busy}
              onClick={() => void app.calls.toggleHold()}
            >
              {call.held ? t('call.resume') : t('call.hold')}
            </button>
            <button
              type="button"
              className="button"
              aria-expanded={keypad}
              aria-controls="dtmf-pad"
              onClick={() => setKeypad((k) => !k)}
            >
              {t('call.keypad')}
            </button>
            <VideoControls call={call} />
            <AddToCall inCall={[call.peer]} disabled={call.busy || call.held} />
          </>
        )}
        <button
          type="button"
          className="button button-hangup"
          onClick={() => void app.calls.hangup()}
        >
          {t('call.hangup')}
        </button>
      </div>
      {active && keypad && <DtmfPad sent={call.dtmf} onKey={(k) => app.calls.dtmf(k)} />}
      {active && <CameraChoice call={call} />}
      <ScreenPicker />
    </section>
  )
}
