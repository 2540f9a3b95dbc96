/**
 * The INVITE of an outgoing audio call leaves before the microphone is open.
 *
 * Why: opening the microphone takes 15–35 ms (more on a cold device, and
 * an Electron permission round trip before it), and nothing in the offer
 * needs the track: an audio transceiver without one is offered `sendrecv`
 * like any other (RFC 8829 §5.2.1 builds the m= section from the
 * transceiver, not the track). When getUserMedia returns, the track is put
 * on that transceiver's sender with replaceTrack, which needs no new offer
 * (W3C WebRTC §5.2, RTCRtpSender.replaceTrack). The callee is nowhere near
 * answering by then; if it were, it would hear silence for those
 * milliseconds.
 *
 * What the call must handle, and hears through the report:
 * - the track arrived: mute and hold apply to it (they set `enabled` on the
 *   senders' tracks, and there was none before);
 * - the microphone could not be opened (denied, missing, busy): the call,
 *   already ringing at the far end, is cancelled with the error the user
 *   reads, as when the microphone failed before the INVITE.
 * A call that ended before the microphone opened stops the track at once:
 * the microphone is never left on after a call.
 */
import type { Web } from 'sip.js'

export type LateMicrophoneOutcome = { track: MediaStreamTrack } | { error: Error }
export type LateMicrophoneReport = (outcome: LateMicrophoneOutcome) => void

/**
 * For sip.js's media stream factory: add a trackless audio transceiver to
 * the handler's connection, start `open` (getUserMedia) and return an empty
 * stream at once, so the offer is made now. The microphone's track goes
 * onto the transceiver when `open` resolves.
 */
export function offerBeforeMicrophone(
  sdh: Web.SessionDescriptionHandler,
  open: () => Promise<MediaStream>,
  report: LateMicrophoneReport,
): MediaStream {
  const pc = sdh.peerConnection
  if (pc == null) throw new Error('Peer connection closed.')
  const local = sdh.localMediaStream
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv', streams: [local] })
  const closed = (): boolean => pc.signalingState === 'closed'
  void (async () => {
    let track: MediaStreamTrack | undefined
    try {
      const stream = await open()
      track = stream.getAudioTracks()[0]
      for (const t of stream.getTracks()) if (t !== track) t.stop()
      if (track == null) throw namedError('NotFoundError', 'the microphone gave no audio track')
      if (closed()) return track.stop()
      await transceiver.sender.replaceTrack(track)
      // The call may have ended while replaceTrack ran: sip.js stopped the
      // tracks it knew of, and this one was not among them yet.
      if (closed()) return track.stop()
      // sip.js stops the local stream's tracks when the call ends, and video
      // changes read it (call-video.ts).
      local.addTrack(track)
      report({ track })
    } catch (err) {
      track?.stop()
      if (closed()) return
      report({ error: err instanceof Error ? err : new Error(String(err)) })
    }
  })()
  return new MediaStream()
}

function namedError(name: string, message: string): Error {
  const err = new Error(message)
  err.name = name
  return err
}
