/**
 * Audio codecs in an m= section and the anchor's codec rule.
 *
 * The anchor relays RTP without decoding it, so a codec crosses only when both
 * legs speak it: Opus when the phone offers it, PCMU/PCMA when the WebRTC side
 * offers them (Chromium does), and RFC 4733 telephone-event both ways. Each leg
 * numbers its payload types itself, so the relay maps numbers by codec
 * identity (name, clock rate, channels), never by number.
 */
import type { SdpMedia } from './sdp.js'
import { attributes } from './sdp.js'

export interface Codec {
  pt: number
  /** Encoding name as written (case kept); compare with `codecKey`. */
  name: string
  clock: number
  channels: number
  /** `a=fmtp` parameters, if any. */
  fmtp?: string
}

/** Static payload types a phone may list without an rtpmap (RFC 3551 §6, Table 4). */
const STATIC: Record<number, Omit<Codec, 'pt'>> = {
  0: { name: 'PCMU', clock: 8000, channels: 1 },
  3: { name: 'GSM', clock: 8000, channels: 1 },
  4: { name: 'G723', clock: 8000, channels: 1 },
  8: { name: 'PCMA', clock: 8000, channels: 1 },
  9: { name: 'G722', clock: 8000, channels: 1 },
  13: { name: 'CN', clock: 8000, channels: 1 },
  18: { name: 'G729', clock: 8000, channels: 1 },
}

/** Identity used to match a codec across the two legs. */
export function codecKey(c: Pick<Codec, 'name' | 'clock' | 'channels'>): string {
  return `${c.name.toLowerCase()}/${c.clock}/${c.channels}`
}

export function describeCodec(c: Codec): string {
  return c.channels > 1 ? `${c.name}/${c.clock}/${c.channels}` : `${c.name}/${c.clock}`
}

export function describeCodecs(codecs: readonly Codec[]): string {
  return codecs.length === 0 ? 'none' : codecs.map(describeCodec).join(', ')
}

/** The codecs of an m= section, in its preference order (RFC 3264 §5.1). */
export function codecsOf(media: SdpMedia): Codec[] {
  const rtpmaps = new Map<number, Omit<Codec, 'pt'>>()
  for (const v of attributes(media.lines, 'rtpmap')) {
    const m = /^(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(v)
    if (m == null) continue
    rtpmaps.set(Number(m[1]), { name: m[2]!, clock: Number(m[3]), channels: Number(m[4] ?? 1) })
  }
  const fmtps = new Map<number, string>()
  for (const v of attributes(media.lines, 'fmtp')) {
    const m = /^(\d+)\s+(.*)$/.exec(v)
    if (m != null) fmtps.set(Number(m[1]), m[2]!)
  }
  const out: Codec[] = []
  for (const f of media.formats) {
    if (!/^\d+$/.test(f)) continue
    const pt = Number(f)
    if (pt > 127) continue
    const known = rtpmaps.get(pt) ?? STATIC[pt]
    if (known == null) continue
    const fmtp = fmtps.get(pt)
    out.push({ pt, ...known, ...(fmtp != null ? { fmtp } : {}) })
  }
  return out
}

export function isTelephoneEvent(c: Codec): boolean {
  return c.name.toLowerCase() === 'telephone-event'
}

/**
 * Codecs that can cross the anchor without transcoding: what the app's
 * Chromium sends and what stock phones speak (Opus per RFC 7587 is always
 * opus/48000/2 in SDP).
 */
const RELAYABLE = new Set(['opus/48000/2', 'pcmu/8000/1', 'pcma/8000/1'])

export function isRelayable(c: Codec): boolean {
  return RELAYABLE.has(codecKey(c)) || isTelephoneEvent(c)
}

/** The relayable audio codecs (not telephone-event) of a list. */
export function relayableAudio(codecs: readonly Codec[]): Codec[] {
  return codecs.filter((c) => !isTelephoneEvent(c) && RELAYABLE.has(codecKey(c)))
}

/**
 * The codecs of `offered` that `answerer` also has, in the offer's order and
 * with the offer's payload types (RFC 3264 §6.1). Telephone-event is kept only
 * at a clock rate that a kept audio codec uses (RFC 4733 §2.1: events share
 * the audio stream's clock).
 */
export function intersect(offered: readonly Codec[], answerer: readonly Codec[]): Codec[] {
  const keys = new Set(answerer.map(codecKey))
  const audio = offered.filter((c) => !isTelephoneEvent(c) && keys.has(codecKey(c)))
  const clocks = new Set(audio.map((c) => c.clock))
  const events = offered.filter(
    (c) => isTelephoneEvent(c) && keys.has(codecKey(c)) && clocks.has(c.clock),
  )
  return [...audio, ...events]
}

/**
 * Payload type mapping between two legs' numbering of the same codecs:
 * `map.get(ptOnA)` is the number leg B uses. Codecs present on one leg only are
 * absent, so their packets are dropped rather than mislabelled.
 */
export function payloadMap(a: readonly Codec[], b: readonly Codec[]): Map<number, number> {
  const byKey = new Map<string, number>()
  for (const c of b) if (!byKey.has(codecKey(c))) byKey.set(codecKey(c), c.pt)
  const map = new Map<number, number>()
  for (const c of a) {
    const pt = byKey.get(codecKey(c))
    if (pt !== undefined) map.set(c.pt, pt)
  }
  return map
}

/** Render codecs as m= formats plus rtpmap/fmtp lines (RFC 8866 §6.6, §6.15). */
export function codecLines(codecs: readonly Codec[]): { formats: string[]; lines: string[] } {
  const lines: string[] = []
  for (const c of codecs) {
    const ch = c.channels > 1 ? `/${c.channels}` : ''
    lines.push(`rtpmap:${c.pt} ${c.name}/${c.clock}${ch}`)
    if (c.fmtp != null) lines.push(`fmtp:${c.pt} ${c.fmtp}`)
  }
  return { formats: codecs.map((c) => String(c.pt)), lines }
}
