/**
 * One call, as the rest of the UI sees it (KaiwaCall), over a sip.js session
 * (an Inviter for calls we place, an Invitation for calls we get). The UI
 * never touches sip.js: phases, mute, hold, DTMF, video (call-video.ts),
 * stats and the way the call ended are all here (hanging up: call-hangup.ts).
 *
 * Phases:  out: dialing -> ringing (180) -> active -> ended
 *          in:  incoming -> connecting (answer) -> active -> ended
 *
 * A call the user answered never ends as "missed": when the answer cannot
 * be set up, the call ends as failed with the error (issue 12 §4).
 *
 * An established call whose media path dies (the device roamed to another
 * network) restarts ICE by re-INVITE, `reconnecting` meanwhile; if that
 * fails it ends as failed with `networkLost` (call-recovery.ts).
 */
import { IDENTITY_STATE_HEADER, parseState } from '../../shared/identity/verification-state.js'
import type { SenderState } from '../../shared/identity/verification-state.js'
import { mediaAnchorOf } from '../../shared/sip/media-anchor.js'
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import type { OfferProblem } from '../../shared/sip/webrtc-offer.js'
import { Invitation, SessionState } from 'sip.js'
import type { Inviter, Session, Web } from 'sip.js'
import { declineCall, hangupSession, refuseOffer } from './call-hangup.js'
import type { HangupHooks } from './call-hangup.js'
import { finalResponse, networkLostEnd, remoteCallEnd } from './call-end.js'
import { CallConference } from './call-conference.js'
import { CallRecovery } from './call-recovery.js'
import type { CallRecoveryOptions } from './call-recovery.js'
import { CallVideo } from './call-video.js'
import { sendDtmf } from './dtmf.js'
import type { CallEnd, FinalResponse } from './call-end.js'
import type { CallPhase, KaiwaCall } from './kaiwa-call.js'
import type { CallMedia } from './media-handler.js'
import type { LateMicrophoneReport } from './late-microphone.js'
import { Reinviter } from './reinvite.js'
import { preferOpus } from './sdp-codecs.js'
import { remoteSendsVideo } from './video-plan.js'

export type { CallEnd, CallOutcome } from './call-end.js'
export type { CallPhase, KaiwaCall } from './kaiwa-call.js'

export interface CallDeps {
  /** Hands the call's media (ICE servers, audio constraints) to the description handler. */
  setMedia(session: Session, media: CallMedia): void
  log(text: string): void
  /** ICE-restart tuning and the network-change source (tests). */
  recovery?: Pick<CallRecoveryOptions, 'networkChanges' | 'policy'>
}

export class SipCall implements KaiwaCall {
  readonly id: string
  readonly direction: 'in' | 'out'
  readonly peer: string
  readonly displayName: string
  readonly verification: SenderState | undefined
  private _phase: CallPhase
  private _muted = false
  private _held = false
  private _heldByRemote = false
  private _end: CallEnd | undefined
  private _anchor: MediaAnchorKind | undefined
  private answered = false
  /** accept() is running: its outcome, not the Terminated state, decides how the call ended. */
  private accepting = false
  private localEnd: CallEnd | undefined
  private finalResponse: FinalResponse | undefined
  private remoteCancelled = false
  private holdInFlight = false
  private wantVideo = false
  private readonly listeners = new Set<() => void>()
  private readonly reinviter: Reinviter
  private readonly recovery: CallRecovery
  private readonly hangupHooks: HangupHooks = {
    localEnd: (end) => {
      this.localEnd ??= end
    },
    fail: (err) => this.fail(err),
    log: (text) => this.deps.log(text),
  }
  readonly video: CallVideo
  /** Group-call signalling: the INVITE's conference header, roster INFOs. */
  readonly conference: CallConference

