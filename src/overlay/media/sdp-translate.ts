/**
 * The SDP bodies the anchor writes: plain RTP/AVP for the phone (RFC 3551)
 * and its WebRTC description, marked for the app, for the overlay. Pure
 * functions over the model in sdp.ts, so the translation is tested without
 * sockets.
 */
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import { MEDIA_ANCHOR_ATTRIBUTE } from '../../shared/sip/media-anchor.js'
import type { Codec } from './codecs.js'
import { codecLines } from './codecs.js'
import type { MediaDirection, Sdp, SdpMedia } from './sdp.js'
import { SdpParseError, bumpVersion, parseSdp, setDirection } from './sdp.js'

/** Parse a body the anchor must understand; bad SDP becomes a 488 with the reason. */
export function parseOrReject(text: string, whose: string): Sdp {
  try {
    return parseSdp(text)
  } catch (err) {
    if (err instanceof SdpParseError)
      throw new MediaNegotiationError(`${whose} SDP: ${err.message}`)
    throw err
  }
}

/** Index of the first audio stream that is not rejected (port 0 rejects it, RFC 3264 §5.1). */
export function audioIndex(sdp: Sdp, whose: string): number {
  const i = sdp.media.findIndex((m) => m.media === 'audio' && m.port !== 0)
  if (i < 0) throw new MediaNegotiationError(`${whose} SDP has no audio stream`)
  return i
}

export interface PhoneSdpInit {
  /** o= session id, fixed for the call (RFC 8866 §5.2). */
  sessionId: string
  /** o= version, one higher for every changed body (RFC 3264 §8). */
  version: number
  port: number
  codecs: readonly Codec[]
  direction: MediaDirection
  /**
   * For an answer: the phone's offer. Its m= lines are answered one for one
   * (RFC 3264 §6: same count, same order); every one but the anchored audio
   * stream is rejected with port 0.
   */
  answering?: { offer: Sdp; audio: number }
  /** `a=ptime` to ask of the phone (RFC 4566 §6), copied from the far end when it has one. */
  ptime?: string
}

/** A plain RTP/AVP body whose media is our phone-side socket on 127.0.0.1. */
export function phoneSdp(init: PhoneSdpInit): string {
  const lines = [
    'v=0',
    `o=kaiwa ${init.sessionId} ${init.version} IN IP4 127.0.0.1`,
    's=kaiwa',
    'c=IN IP4 127.0.0.1',
    't=0 0',
  ]
  const audio = (): void => {
    const { formats, lines: attrs } = codecLines(init.codecs)
    lines.push(`m=audio ${init.port} RTP/AVP ${formats.join(' ')}`)
    for (const a of attrs) lines.push(`a=${a}`)
    if (init.ptime != null) lines.push(`a=ptime:${init.ptime}`)
    lines.push(`a=${init.direction}`)
  }
  if (init.answering == null) audio()
  else {
    init.answering.offer.media.forEach((m, i) => {
      if (i === init.answering!.audio) audio()
      else lines.push(rejectedLine(m))
    })
  }
  return lines.join('\r\n') + '\r\n'
}

function rejectedLine(m: SdpMedia): string {
  return `m=${m.media} 0 ${m.proto} ${m.formats[0] ?? '0'}`
}

export interface OverlaySdpInit {
  /** Direction to declare on the audio stream. */
  direction: MediaDirection
  /** Keep only these payload types on the audio m= line (a re-offer's negotiated codecs). */
  payloadTypes?: readonly number[]
  /** Bump the o= version (a changed re-offer or re-answer, RFC 3264 §8). */
  version?: number
  /**
   * Our settled DTLS role. Later offers and answers repeat it instead of
   * `actpass`, so the far end keeps the existing DTLS association (RFC 8842
   * §5.5 and RFC 4145 §4.1: an answer is never `actpass`).
   */
  setup?: 'active' | 'passive'
  /**
   * For a later answer: the far end's offer. m= lines it added since our
   * first description (an app turning its camera on) are answered, rejected,
   * so the answer has the offer's m= lines one for one (RFC 3264 §6).
   */
  answering?: Sdp
}

