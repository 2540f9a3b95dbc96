/**
 * The session description handler factory of our UA: sip.js's Web handler
 * (RTCPeerConnection, audio only) with what a softphone needs on top:
 *
 * - ICE servers per call: the UA fetches fresh STUN/TURN credentials before
 *   each call and hands them over through `mediaFor(session)`;
 * - fast gathering: a short gathering timeout (a longer ceiling with TURN)
 *   and an early finish once a relay or server-reflexive candidate exists
 *   (see ice-gathering.ts);
 * - a hook before the microphone is opened (Electron asks for the
 *   permission there);
 * - video: a video call opens the camera with the microphone (one prompt),
 *   and every offer and answer sets the video m= direction from what we send
 *   (call-video.ts), since sip.js gives all transceivers the audio's;
 * - an offer the browser refuses after the user pressed Answer is answered
 *   488 with the browser's words in a Reason header (RFC 3326), where sip.js
 *   would send 480 (issue 12 §4).
 */
import { Invitation, SessionState, Web } from 'sip.js'
import type { Session } from 'sip.js'
import { formatReason } from '../../shared/sip/reason-header.js'
import { fixVideoDirections } from './call-video.js'
import { EarlyGathering, gatheringTimeoutMs, hasTurnServer } from './ice-gathering.js'
import { offerBeforeMicrophone } from './late-microphone.js'
import type { LateMicrophoneReport } from './late-microphone.js'

/** What one call needs for its media. */
export interface CallMedia {
  iceServers: RTCIceServer[]
  /** getUserMedia audio constraints (device, echo cancellation, ...). */
  audio: MediaTrackConstraints
  /** getUserMedia video constraints for a video call; absent: audio only. */
  video?: MediaTrackConstraints
  /**
   * A connection made with `peerConnectionConfiguration(iceServers)` that is
   * already gathering (warm-connection.ts): the call adopts it.
   */
  peerConnection?: RTCPeerConnection
  /**
   * Set by a call we place with audio only: its INVITE leaves without waiting
   * for the microphone (late-microphone.ts), and the call hears here when the
   * microphone's track is on the sender, or why it could not be opened.
   */
  lateMicrophone?: LateMicrophoneReport
}

/** The configuration of every call's peer connection. */
export function peerConnectionConfiguration(iceServers: RTCIceServer[]): RTCConfiguration {
  return {
    iceServers,
    bundlePolicy: 'max-bundle',
    rtcpMuxPolicy: 'require',
    // Gather from the moment the connection exists (while the microphone opens and
    // the offer is made), not from setLocalDescription: Chromium asks TURN for a
    // relay candidate ~50 ms into gathering, and the offer waits for it.
    iceCandidatePoolSize: 1,
  }
}

export interface MediaHandlerOptions {
  mediaFor(session: Session): CallMedia | undefined
  /** Longest ICE gathering without TURN, ms (sip.js's own default is 5 s); with TURN, at least TURN_GATHERING_CEILING_MS. */
  iceGatheringTimeoutMs: number
  /** Runs before getUserMedia. */
  beforeMedia?: () => Promise<void>
}

/** Processing on, always: a softphone without them echoes and pumps. */
export function audioConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  }
}