  constructor(
    private readonly session: Inviter | Invitation,
    private readonly deps: CallDeps,
  ) {
    this.direction = session instanceof Invitation ? 'in' : 'out'
    this.id = session.request.callId
    this.peer = session.remoteIdentity.uri.user ?? ''
    this.displayName = session.remoteIdentity.displayName || this.peer
    // Set by our own node after it verified the sender (any copy from the wire is stripped).
    this.verification =
      session instanceof Invitation
        ? parseState(session.request.getHeader(IDENTITY_STATE_HEADER))
        : undefined
    this._phase = this.direction === 'in' ? 'incoming' : 'dialing'
    this.conference = new CallConference(session, session.request, deps.log)
    if (session instanceof Invitation) this._anchor = mediaAnchorOf(session.body ?? '')
    this.reinviter = new Reinviter(session, this.direction === 'out', () => this._held)
    this.recovery = new CallRecovery(session, {
      ...deps.recovery,
      ownsCallId: this.direction === 'out',
      log: (text) => deps.log(`call ${this.id}: ${text}`),
      onState: (state) => {
        if (state === 'lost') this.localEnd ??= networkLostEnd()
        this.changed()
      },
    })
    this.video = new CallVideo(
      {
        pc: () => this.peerConnection(),
        localMediaStream: () => this.handler()?.localMediaStream,
        remoteMediaStream: () => this.handler()?.remoteMediaStream,
        reinvite: (prepare) => this.reinviter.run(this._held, prepare),
        anchor: () => this._anchor,
        changed: () => this.changed(),
        log: (text) => this.deps.log(text),
      },
      session instanceof Invitation && remoteSendsVideo(session.body ?? ''),
    )
    session.stateChange.addListener((state) => this.onState(state))
    session.delegate = {
      onCancel: () => {
        this.remoteCancelled = true
      },
      // Roster updates of a group call; other INFO (DTMF from a desk phone) is accepted and ignored.
      onInfo: (info) => this.conference.receive(info),
      onInvite: (request) => {
        // A re-INVITE from the other side: sendonly or inactive means we are on hold.
        const sdp = request.body ?? ''
        const held = /^a=(?:sendonly|inactive)\s*$/m.test(sdp)
        if (held !== this._heldByRemote) {
          this._heldByRemote = held
          this.changed()
        }
        this.noteRemoteSdp(request.body)
        this.changed()
      },
    }
  }

