/**
 * A small SDP model for the media anchor (RFC 8866, which obsoletes RFC 4566):
 * enough structure to read and rewrite what the anchor touches (o=, c=, m=,
 * rtpmap/fmtp, direction, ICE and DTLS attributes) while every line it does
 * not understand survives a parse/serialize round trip unchanged, in order.
 *
 * The renderer has its own SDP helpers (src/renderer/sip/sdp-codecs.ts), but
 * the layer rules keep overlay code from importing renderer code, and the
 * anchor needs a full model rather than codec filtering.
 */

/** An SDP the anchor cannot read. */
export class SdpParseError extends Error {
  static override readonly name = 'SdpParseError'
  constructor(message: string) {
    super(message)
    this.name = SdpParseError.name
  }
}

/** One `<type>=<value>` line (RFC 8866 §5: type is a single letter). */
export interface SdpLine {
  type: string
  value: string
}

export interface SdpMedia {
  /** `m=<media> <port> <proto> <fmt> ...` (RFC 8866 §5.14). */
  media: string
  port: number
  /** `<port>/<count>` keeps its count here. */
  portCount?: number
  proto: string
  formats: string[]
  /** Every line after the m= line, in order (c=, b=, a=, ...). */
  lines: SdpLine[]
}

export interface Sdp {
  /** Session-level lines before the first m= line, in order (v=, o=, s=, c=, t=, a=, ...). */
  session: SdpLine[]
  media: SdpMedia[]
}

/** RFC 3264 §5.1 direction attributes; absent means sendrecv. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'
const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive']

/** Limit on accepted SDP size: SIP over UDP bodies are far smaller. */
const MAX_SDP_CHARS = 64 * 1024

export function parseSdp(text: string): Sdp {
  if (text.length > MAX_SDP_CHARS)
    throw new SdpParseError(`SDP larger than ${MAX_SDP_CHARS} characters`)
  const raw = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (raw.length === 0 || !raw[0]!.startsWith('v='))
    throw new SdpParseError('SDP must start with v=')
  const sdp: Sdp = { session: [], media: [] }
  let current: SdpMedia | undefined
  for (const l of raw) {
    const m = /^([a-z])=(.*)$/.exec(l)
    if (m == null) throw new SdpParseError(`malformed SDP line: ${JSON.stringify(l.slice(0, 80))}`)
    const line = { type: m[1]!, value: m[2]!.trimEnd() }
    if (line.type === 'm') {
      current = parseMediaLine(line.value)
      sdp.media.push(current)
    } else if (current != null) current.lines.push(line)
    else sdp.session.push(line)
  }
  return sdp
}

function parseMediaLine(value: string): SdpMedia {
  const parts = value.split(/\s+/)
  const m = /^(\d+)(?:\/(\d+))?$/.exec(parts[1] ?? '')
  if (parts.length < 4 || m == null) throw new SdpParseError(`malformed m= line: ${value}`)
  const port = Number(m[1])
  if (port > 65535) throw new SdpParseError(`m= port out of range: ${value}`)
  return {
    media: parts[0]!,
    port,
    ...(m[2] != null ? { portCount: Number(m[2]) } : {}),
    proto: parts[2]!,
    formats: parts.slice(3),
    lines: [],
  }
}

/** CRLF line endings, as SIP bodies use (RFC 8866 §5 allows LF on input only). */
export function serializeSdp(sdp: Sdp): string {
  const out = sdp.session.map((l) => `${l.type}=${l.value}`)
  for (const m of sdp.media) {
    const port = m.portCount != null ? `${m.port}/${m.portCount}` : String(m.port)
    out.push(`m=${[m.media, port, m.proto, ...m.formats].join(' ')}`)
    for (const l of m.lines) out.push(`${l.type}=${l.value}`)
  }
  return out.join('\r\n') + '\r\n'
}

