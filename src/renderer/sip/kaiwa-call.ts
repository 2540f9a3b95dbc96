/**
 * One call as the UI sees it: the interface SipCall (call-session.ts)
 * implements over sip.js, and the tests fake.
 */
import type { SenderState } from '../../shared/identity/verification-state.js'
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import type { CallEnd } from './call-end.js'
import type { KaiwaCallConference } from './call-conference.js'
import type { KaiwaCallVideo } from './call-video.js'
import type { CallMedia } from './media-handler.js'

export type CallPhase = 'dialing' | 'ringing' | 'incoming' | 'connecting' | 'active' | 'ended'

export interface KaiwaCall {
  /** The SIP Call-ID. */
  readonly id: string
  readonly direction: 'in' | 'out'
  /** The other side's user ID. */
  readonly peer: string
  readonly displayName: string
  /**
   * How this node verified the caller (RFC 8224 Identity against the contact's
   * pinned key), from the INVITE's X-Kaiwa-Identity; incoming calls only.
   */
  readonly verification?: SenderState
  readonly phase: CallPhase
  readonly muted: boolean
  /** We put the call on hold. */
  readonly held: boolean
  /** The other side put the call on hold. */
  readonly heldByRemote: boolean
  /** The media path was lost and an ICE restart is under way (the phase stays `active`). */
  readonly reconnecting: boolean
  readonly end: CallEnd | undefined
  /**
   * Where the far end's media is anchored (`a=x-kaiwa-anchor`, media-anchor.ts):
   * `phone` means encryption ends at the far user's node, plain RTP from there
   * to their SIP phone. Undefined: end-to-end WebRTC (or not known yet).
   */
  readonly anchor: MediaAnchorKind | undefined
  /** Any change of the above; returns an unsubscribe function. */
  onChange(listener: () => void): () => void
  answer(media: CallMedia): Promise<void>
  /** Refuse an incoming call: 486 Busy Here, or 603 Decline. */
  decline(busy?: boolean): Promise<void>
  /** Cancel (not answered yet), hang up (BYE) or decline, whatever the phase needs. */
  hangup(): Promise<void>
  setMuted(muted: boolean): void
  /** Hold (re-INVITE sendonly/inactive) or resume. */
  setHeld(held: boolean): Promise<void>
  /** RFC 4733 through the RTP sender when it can, else SIP INFO (application/dtmf-relay). */
  sendDtmf(tones: string): Promise<'rtp' | 'info'>
  remoteStream(): MediaStream | undefined
  /** Camera, screen and the far end's video. */
  readonly video: KaiwaCallVideo
  /** Group-call signalling (call/group-mesh.ts); absent where a call cannot take part. */
  readonly conference?: KaiwaCallConference
  getStats(): Promise<RTCStatsReport | undefined>
}