  get phase(): CallPhase {
    return this._phase
  }
  get muted(): boolean {
    return this._muted
  }
  get held(): boolean {
    return this._held
  }
  get heldByRemote(): boolean {
    return this._heldByRemote
  }
  get reconnecting(): boolean {
    return this._phase === 'active' && this.recovery.reconnecting
  }
  get end(): CallEnd | undefined {
    return this._end
  }
  get anchor(): MediaAnchorKind | undefined {
    return this._anchor
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Send the INVITE (outgoing calls; the UA calls this once). */
  start(media: CallMedia): void {
    const inviter = this.session as Inviter
    this.wantVideo = media.video != null
    // An audio call's INVITE leaves before the microphone opens (late-microphone.ts).
    const late: LateMicrophoneReport = (outcome) => {
      if ('error' in outcome) this.fail(outcome.error)
      else this.applyTracks()
    }
    this.deps.setMedia(inviter, media.video == null ? { ...media, lateMicrophone: late } : media)
    inviter
      .invite({
        sessionDescriptionHandlerOptions: { constraints: { audio: media.audio, video: false } },
        sessionDescriptionHandlerModifiers: [preferOpus],
        requestDelegate: {
          onProgress: (r) => {
            const code = r.message.statusCode ?? 0
            this.noteRemoteSdp(r.message.body)
            if ((code === 180 || code === 183) && this._phase === 'dialing')
              this.setPhase('ringing')
          },
          onAccept: (r) => {
            this.noteRemoteSdp(r.message.body)
            this.video.noteAnswer(r.message.body ?? '')
          },
          onReject: (r) => this.noteFinal(r.message),
          onRedirect: (r) => this.noteFinal(r.message),
        },
      })
      .catch((err: unknown) => this.fail(err))
  }

  async answer(media: CallMedia): Promise<void> {
    if (!(this.session instanceof Invitation) || this._phase !== 'incoming') return
    this.wantVideo = media.video != null
    this.deps.setMedia(this.session, media)
    this.setPhase('connecting')
    this.accepting = true
    try {
      await this.session.accept({
        sessionDescriptionHandlerOptions: { constraints: { audio: media.audio, video: false } },
        sessionDescriptionHandlerModifiers: [preferOpus],
      })
    } catch (err) {
      // sip.js has already refused the INVITE (480) and terminated the session; the error
      // it rejects with is the cause the user reads, instead of "missed".
      this.fail(err)
      throw err
    } finally {
      this.accepting = false
      if (this.session.state === SessionState.Terminated) queueMicrotask(() => this.finish())
    }
  }

  /**
   * Refuse an incoming offer this app cannot use, before it rings: 488 Not
   * Acceptable Here (RFC 3261 §21.4.26) with the cause in a Reason header
   * (RFC 3326) so the caller's side can say why.
   */
  async refuse(problem: OfferProblem): Promise<void> {
    if (await refuseOffer(this.session, problem, this.hangupHooks)) this.finish()
  }

  decline(busy = false): Promise<void> {
    return declineCall(this.session, busy, this.hangupHooks)
  }

  hangup(): Promise<void> {
    return hangupSession(this.session, this.hangupHooks)
  }

  setMuted(muted: boolean): void {
    if (this._muted === muted) return
    this._muted = muted
    this.applyTracks()
    this.changed()
  }

  async setHeld(held: boolean): Promise<void> {
    if (this._phase !== 'active' || this._held === held || this.holdInFlight) return
    this.holdInFlight = true
    try {
      await this.reinviter.run(held)
      this._held = held
      this.applyTracks()
      this.changed()
    } finally {
      this.holdInFlight = false
    }
  }

  sendDtmf(tones: string): Promise<'rtp' | 'info'> {
    return sendDtmf(this.session, this.peerConnection(), tones)
  }

  remoteStream(): MediaStream | undefined {
    return this.handler()?.remoteMediaStream
  }

  async getStats(): Promise<RTCStatsReport | undefined> {
    return this.peerConnection()?.getStats()
  }

  private handler(): Web.SessionDescriptionHandler | undefined {
    return this.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined
  }

  private peerConnection(): RTCPeerConnection | undefined {
    return this.handler()?.peerConnection
  }

  private applyTracks(): void {
    for (const s of this.peerConnection()?.getSenders() ?? []) {
      if (s.track) s.track.enabled = !this._muted && !this._held
    }
  }

  private noteFinal(m: {
    statusCode?: number
    reasonPhrase?: string
    getHeaders(name: string): string[]
  }): void {
    this.finalResponse = finalResponse(m.statusCode, m.reasonPhrase, m.getHeaders('reason'))
  }

  /** The far end's SDP names where its media is anchored (media-anchor.ts). */
  private noteRemoteSdp(body: string | undefined): void {
    this.adoptCamera()
    if (body == null || body === '') return
    const anchor = mediaAnchorOf(body)
    if (anchor === this._anchor) return
    this._anchor = anchor
    this.changed()
  }

  /** A video call's camera, opened with the microphone by the media factory, is ours to show. */
  private adoptCamera(): void {
    if (!this.wantVideo || this.video.source !== 'none') return
    const track = this.handler()?.localMediaStream.getVideoTracks()[0]
    if (track == null) return
    this.wantVideo = false
    this.video.adoptInitial(track)
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    this.deps.log(`call ${this.id}: ${error.message}`)
    this.localEnd ??= { outcome: 'failed', by: 'local', reason: error.message, error }
    if (this.session.state !== SessionState.Terminated) {
      void this.session.dispose().catch(() => {})
    }
    // dispose() may not move an Initial session to Terminated before it is sent.
    queueMicrotask(() => this.finish())
  }

  private onState(state: SessionState): void {
    if (state === SessionState.Established) {
      this.answered = true
      this.adoptCamera()
      this.video.watchRemote()
      this.applyTracks()
      const pc = this.peerConnection()
      if (pc != null) this.recovery.attach(pc)
      this.setPhase('active')
      void this.video.applyCap()
    } else if (state === SessionState.Terminated && !this.accepting) {
      // sip.js terminates the session before it hands the final response to our request
      // delegate (Inviter.onReject, then requestDelegate.onReject): let that land first.
      queueMicrotask(() => this.finish())
    }
  }

  private finish(): void {
    if (this._phase === 'ended') return
    this.video.drop()
    this.recovery.dispose()
    this._end =
      this.localEnd ??
      remoteCallEnd({
        direction: this.direction,
        answered: this.answered,
        remoteCancelled: this.remoteCancelled,
        finalResponse: this.finalResponse,
      })
    this.setPhase('ended')
  }

  private setPhase(phase: CallPhase): void {
    if (this._phase === phase || this._phase === 'ended') return
    this._phase = phase
    this.changed()
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      try {
        l()
      } catch (err) {
        this.deps.log(`call listener failed: ${String(err)}`)
      }
    }
  }
}