/**
 * Our WebRTC description as sent across the overlay: the session-level
 * `a=x-kaiwa-anchor:phone` (src/shared/sip/media-anchor.ts) tells the app that
 * DTLS-SRTP ends at this node, and the audio direction is ours, since
 * libdatachannel cannot change a track's direction after it is added.
 */
export function overlaySdp(local: Sdp, init: OverlaySdpInit): Sdp {
  const sdp: Sdp = {
    session: local.session.filter(
      (l) => !(l.type === 'a' && l.value.startsWith(`${MEDIA_ANCHOR_ATTRIBUTE}:`)),
    ),
    media: local.media.map((m) => ({
      ...m,
      formats: [...m.formats],
      lines: m.lines.map((l) => ({ ...l })),
    })),
  }
  // RFC 8866 §5: session attributes follow t=; putting ours last keeps that order.
  sdp.session.push({ type: 'a', value: `${MEDIA_ANCHOR_ATTRIBUTE}:phone` })
  const audio = sdp.media.find((m) => m.media === 'audio')
  if (audio == null) throw new MediaNegotiationError('our WebRTC description lost its audio stream')
  if (init.answering != null) matchOfferedMedia(sdp, init.answering, audio)
  rejectOtherMedia(sdp, audio)
  setDirection(sdp, audio, init.direction)
  if (init.payloadTypes != null) restrictFormats(audio, init.payloadTypes)
  if (init.version != null) bumpVersion(sdp, init.version)
  if (init.setup != null) {
    for (const m of sdp.media) {
      for (const l of m.lines)
        if (l.type === 'a' && l.value.startsWith('setup:')) l.value = `setup:${init.setup}`
    }
  }
  return sdp
}

/**
 * Every m= section but the anchored audio is rejected: port 0, only its
 * a=mid kept, and out of the BUNDLE group (RFC 8843 §7.3.3). The anchor
 * relays audio only, yet libdatachannel answers an offered m=video with
 * sendrecv; a phone has no video to give, so the app must read "no video"
 * (RFC 3264 §6) and send none.
 */
export function rejectOtherMedia(sdp: Sdp, keep: SdpMedia): void {
  const rejected = new Set<string>()
  for (const m of sdp.media) {
    if (m === keep || m.port === 0) continue
    const mid = m.lines.find((l) => l.type === 'a' && l.value.startsWith('mid:'))
    if (mid != null) rejected.add(mid.value.slice(4))
    m.port = 0
    delete m.portCount
    m.formats = m.formats.slice(0, 1)
    m.lines = mid != null ? [{ ...mid }] : []
  }
  if (rejected.size === 0) return
  for (const l of sdp.session) {
    if (l.type !== 'a' || !l.value.startsWith('group:BUNDLE')) continue
    const mids = l.value.split(' ').slice(1)
    l.value = ['group:BUNDLE', ...mids.filter((m) => !rejected.has(m))].join(' ')
  }
}

/**
 * An answer has the offer's m= sections one for one, in order (RFC 3264 §6):
 * ours stays where the audio is; every other one is the offer's, rejected
 * (an m= section the far end added, or recycled with a new mid, JSEP RFC
 * 8829 §5.2.2).
 */
function matchOfferedMedia(sdp: Sdp, offer: Sdp, audio: SdpMedia): void {
  const at = sdp.media.indexOf(audio)
  sdp.media = offer.media.map((m, i) => {
    if (i === at) return audio
    const mid = m.lines.find((l) => l.type === 'a' && l.value.startsWith('mid:'))
    return {
      media: m.media,
      port: 0,
      proto: m.proto,
      formats: m.formats.slice(0, 1),
      lines: mid != null ? [{ ...mid }] : [],
    }
  })
}

/** Drop formats (and their rtpmap/fmtp/rtcp-fb lines) not in `keep`. */
export function restrictFormats(media: SdpMedia, keep: readonly number[]): void {
  const kept = new Set(keep.map(String))
  media.formats = media.formats.filter((f) => kept.has(f))
  media.lines = media.lines.filter((l) => {
    const m = /^(?:rtpmap|fmtp|rtcp-fb):(\d+)\s/.exec(l.value)
    return l.type !== 'a' || m == null || kept.has(m[1]!)
  })
}
