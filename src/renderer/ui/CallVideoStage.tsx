/**
 * The video of the call in progress: the far end's video filling the call
 * view (with Full screen), our camera or shared screen as a small self view
 * (mirrored for a camera, as a mirror is what people expect of themselves).
 * The far end's sound plays elsewhere (remote-audio.ts), so the video
 * element is muted.
 */
import { useEffect, useRef } from 'react'
import { t } from '../i18n/t.js'
import type { CallView } from '../call/call-controller.js'

function Video(props: {
  stream: MediaStream | undefined
  className: string
  label: string
  videoRef?: React.RefObject<HTMLVideoElement | null>
}) {
  const own = useRef<HTMLVideoElement | null>(null)
  const ref = props.videoRef ?? own
  useEffect(() => {
    const el = ref.current
    if (el == null) return
    if (el.srcObject !== (props.stream ?? null)) el.srcObject = props.stream ?? null
    if (props.stream != null) void el.play().catch(() => {})
  }, [props.stream, ref])
  return (
    <video
      ref={ref}
      className={props.className}
      aria-label={props.label}
      autoPlay
      playsInline
      muted
    />
  )
}

export function CallVideoStage({ call }: { call: CallView }) {
  const remoteRef = useRef<HTMLVideoElement | null>(null)
  const v = call.video
  const showRemote = v.remoteLive
  if (!showRemote && v.source === 'none') return null
  const fullScreen = (): void => {
    const stage = remoteRef.current?.parentElement
    if (stage != null && document.fullscreenElement == null) void stage.requestFullscreen()
    else void document.exitFullscreen?.()
  }
  return (
    <div className={`call-stage${showRemote ? ' call-stage-remote' : ''}`}>
      <Video
        stream={v.remote}
        className={showRemote ? 'remote-video' : 'remote-video remote-video-idle'}
        label={t('video.remote', { peer: call.peer })}
        videoRef={remoteRef}
      />
      {!showRemote && (
        <p className="call-stage-waiting">{t('video.waiting', { peer: call.peer })}</p>
      )}
      {v.source !== 'none' && (
        <Video
          stream={v.local}
          className={`self-video${v.source === 'camera' ? ' self-video-mirrored' : ''}`}
          label={v.source === 'camera' ? t('video.self') : t('video.selfScreen')}
        />
      )}
      {showRemote && (
        <button type="button" className="button stage-fullscreen" onClick={fullScreen}>
          {t('video.fullScreen')}
        </button>
      )}
    </div>
  )
}
