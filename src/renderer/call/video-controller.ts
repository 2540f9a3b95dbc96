/**
 * The video actions of the call screen: Camera on and off, another camera,
 * Share screen (the browser's picker on the web; ours, over the desktop
 * app's list, in Electron), the bitrate cap, and dropping video when a
 * relayed path cannot carry it (video-fallback.ts). The call itself
 * (call-video.ts) decides between replaceTrack and a re-INVITE.
 */
import type { ScreenSource } from '../../shared/api/screen-share.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import type { Platform } from '../base/platform.js'
import { t } from '../i18n/t.js'
import { VideoUnavailableError } from '../sip/call-video.js'
import type { KaiwaCall } from '../sip/call-session.js'
import type { CallQuality } from './call-quality.js'
import { VideoFallback } from './video-fallback.js'

export interface VideoUiState {
  /** Electron's screen picker is open with these sources. */
  picker: ScreenSource[] | undefined
  /** A camera or screen change is under way. */
  busy: boolean
}

export interface VideoControllerDeps {
  platform: Platform
  media: MediaDevices | undefined
  cameraId(): string | undefined
  maxKbps(): number | undefined
  current(): KaiwaCall | undefined
  notice(text: string | undefined, tone?: 'info' | 'error'): void
  log(text: string): void
}

export interface VideoController {
  store: Store<VideoUiState>
  toggleCamera(): Promise<void>
  /** Use another camera now (in a call with the camera on). */
  switchCamera(id: string | undefined): Promise<void>
  toggleScreen(): Promise<void>
  /** Electron: the source picked in our picker. */
  shareSource(id: string): Promise<void>
  closePicker(): void
  /** The cap changed in Settings. */
  applyCap(): Promise<void>
  /** Each stats poll of the current call. */
  sample(q: CallQuality): void
  /** A new call. */
  reset(): void
}

/** A camera at up to 720p30 (the fake camera and real ones scale down as they must). */
export function cameraConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 30 },
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  }
}

/** What the user reads when the camera or the screen cannot be had. */
export function describeVideoError(err: unknown, what: 'camera' | 'screen'): string {
  const name = err instanceof Error ? err.name : ''
  if (err instanceof VideoUnavailableError) return t('video.unavailableNow')
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return what === 'camera' ? t('video.cameraDenied') : t('video.screenDenied')
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return t('video.cameraMissing')
  if (name === 'NotReadableError') return t('video.cameraBusy')
  return t('video.failed', { reason: err instanceof Error ? err.message : String(err) })
}

export function createVideoController(deps: VideoControllerDeps): VideoController {
  const { platform } = deps
  const store = createStore<VideoUiState>({ picker: undefined, busy: false })
  let fallback = new VideoFallback()
  /** The camera was on when sharing started: it comes back when sharing stops. */
  let cameraAfterScreen = false

  async function camera(): Promise<MediaStreamTrack> {
    if (deps.media?.getUserMedia == null) throw new Error('this browser has no camera access')
    await platform.cameraStarting()
    const stream = await deps.media.getUserMedia({ video: cameraConstraints(deps.cameraId()) })
    return stream.getVideoTracks()[0]!
  }

  /** Run one change on the current call; errors become a notice. */
  async function change(
    what: 'camera' | 'screen',
    run: (c: KaiwaCall) => Promise<void>,
  ): Promise<void> {
    const c = deps.current()
    if (c == null || c.phase !== 'active' || store.get().busy) return
    store.patch({ busy: true })
    try {
      await run(c)
      if (c.video.unavailable) deps.notice(t('video.unavailableNow'), 'info')
      else await c.video.setMaxBitrate(deps.maxKbps())
    } catch (err) {
      deps.log(`${what}: ${String(err)}`)
      deps.notice(describeVideoError(err, what))
    } finally {
      if (c.video.source !== 'camera' && !cameraAfterScreen) platform.cameraStopped()
      store.patch({ busy: false })
    }
  }

  async function shareTrack(track: MediaStreamTrack): Promise<void> {
    await change('screen', async (c) => {
      cameraAfterScreen = c.video.source === 'camera'
      await c.video.set('screen', track)
    })
  }

  return {
    store,
    toggleCamera: () =>
      change('camera', async (c) => {
        if (c.video.source === 'camera') await c.video.set('none')
        else {
          cameraAfterScreen = false
          await c.video.set('camera', await camera())
        }
      }),
    switchCamera: (id) =>
      change('camera', async (c) => {
        if (c.video.source !== 'camera' || deps.media?.getUserMedia == null) return
        const stream = await deps.media.getUserMedia({ video: cameraConstraints(id) })
        // Same source, new track: replaceTrack under a sending sender, no re-INVITE.
        await c.video.set('camera', stream.getVideoTracks()[0])
      }),
    async toggleScreen() {
      const c = deps.current()
      if (c == null || c.phase !== 'active') return
      if (c.video.source === 'screen') {
        const back = cameraAfterScreen
        cameraAfterScreen = false
        return change('screen', async (call) =>
          back ? call.video.set('camera', await camera()) : call.video.set('none'),
        )
      }
      if (platform.screens != null) {
        // Electron: our picker over desktopCapturer's list; the click there is the gesture.
        try {
          store.patch({ picker: await platform.screens.list() })
        } catch (err) {
          deps.notice(describeVideoError(err, 'screen'))
        }
        return
      }
      if (deps.media?.getDisplayMedia == null) return deps.notice(t('video.noScreenShare'))
      try {
        const stream = await deps.media.getDisplayMedia({ video: true, audio: false })
        await shareTrack(stream.getVideoTracks()[0]!)
      } catch (err) {
        deps.notice(describeVideoError(err, 'screen'))
      }
    },
    async shareSource(id) {
      store.patch({ picker: undefined })
      if (platform.screens == null || deps.media?.getDisplayMedia == null) return
      try {
        await platform.screens.choose(id)
        const stream = await deps.media.getDisplayMedia({ video: true, audio: false })
        await shareTrack(stream.getVideoTracks()[0]!)
      } catch (err) {
        deps.notice(describeVideoError(err, 'screen'))
      }
    },
    closePicker: () => store.patch({ picker: undefined }),
    async applyCap() {
      await deps.current()?.video.setMaxBitrate(deps.maxKbps())
    },
    sample(q) {
      const c = deps.current()
      if (c == null) return
      const verdict = fallback.sample({
        path: q.path,
        sending: c.video.source !== 'none',
        audioLossPercent: q.lossPercent,
        video: q.video,
      })
      if (!verdict.drop) return
      cameraAfterScreen = false
      void c.video.set('none').catch((err: unknown) => deps.log(`video fallback: ${String(err)}`))
      platform.cameraStopped()
      deps.notice(
        verdict.reason === 'loss'
          ? t('video.relayLoss', { loss: Math.round(verdict.lossPercent) })
          : t('video.relayBandwidth', { kbps: verdict.kbps }),
        'info',
      )
    },
    reset() {
      fallback = new VideoFallback()
      cameraAfterScreen = false
      store.patch({ picker: undefined, busy: false })
    },
  }
}
