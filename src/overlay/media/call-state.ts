/**
 * What an anchored call remembers between an offer and its answer (RFC 3264
 * §4: one offer outstanding at a time), and what it reports.
 */
import type { Codec } from './codecs.js'
import type { RelayStats } from './media-relay.js'
import type { RtpTarget } from './phone-leg.js'
import type { MediaDirection, Sdp, SdpMedia } from './sdp.js'
import { attribute, receives, sends } from './sdp.js'
import { describeCodecs, isTelephoneEvent } from './codecs.js'

/** The state an offer changes, restored when it goes unanswered. */
export interface Snapshot {
  phoneDir: MediaDirection
  overlayDir: MediaDirection
  phoneOffered: readonly Codec[]
  overlayLocal: Sdp | undefined
  target: RtpTarget | undefined
}

export interface Pending {
  from: 'phone' | 'overlay'
  offer: Sdp
  text: string
  audio: number
  /** What we offered the other side (its numbering), on a first exchange. */
  ours: Codec[]
  /** The offerer's usable codecs (its numbering), on a first exchange. */
  theirs: Codec[]
  before: Snapshot
  /** The SDP we sent for this offer (the same again for another fork of it). */
  result?: string
}

export interface Answered {
  pending: Pending
  text: string
  result: string
}

export interface AnchoredCallStats extends RelayStats {
  callId: string
  /** The negotiated audio codecs, in the phone's numbering ('' before an answer). */
  codecs: string
  /** The Opus side when the call is transcoded. */
  transcodedTo?: string
  /** The WebRTC leg's connection state ('none' before it exists). */
  connection: string
  toOverlay: boolean
  toPhone: boolean
  startedAt: number
}

/** What the anchor reports for one call (MediaAnchor.stats). */
export function callStats(c: {
  callId: string
  relay: RelayStats
  plan: { phone: readonly Codec[]; overlay: readonly Codec[]; transcode?: unknown } | undefined
  connection: string
  phoneDir: MediaDirection
  overlayDir: MediaDirection
  startedAt: number
}): AnchoredCallStats {
  const audio = (list: readonly Codec[] | undefined): string =>
    describeCodecs((list ?? []).filter((x) => !isTelephoneEvent(x)))
  return {
    callId: c.callId,
    ...c.relay,
    codecs: audio(c.plan?.phone),
    ...(c.plan?.transcode != null ? { transcodedTo: audio(c.plan.overlay) } : {}),
    connection: c.connection,
    toOverlay: sends(c.phoneDir) && receives(c.overlayDir),
    toPhone: sends(c.overlayDir) && receives(c.phoneDir),
    startedAt: c.startedAt,
  }
}

/** The phone's a=ptime in whole milliseconds (RFC 8866 §6.4), if it gave one. */
export function ptimeOf(media: SdpMedia): number | undefined {
  const v = Number(attribute(media.lines, 'ptime'))
  return Number.isInteger(v) && v >= 10 && v <= 200 ? v : undefined
}

/**
 * The o= line without its version (RFC 8866 §5.2: username, sess-id, network
 * type, address type and address), which stays the same for one endpoint's
 * session across re-answers (RFC 3264 §8); undefined when there is none.
 */
function originOf(sdp: string): string | undefined {
  const m = /^o=(\S+) (\S+) \S+ (.+?)\s*$/m.exec(sdp)
  return m == null ? undefined : `${m[1]} ${m[2]} ${m[3]}`
}

/** Whether two answers come from the same endpoint (not from two forks of one offer). */
export function sameOrigin(a: string, b: string): boolean {
  const [x, y] = [originOf(a), originOf(b)]
  return x == null || y == null || x === y
}
