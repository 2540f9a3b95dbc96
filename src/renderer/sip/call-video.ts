/**
 * The video of one call over its peer connection: what we send (camera,
 * screen or nothing; video-plan.ts decides between replaceTrack and a
 * re-INVITE), what the far end sends, the bitrate cap (RTCRtpSender
 * setParameters, maxBitrate: W3C WebRTC §5.2), and whether the far end can
 * take video at all (it rejected our m=video: an audio-only peer, or a SIP
 * phone behind its node's media anchor).
 */
import type { MediaAnchorKind } from '../../shared/sip/media-anchor.js'
import { answerTakesVideo, planVideo, videoDirection } from './video-plan.js'
import type { VideoSource } from './video-plan.js'

export type { VideoSource } from './video-plan.js'

/** Video as the rest of the UI sees it (KaiwaCall.video). */
export interface KaiwaCallVideo {
  /** What we send. */
  readonly source: VideoSource
  /** The far end offered video (an incoming video call, before it is answered). */
  readonly offered: boolean
  /** The far end cannot take video: it refused our m=video, or it is a SIP phone. */
  readonly unavailable: boolean
  /** The far end's video is arriving now. */
  readonly remoteLive: boolean
  /** Our outgoing video track, for the self view. */
  localStream(): MediaStream | undefined
  /** Send `source` (its track from getUserMedia/getDisplayMedia), or stop sending. */
  set(source: VideoSource, track?: MediaStreamTrack): Promise<void>
  /** Cap the outgoing video, kbit/s (undefined: no cap). */
  setMaxBitrate(kbps: number | undefined): Promise<void>
}

export class VideoUnavailableError extends Error {
  static override readonly name = 'VideoUnavailableError'
  override readonly name = VideoUnavailableError.name
}

export interface CallVideoDeps {
  pc(): RTCPeerConnection | undefined
  /** sip.js's local stream (the audio's msid stream, kept for lip sync). */
  localMediaStream(): MediaStream | undefined
  remoteMediaStream(): MediaStream | undefined
  /** A re-INVITE after `prepare`; resolves with the answer body. */
  reinvite(prepare: () => Promise<void>): Promise<string>
  anchor(): MediaAnchorKind | undefined
  changed(): void
  log(text: string): void
}

const isVideo = (t: RTCRtpTransceiver): boolean =>
  t.receiver.track?.kind === 'video' && t.currentDirection !== 'stopped' && !isStopped(t)
const isStopped = (t: RTCRtpTransceiver): boolean =>
  (t as RTCRtpTransceiver & { direction: string }).direction === 'stopped'

/** Set every live video transceiver's direction from what it sends and the hold state. */
export function fixVideoDirections(pc: RTCPeerConnection, hold: boolean): void {
  for (const t of pc.getTransceivers()) {
    if (!isVideo(t)) continue
    const want = videoDirection(t.sender.track != null, hold)
    if (t.direction !== want) t.direction = want
  }
}

export class CallVideo implements KaiwaCallVideo {
  private _source: VideoSource = 'none'
  private _unavailable = false
  private track: MediaStreamTrack | undefined
  private self: MediaStream | undefined
  private maxKbps: number | undefined
  private readonly watched = new WeakSet<MediaStreamTrack>()

  constructor(
    private readonly deps: CallVideoDeps,
    readonly offered: boolean,
  ) {}

  get source(): VideoSource {
    return this._source
  }

  get unavailable(): boolean {
    return this._unavailable || this.deps.anchor() === 'phone'
  }

  get remoteLive(): boolean {
    const pc = this.deps.pc()
    if (pc == null) return false
    return pc
      .getTransceivers()
      .some(
        (t) =>
          isVideo(t) &&
          (t.currentDirection === 'sendrecv' || t.currentDirection === 'recvonly') &&
          t.receiver.track.readyState === 'live' &&
          !t.receiver.track.muted,
      )
  }

  localStream(): MediaStream | undefined {
    return this.self
  }

  /** The initial offer or answer carried our camera (the media factory added it). */
  adoptInitial(track: MediaStreamTrack): void {
    this.track = track
    this._source = 'camera'
    this.self = new MediaStream([track])
    this.deps.changed()
  }

