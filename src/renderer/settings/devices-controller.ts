/**
 * Microphone, speaker and camera choice, and the cap on the video we send.
 * Devices come from enumerateDevices and
 * follow hot-plugging (`devicechange`); the choice is kept per browser. A
 * chosen device that disappears falls back to the system default until it
 * comes back. Labels stay hidden until the page may use the microphone once,
 * which `allowLabels()` asks for.
 */
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import type { Prefs } from '../base/prefs.js'

export interface DeviceOption {
  id: string
  /** Empty until microphone permission is granted; the screen numbers those. */
  label: string
}

export interface DevicesState {
  inputs: DeviceOption[]
  outputs: DeviceOption[]
  cameras: DeviceOption[]
  /** The saved choice (may be absent right now). */
  micId: string | undefined
  speakerId: string | undefined
  cameraId: string | undefined
  /** The cap on the video we send, kbit/s; undefined: none (congestion control alone). */
  videoKbps: number | undefined
  /** Labels are empty until microphone permission is granted. */
  labelsHidden: boolean
  sinkSupported: boolean
  error: string | undefined
}

export interface DevicesController {
  store: Store<DevicesState>
  refresh(): Promise<void>
  watch(): () => void
  allowLabels(): Promise<void>
  setMic(id: string | undefined): void
  setSpeaker(id: string | undefined): Promise<void>
  setCamera(id: string | undefined): void
  setVideoKbps(kbps: number | undefined): void
  currentCamera(): string | undefined
  /** The microphone to use now: the chosen one if present, else the default. */
  currentMic(): string | undefined
  currentSpeaker(): string | undefined
}

/**
 * The default cap: 1.5 Mbit/s is sharp 720p (or a readable screen) and fits
 * a supernode's default TURN allocation (4 Mbit/s and 500 packets/s each way,
 * src/overlay/turn/relay-limits.ts) with room for the audio and its RTCP.
 */
export const DEFAULT_VIDEO_KBPS = 1500
export const VIDEO_KBPS_CHOICES = [300, 600, 1000, 1500, 2500, 4000] as const

function videoKbpsPref(saved: string | undefined): number | undefined {
  if (saved === 'none') return undefined
  const n = Number(saved)
  return (VIDEO_KBPS_CHOICES as readonly number[]).includes(n) ? n : DEFAULT_VIDEO_KBPS
}

export function createDevicesController(deps: {
  media: MediaDevices | undefined
  prefs: Prefs
  /** Applies the speaker to the call audio and the tones. */
  applySink(id: string | undefined): Promise<void>
  sinkSupported: boolean
}): DevicesController {
  const { media, prefs } = deps
  const store = createStore<DevicesState>({
    inputs: [],
    outputs: [],
    cameras: [],
    micId: prefs.get('mic'),
    speakerId: prefs.get('speaker'),
    cameraId: prefs.get('camera'),
    videoKbps: videoKbpsPref(prefs.get('videoKbps')),
    labelsHidden: false,
    sinkSupported: deps.sinkSupported,
    error: undefined,
  })
  const present = (list: DeviceOption[], id: string | undefined): string | undefined =>
    id !== undefined && list.some((d) => d.id === id) ? id : undefined

  async function refresh(): Promise<void> {
    if (media?.enumerateDevices == null) return
    try {
      const all = await media.enumerateDevices()
      // "default" and "communications" are Chromium's aliases of real devices; the UI offers
      // "System default" itself.
      const pick = (kind: MediaDeviceKind): DeviceOption[] =>
        all
          .filter(
            (d) =>
              d.kind === kind &&
              d.deviceId !== '' &&
              d.deviceId !== 'default' &&
              d.deviceId !== 'communications',
          )
          .map((d) => ({ id: d.deviceId, label: d.label }))
      const inputs = pick('audioinput')
      const outputs = pick('audiooutput')
      const cameras = pick('videoinput')
      store.patch({
        inputs,
        outputs,
        cameras,
        labelsHidden: all.some((d) => d.kind === 'audioinput' && d.label === ''),
        error: undefined,
      })
      await deps.applySink(present(outputs, store.get().speakerId)).catch(() => {})
    } catch (err) {
      store.patch({ error: err instanceof Error ? err.message : String(err) })
    }
  }

  return {
    store,
    refresh,
    watch() {
      void refresh()
      const onChange = (): void => void refresh()
      media?.addEventListener('devicechange', onChange)
      return () => media?.removeEventListener('devicechange', onChange)
    },
    async allowLabels() {
      if (media?.getUserMedia == null) return
      try {
        const stream = await media.getUserMedia({ audio: true })
        for (const track of stream.getTracks()) track.stop()
      } catch (err) {
        store.patch({ error: err instanceof Error ? err.name : String(err) })
      }
      await refresh()
    },
    setMic(id) {
      prefs.set('mic', id)
      store.patch({ micId: id })
    },
    async setSpeaker(id) {
      prefs.set('speaker', id)
      store.patch({ speakerId: id })
      await deps
        .applySink(id)
        .catch((err: unknown) =>
          store.patch({ error: err instanceof Error ? err.message : String(err) }),
        )
    },
    setCamera(id) {
      prefs.set('camera', id)
      store.patch({ cameraId: id })
    },
    setVideoKbps(kbps) {
      prefs.set('videoKbps', kbps === undefined ? 'none' : String(kbps))
      store.patch({ videoKbps: kbps })
    },
    // Before the first listing the saved camera is tried; once listed, only a present one.
    currentCamera: () => {
      const { cameras, cameraId } = store.get()
      return cameras.length === 0 ? cameraId : present(cameras, cameraId)
    },
    currentMic: () => present(store.get().inputs, store.get().micId) ?? store.get().micId,
    currentSpeaker: () => present(store.get().outputs, store.get().speakerId),
  }
}