/** Values of `a=<name>:<value>` (or `a=<name>` flags, value '') among `lines`. */
export function attributes(lines: readonly SdpLine[], name: string): string[] {
  const out: string[] = []
  for (const l of lines) {
    if (l.type !== 'a') continue
    const colon = l.value.indexOf(':')
    const key = colon < 0 ? l.value : l.value.slice(0, colon)
    if (key === name) out.push(colon < 0 ? '' : l.value.slice(colon + 1))
  }
  return out
}

export function attribute(lines: readonly SdpLine[], name: string): string | undefined {
  return attributes(lines, name)[0]
}

/** Attributes may sit at session or media level; media level wins (RFC 8866 §5.13). */
export function mediaAttribute(sdp: Sdp, media: SdpMedia, name: string): string | undefined {
  return attribute(media.lines, name) ?? attribute(sdp.session, name)
}

/** The direction of `media`: media level, else session level, else sendrecv (RFC 3264 §5.1). */
export function directionOf(sdp: Sdp, media: SdpMedia): MediaDirection {
  for (const lines of [media.lines, sdp.session]) {
    const d = lines.find((l) => l.type === 'a' && DIRECTIONS.includes(l.value))
    if (d != null) return d.value as MediaDirection
  }
  return 'sendrecv'
}

/** Replace every direction attribute with one media-level `direction`. */
export function setDirection(sdp: Sdp, media: SdpMedia, direction: MediaDirection): void {
  sdp.session = sdp.session.filter((l) => !(l.type === 'a' && DIRECTIONS.includes(l.value)))
  const at = media.lines.findIndex((l) => l.type === 'a' && DIRECTIONS.includes(l.value))
  const rest = media.lines.filter((l) => !(l.type === 'a' && DIRECTIONS.includes(l.value)))
  rest.splice(at < 0 ? rest.length : at, 0, { type: 'a', value: direction })
  media.lines = rest
}

/** The direction the other side of an exchange sees (RFC 3264 §6.1: sendonly ↔ recvonly). */
export function reverseDirection(d: MediaDirection): MediaDirection {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d
}

export function sends(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'sendonly'
}

export function receives(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'recvonly'
}

export function directionFrom(send: boolean, receive: boolean): MediaDirection {
  return send ? (receive ? 'sendrecv' : 'sendonly') : receive ? 'recvonly' : 'inactive'
}

export interface ConnectionAddress {
  family: 'IP4' | 'IP6'
  address: string
}

/** The media's c= address (media level, else session level; RFC 8866 §5.7). */
export function connectionOf(sdp: Sdp, media: SdpMedia): ConnectionAddress | undefined {
  const c = media.lines.find((l) => l.type === 'c') ?? sdp.session.find((l) => l.type === 'c')
  if (c == null) return undefined
  const m = /^IN\s+(IP4|IP6)\s+([^\s/]+)/.exec(c.value)
  if (m == null) throw new SdpParseError(`malformed c= line: ${c.value}`)
  return { family: m[1] as 'IP4' | 'IP6', address: m[2]! }
}

/** Bump the o= line's session version, as every changed offer or answer must (RFC 3264 §8). */
export function bumpVersion(sdp: Sdp, version: number): void {
  const o = sdp.session.find((l) => l.type === 'o')
  if (o == null) return
  const parts = o.value.split(/\s+/)
  if (parts.length >= 6) {
    parts[2] = String(version)
    o.value = parts.join(' ')
  }
}

/** A deep copy, so a kept description can be rewritten for a re-offer without aliasing. */
export function cloneSdp(sdp: Sdp): Sdp {
  return {
    session: sdp.session.map((l) => ({ ...l })),
    media: sdp.media.map((m) => ({
      ...m,
      formats: [...m.formats],
      lines: m.lines.map((l) => ({ ...l })),
    })),
  }
}

/** True when the body negotiates ICE and DTLS-SRTP itself (RFC 8839 §5.4, RFC 8842 §5). */
export function isWebRtcSdp(sdp: Sdp): boolean {
  const audio = sdp.media.find((m) => m.media === 'audio') ?? sdp.media[0]
  if (audio == null) return false
  return (
    mediaAttribute(sdp, audio, 'ice-ufrag') != null &&
    mediaAttribute(sdp, audio, 'fingerprint') != null
  )
}