export function createMediaHandlerFactory(
  opts: MediaHandlerOptions,
): Web.SessionDescriptionHandlerFactory {
  const getUserMedia = Web.defaultMediaStreamFactory()
  const videoOf = new WeakMap<object, MediaTrackConstraints>()
  const lateOf = new WeakMap<object, LateMicrophoneReport>()
  const open: Web.MediaStreamFactory = async (constraints, sdh, options) => {
    await opts.beforeMedia?.()
    // sip.js asks for audio only; a video call's camera opens in the same request.
    const video = videoOf.get(sdh)
    return getUserMedia(video != null ? { ...constraints, video } : constraints, sdh, options)
  }
  const streams: Web.MediaStreamFactory = async (constraints, sdh, options) => {
    const report = lateOf.get(sdh)
    // Once per call: the first offer of an outgoing audio call (later offers reuse the stream).
    lateOf.delete(sdh)
    if (report != null && !constraints.video)
      return offerBeforeMicrophone(sdh, () => open(constraints, sdh, options), report)
    return open(constraints, sdh, options)
  }
  const base = Web.defaultSessionDescriptionHandlerFactory(streams)
  return (session, options) => {
    const media = opts.mediaFor(session)
    const iceServers = media?.iceServers ?? []
    const turn = hasTurnServer(iceServers)
    const warm = media?.peerConnection
    const sdh = base(session, {
      ...options,
      // With TURN, a longer cap: the relay candidate needs two round trips (ice-gathering.ts).
      iceGatheringTimeout: gatheringTimeoutMs(turn, opts.iceGatheringTimeoutMs),
      // The connection sip.js makes is replaced at once by a warm one: no servers, no pool.
      peerConnectionConfiguration:
        warm != null ? { bundlePolicy: 'max-bundle' } : peerConnectionConfiguration(iceServers),
    })
    if (warm != null) adoptPeerConnection(sdh, warm)
    if (media?.video != null) videoOf.set(sdh, media.video)
    else if (media?.lateMicrophone != null) lateOf.set(sdh, media.lateMicrophone)
    setVideoDirections(sdh)
    refuseUnusableOffers(session, sdh)
    addRollback(sdh)
    const early = new EarlyGathering(turn, () => sdh.iceGatheringComplete())
    sdh.peerConnectionDelegate = {
      onicecandidate: (ev) => {
        if (ev.candidate) early.candidate(ev.candidate)
      },
      onicegatheringstatechange: () => {
        const state = sdh.peerConnection?.iceGatheringState
        if (state === 'complete') early.stop()
        // An ICE restart (call-recovery.ts) gathers again: time it from now.
        if (state === 'gathering') early.restart()
      },
    }
    return sdh
  }
}

/**
 * Give `sdh` the warm connection `pc` in place of the one sip.js made (closed
 * unused). sip.js makes its connection in the handler's constructor and has
 * no option to pass one, so its field is set and its handlers attached again.
 */
function adoptPeerConnection(sdh: Web.SessionDescriptionHandler, pc: RTCPeerConnection): void {
  const h = sdh as unknown as {
    _peerConnection: RTCPeerConnection | undefined
    initPeerConnectionEventHandlers(): void
  }
  h._peerConnection?.close()
  h._peerConnection = pc
  h.initPeerConnectionEventHandlers()
}

/** After sip.js set every transceiver's direction from the audio's, set the video's own. */
function setVideoDirections(sdh: Web.SessionDescriptionHandler): void {
  const h = sdh as unknown as {
    updateDirection(o?: Web.SessionDescriptionHandlerOptions): Promise<void>
  }
  const base = h.updateDirection.bind(sdh)
  h.updateDirection = async (options) => {
    await base(options)
    const pc = sdh.peerConnection
    if (pc != null) fixVideoDirections(pc, options?.hold === true)
  }
}

/**
 * sip.js rolls an offer back after a non-2xx answer to a re-INVITE (RFC 3261
 * §14.1: "the session parameters MUST remain unchanged") through the SDH's
 * optional `rollbackDescription`, which its Web handler lacks: the peer
 * connection stayed in have-local-offer and every later re-INVITE (hold,
 * video, an ICE restart after a 491) failed with "Invalid signaling state".
 */
function addRollback(sdh: Web.SessionDescriptionHandler): void {
  ;(sdh as { rollbackDescription?: () => Promise<void> }).rollbackDescription = async () => {
    const pc = sdh.peerConnection
    if (pc?.signalingState === 'have-local-offer')
      await pc.setLocalDescription({ type: 'rollback' })
  }
}

/**
 * While an incoming call is being answered, a remote offer that
 * setRemoteDescription refuses is 488 Not Acceptable Here (RFC 3261
 * §21.4.26), not sip.js's 480 Temporarily Unavailable: the caller's side can
 * then say that the audio could not be agreed, and why. Only the peer
 * connection's own refusal counts: a microphone that cannot be opened is not
 * the offer's fault. sip.js then sees the session terminated and sends
 * nothing more.
 */
function refuseUnusableOffers(session: Session, sdh: Web.SessionDescriptionHandler): void {
  const pc = sdh.peerConnection
  if (!(session instanceof Invitation) || pc == null) return
  const setRemote = pc.setRemoteDescription.bind(pc)
  pc.setRemoteDescription = (async (description: RTCSessionDescriptionInit) => {
    try {
      await setRemote(description)
    } catch (err) {
      if (session.state === SessionState.Establishing) {
        const why = err instanceof Error ? err.message : String(err)
        const reason = formatReason(488, `the browser refused the offer: ${why}`)
        await session
          .reject({ statusCode: 488, extraHeaders: [`Reason: ${reason}`] })
          .catch(() => {})
      }
      throw err
    }
  }) as RTCPeerConnection['setRemoteDescription']
}