  /** The remote stream gained or lost tracks: follow the video's mute state. */
  watchRemote(): void {
    const stream = this.deps.remoteMediaStream()
    if (stream == null) return
    const watch = (t: MediaStreamTrack): void => {
      if (t.kind !== 'video' || this.watched.has(t)) return
      this.watched.add(t)
      t.addEventListener('mute', () => this.deps.changed())
      t.addEventListener('unmute', () => this.deps.changed())
      t.addEventListener('ended', () => this.deps.changed())
    }
    stream.getVideoTracks().forEach(watch)
    stream.addEventListener('addtrack', (e) => {
      watch(e.track)
      this.deps.changed()
    })
  }

  /** The far end's answer to an offer of ours: did it take our video? */
  noteAnswer(body: string): void {
    if (this._source === 'none' || answerTakesVideo(body)) return
    this._unavailable = true
    this.drop()
    this.deps.changed()
  }

  async set(source: VideoSource, track?: MediaStreamTrack): Promise<void> {
    const pc = this.deps.pc()
    if (pc == null) throw new Error('the call has no media yet')
    if (source !== 'none' && this.unavailable) {
      track?.stop()
      throw new VideoUnavailableError('the other side cannot take video')
    }
    const transceiver = pc.getTransceivers().find(isVideo)
    // Another track of the same source (a different camera): replaceTrack, no re-INVITE.
    const step =
      planVideo({ source: this._source, transceiver: transceiver != null }, source) ??
      (track != null && track !== this.track && source !== 'none'
        ? { track: source, addTransceiver: false, renegotiate: false }
        : undefined)
    if (step == null) return
    if (step.track !== 'none' && track == null) throw new Error(`no ${source} track`)
    const apply = async (): Promise<void> => {
      const old = this.track
      if (step.addTransceiver) {
        const stream = this.deps.localMediaStream()
        pc.addTransceiver(track!, {
          direction: 'sendrecv',
          ...(stream != null ? { streams: [stream] } : {}),
        })
      } else {
        await pc
          .getTransceivers()
          .find(isVideo)!
          .sender.replaceTrack(track ?? null)
      }
      if (old != null && old !== track) old.stop()
      this.track = track
      this._source = step.track
      this.self = track != null ? new MediaStream([track]) : undefined
      if (track != null) {
        // Screens are text and lines: keep them sharp rather than smooth (W3C mst-content-hint).
        track.contentHint = source === 'screen' ? 'detail' : 'motion'
        // The browser's own "Stop sharing" (or an unplugged camera) ends the track.
        track.addEventListener('ended', () => {
          if (this.track === track) void this.set('none').catch(() => {})
        })
      }
      this.deps.changed()
    }
    if (!step.renegotiate) {
      await apply()
      await this.applyCap()
      return
    }
    try {
      const answer = await this.deps.reinvite(apply)
      this.noteAnswer(answer)
      await this.applyCap()
    } catch (err) {
      // The far end refused the re-INVITE: sip.js rolled the offer back; stop what we started.
      if (source !== 'none') this.drop()
      this.deps.changed()
      throw err
    }
  }

  async setMaxBitrate(kbps: number | undefined): Promise<void> {
    this.maxKbps = kbps
    await this.applyCap()
  }

  /** Apply the cap to the video sender (after a negotiation: encodings exist only then). */
  async applyCap(): Promise<void> {
    const sender = this.deps
      .pc()
      ?.getTransceivers()
      .find((t) => isVideo(t) && t.sender.track != null)?.sender
    if (sender == null) return
    const params = sender.getParameters()
    if (params.encodings == null || params.encodings.length === 0) return
    for (const e of params.encodings) {
      if (this.maxKbps != null) e.maxBitrate = this.maxKbps * 1000
      else delete e.maxBitrate
    }
    await sender
      .setParameters(params)
      .catch((err: unknown) => this.deps.log(`video bitrate cap: ${String(err)}`))
  }

  /** Stop sending without a re-INVITE (the far end refused video, or the call ends). */
  drop(): void {
    const pc = this.deps.pc()
    for (const t of pc?.getTransceivers() ?? []) {
      if (t.receiver.track?.kind === 'video' && t.sender.track != null)
        void t.sender.replaceTrack(null).catch(() => {})
    }
    this.track?.stop()
    this.track = undefined
    this.self = undefined
    this._source = 'none'
  }
}
