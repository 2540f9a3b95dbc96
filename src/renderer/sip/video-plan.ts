/**
 * Video in a call, as offer/answer sees it (RFC 3264, JSEP RFC 8829): pure
 * decisions over what the peer connection has, so they are unit-tested
 * without a browser.
 *
 * - Our local video source is `none`, `camera` or `screen`. Swapping one
 *   source for another is RTCRtpSender.replaceTrack: no new offer (W3C
 *   WebRTC §5.2: replaceTrack needs no negotiation while the m= section sends).
 *   Starting or stopping video changes the video m= section's direction, so
 *   it takes a re-INVITE (RFC 3261 §14).
 * - The video transceiver's direction follows what we send and hold:
 *   sending → sendrecv (held: sendonly); not sending → recvonly (held:
 *   inactive). We keep receiving while our camera is off.
 * - A far end that cannot do video rejects the m=video with port 0 (RFC
 *   3264 §6); a far end that accepts it but says `inactive` (or `sendonly`
 *   while we offered to send) takes no video from us either.
 */

export type VideoSource = 'none' | 'camera' | 'screen'

/** What the peer connection has for video, read by call-video.ts. */
export interface VideoState {
  source: VideoSource
  /** A video transceiver that is not stopped exists. */
  transceiver: boolean
}

export interface VideoStep {
  /** Put this source's track on the sender (null: take it off). */
  track: VideoSource
  /** Add a transceiver (there is none to reuse). */
  addTransceiver: boolean
  /** A re-INVITE is needed (the m=video direction or the m= lines change). */
  renegotiate: boolean
}

/** How to go from `state` to sending `want`. Undefined: nothing to do. */
export function planVideo(state: VideoState, want: VideoSource): VideoStep | undefined {
  if (state.source === want) return undefined
  if (want === 'none') return { track: 'none', addTransceiver: false, renegotiate: true }
  if (state.source !== 'none' && state.transceiver) {
    // camera ⇄ screen on a sending sender: replaceTrack only.
    return { track: want, addTransceiver: false, renegotiate: false }
  }
  return { track: want, addTransceiver: !state.transceiver, renegotiate: true }
}

/** The direction the video transceiver should have (see the header). */
export function videoDirection(sending: boolean, hold: boolean): RTCRtpTransceiverDirection {
  if (sending) return hold ? 'sendonly' : 'sendrecv'
  return hold ? 'inactive' : 'recvonly'
}

interface MediaSection {
  media: string
  port: number
  direction: RTCRtpTransceiverDirection
}

/** The m= sections of an SDP body with their port and direction (RFC 8866 §5.14, §6.7). */
export function mediaSections(sdp: string): MediaSection[] {
  const out: MediaSection[] = []
  let session: RTCRtpTransceiverDirection = 'sendrecv'
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(\S+) (\d+)/.exec(line)
    if (m != null) {
      out.push({ media: m[1]!, port: Number(m[2]), direction: session })
      continue
    }
    const d = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.exec(line)
    if (d == null) continue
    const dir = d[1] as RTCRtpTransceiverDirection
    if (out.length === 0) session = dir
    else out[out.length - 1]!.direction = dir
  }
  return out
}

/** The body offers or accepts video at all (an m=video with a port other than 0). */
export function hasVideo(sdp: string): boolean {
  return mediaSections(sdp).some((m) => m.media === 'video' && m.port !== 0)
}

/** The far end (whose body this is) will send us video. */
export function remoteSendsVideo(sdp: string): boolean {
  return mediaSections(sdp).some(
    (m) =>
      m.media === 'video' &&
      m.port !== 0 &&
      (m.direction === 'sendrecv' || m.direction === 'sendonly'),
  )
}

/**
 * The far end's answer to an offer in which we wanted to send video: does
 * it take our video? False for a rejected m=video (port 0: an audio-only
 * peer, a SIP phone through its node's media anchor), none at all, or one
 * it will not receive.
 */
export function answerTakesVideo(answer: string): boolean {
  return mediaSections(answer).some(
    (m) =>
      m.media === 'video' &&
      m.port !== 0 &&
      (m.direction === 'sendrecv' || m.direction === 'recvonly'),
  )
}
