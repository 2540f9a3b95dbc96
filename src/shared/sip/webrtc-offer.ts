/**
 * Can a browser's RTCPeerConnection take this SDP offer? Kaiwa's app is
 * WebRTC only (JSEP, RFC 8829): an offer it cannot use must be refused with
 * 488 Not Acceptable Here and a Reason (RFC 3261 §21.4.26, RFC 3326) before
 * the user is asked to answer, not fail after they pressed Answer.
 *
 * What WebRTC requires of a remote audio offer (RFC 8827 §6.5, RFC 8829
 * §5.8): DTLS-SRTP keys (`a=fingerprint`, RFC 8122 §5), ICE credentials
 * (`a=ice-ufrag` / `a=ice-pwd`, RFC 8839 §5.4), and at least one audio codec
 * a browser decodes. A stock SIP phone's plain `RTP/AVP` offer (or SDES
 * `a=crypto`) has no fingerprint: that is what issue 12 §4 saw from real
 * phones, which the node's media anchor turns into WebRTC when it runs.
 */

export type OfferProblemKind = 'no-audio' | 'not-encrypted' | 'no-ice' | 'no-common-codec'

export interface OfferProblem {
  kind: OfferProblemKind
  /** One line for the Reason header's text (RFC 3326) and the logs. */
  text: string
}

/** Audio codecs every WebRTC browser decodes (RFC 7874 §3: Opus and G.711; Chromium adds G.722). */
const BROWSER_CODECS = new Set(['opus', 'pcmu', 'pcma', 'g722'])
/** RFC 3551 static payload types of those codecs (an rtpmap line is optional for them). */
const STATIC_CODECS: Readonly<Record<string, string>> = { '0': 'pcmu', '8': 'pcma', '9': 'g722' }

interface MediaSection {
  port: string
  proto: string
  formats: string[]
  lines: string[]
}

function sections(sdp: string): { session: string[]; audio: MediaSection[] } {
  const session: string[] = []
  const audio: MediaSection[] = []
  let current: MediaSection | undefined
  let inMedia = false
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(\S+) (\S+) (\S+)(?: (.*))?$/.exec(line)
    if (m != null) {
      inMedia = true
      current =
        m[1] === 'audio'
          ? {
              port: m[2]!,
              proto: m[3]!,
              formats: (m[4] ?? '').split(' ').filter(Boolean),
              lines: [],
            }
          : undefined
      if (current != null) audio.push(current)
    } else if (!inMedia) session.push(line)
    else current?.lines.push(line)
  }
  return { session, audio }
}

const has = (lines: string[], attr: string): boolean =>
  lines.some((l) => l.toLowerCase().startsWith(`a=${attr}:`))

/** The codec names an audio section offers, lower case. */
function codecsOf(s: MediaSection): string[] {
  return s.formats.map((pt) => {
    const map = s.lines.find((l) => l.startsWith(`a=rtpmap:${pt} `))
    const name = map != null ? /^a=rtpmap:\S+ ([^/\s]+)/.exec(map)?.[1] : undefined
    return (name ?? STATIC_CODECS[pt] ?? `pt ${pt}`).toLowerCase()
  })
}

/** Why a browser cannot take this offer, or undefined when it can (or when there is no offer). */
export function webrtcOfferProblem(sdp: string | undefined): OfferProblem | undefined {
  // No body: the offer comes from us in the 200 (RFC 3261 §13.2.1), nothing to check.
  if (sdp == null || sdp.trim() === '') return undefined
  const { session, audio } = sections(sdp)
  const live = audio.filter((s) => s.port !== '0' && s.formats.length > 0)
  if (live.length === 0) return { kind: 'no-audio', text: 'the offer has no audio stream' }
  const s = live[0]!
  const all = [...session, ...s.lines]
  if (!has(all, 'fingerprint')) {
    const how = has(all, 'crypto') ? 'SDES (a=crypto)' : `plain ${s.proto}`
    return {
      kind: 'not-encrypted',
      text: `not a WebRTC offer: no DTLS-SRTP fingerprint (${how}); this app only takes encrypted WebRTC audio`,
    }
  }
  if (!has(all, 'ice-ufrag') || !has(all, 'ice-pwd'))
    return { kind: 'no-ice', text: 'not a WebRTC offer: no ICE credentials (a=ice-ufrag/ice-pwd)' }
  const codecs = codecsOf(s)
  if (!codecs.some((c) => BROWSER_CODECS.has(c))) {
    const offered = codecs.filter((c) => c !== 'telephone-event' && c !== 'cn').join(', ')
    return {
      kind: 'no-common-codec',
      text: `no common audio codec: offered ${offered || 'none'}; this app takes Opus, G.711 (PCMU/PCMA) or G.722`,
    }
  }
  return undefined
}
