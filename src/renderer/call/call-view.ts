/** The current call as the screens read it (`CallsState.current`), built from the session. */
import type { SenderState } from '../../shared/identity/verification-state.js'
import type { MediaPath } from '../../shared/api/contract.js'
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import type { CallPhase, KaiwaCall } from '../sip/call-session.js'
import type { VideoSource } from '../sip/call-video.js'
import type { CallQuality } from './call-quality.js'

export interface CallView {
  id: string
  peer: string
  direction: 'in' | 'out'
  /** `preparing`: fetching ICE servers and the microphone, before the INVITE. */
  phase: CallPhase | 'preparing'
  muted: boolean
  held: boolean
  heldByRemote: boolean
  /** The media path was lost (the network changed) and the call is reconnecting. */
  reconnecting: boolean
  startedAt: number
  answeredAt: number | undefined
  quality: CallQuality | undefined
  path: MediaPath
  /**
   * Where encryption ends when the far end's media is anchored at its node
   * (`phone`: DTLS-SRTP to the far user's node, plain RTP from there to their
   * SIP phone). Absent: end to end.
   */
  anchor?: MediaAnchorKind
  /** DTMF digits sent in this call. */
  dtmf: string
  busy: boolean
  /** The caller's verification state (incoming calls), shown before answering. */
  verification?: SenderState
  video: CallVideoView
  /** An invitation into a group call: everyone in it, us included (conference-id.ts). */
  groupWith?: string[]
}

/** The call's video as the screen shows it. */
export interface CallVideoView {
  /** What we send. */
  source: VideoSource
  /** The caller offers video (an incoming call, before answering). */
  offered: boolean
  /** The far end cannot take video (audio-only peer, SIP phone). */
  unavailable: boolean
  /** The far end's video is arriving. */
  remoteLive: boolean
  /** Our camera or screen, for the self view. */
  local: MediaStream | undefined
  /** The far end's media (its video track plays in the call view). */
  remote: MediaStream | undefined
}

const NO_VIDEO: CallVideoView = {
  source: 'none',
  offered: false,
  unavailable: false,
  remoteLive: false,
  local: undefined,
  remote: undefined,
}

/** What the controller tracks beside the session. */
export interface CallExtras {
  startedAt: number
  answeredAt: number | undefined
  quality: CallQuality | undefined
  path: MediaPath
  dtmf: string
  busy: boolean
}

/** An outgoing call before its INVITE: the microphone and ICE servers are being fetched. */
export function preparingView(peer: string, startedAt: number): CallView {
  return {
    id: '',
    peer,
    direction: 'out',
    phase: 'preparing',
    muted: false,
    held: false,
    heldByRemote: false,
    reconnecting: false,
    startedAt,
    answeredAt: undefined,
    quality: undefined,
    path: 'unknown',
    dtmf: '',
    busy: false,
    video: NO_VIDEO,
  }
}

export function callView(call: KaiwaCall, x: CallExtras): CallView {
  return {
    id: call.id,
    peer: call.peer,
    direction: call.direction,
    phase: call.phase,
    muted: call.muted,
    held: call.held,
    heldByRemote: call.heldByRemote,
    reconnecting: call.reconnecting,
    ...x,
    video: {
      source: call.video.source,
      offered: call.video.offered,
      unavailable: call.video.unavailable,
      remoteLive: call.video.remoteLive,
      local: call.video.localStream(),
      remote: call.remoteStream(),
    },
    ...(call.anchor != null ? { anchor: call.anchor } : {}),
    ...(call.verification != null ? { verification: call.verification } : {}),
    ...(call.direction === 'in' && call.conference?.invite != null
      ? { groupWith: call.conference.invite.members }
      : {}),
  }
}
