/**
 * The call controller's contract (call-controller.ts): what the UI reads
 * (CallsState, Notice), what it calls (CallController) and what the
 * controller is built from (CallControllerDeps).
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { Store } from '../base/store.js'
import type { Platform } from '../base/platform.js'
import type { KaiwaCall } from '../sip/call-session.js'
import type { KaiwaUserAgent } from '../sip/kaiwa-ua.js'
import type { CallHistoryEntry } from './call-record.js'
import type { CallView } from './call-view.js'
import type { VideoController } from './video-controller.js'
import type { CallQuality } from './call-quality.js'
import type { RemoteAudio } from './remote-audio.js'
import type { TonePlayer } from './tones.js'
import type { PrepareWhen } from './route-warmer.js'

export interface Notice {
  text: string
  tone: 'info' | 'error'
}

export interface CallsState {
  current: CallView | undefined
  notice: Notice | undefined
  history: CallHistoryEntry[]
  historyError: string | undefined
}

export interface CallControllerDeps {
  bridge: KaiwaBridge
  platform: Platform
  tones: TonePlayer
  audio: RemoteAudio
  /** The chosen microphone (undefined: the default one). */
  micId(): string | undefined
  /** The chosen camera (undefined: the default one). */
  cameraId?: () => string | undefined
  /** The cap on the video we send, kbit/s (undefined: none). */
  videoKbps?: () => number | undefined
  /** For the camera and the screen (getUserMedia, getDisplayMedia). */
  media?: MediaDevices
  log?: (text: string) => void
  /** A group call takes an incoming INVITE of its conference (true: not ours to ring). */
  claimIncoming?: (call: KaiwaCall) => boolean
  /** How a warm peer connection is made (tests); @default new RTCPeerConnection(config) */
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection
}

/** Place or answer with the camera on. */
export interface CallOptions {
  video?: boolean
}

export interface CallController {
  store: Store<CallsState>
  /** Use this UA for calls (undefined when it went away); returns a detach function. */
  attach(ua: KaiwaUserAgent): () => void
  dial(userId: string, opts?: CallOptions): Promise<void>
  /**
   * The user is about to dial (typed a user ID): start ICE gathering for the
   * call now (warm-connection.ts), so the INVITE can leave soon after Call,
   * and warm the overlay route to `input` when it is a user ID, now or once
   * typing pauses (route-warmer.ts).
   */
  prepare(input?: string, when?: PrepareWhen): void
  answer(opts?: CallOptions): Promise<void>
  /** Camera, screen, bitrate cap and the relay fallback of the current call. */
  video: VideoController
  decline(): Promise<void>
  hangup(): Promise<void>
  toggleMute(): void
  toggleHold(): Promise<void>
  dtmf(key: string): void
  dismissNotice(): void
  refreshHistory(): Promise<void>
  /** The latest quality sample of the current call (for tests and diagnostics). */
  latestQuality(): CallQuality | undefined
  /** The call being tracked, if any (a group call watches it for roster updates). */
  current(): KaiwaCall | undefined
  /** Stop tracking the current call without ending it: a group call (group-call.ts) takes it over. */
  release(): KaiwaCall | undefined
}
