/**
 * Which codecs each leg of an anchored call uses, decided from the first
 * offer/answer exchange (pure; anchored-call.ts applies it).
 *
 * Relaying without decoding is preferred: Opus passes through when the phone
 * offers it, PCMU/PCMA when the WebRTC side offers them (Chromium does).
 * With transcoding on, the anchor also offers what it could transcode to
 * (Opus to the overlay for a G.711-only phone, G.711 to the phone for an
 * Opus-only far end), always after the pass-through codecs; the codec the
 * answerer lists first (the one it will send, RFC 3264 §6.1) decides whether
 * the call is relayed or transcoded. Telephone-event crosses either way; when
 * transcoding, its clock changes with the audio's (RFC 4733 §2.1).
 */
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Codec } from './codecs.js'
import { codecKey, describeCodecs, intersect, isRelayable, isTelephoneEvent } from './codecs.js'

export interface TranscodePlan {
  /** The phone's G.711 codec and its telephone-event/8000, phone numbering. */
  phone: Codec
  phoneEvent?: Codec
  /** Opus and telephone-event/48000 on the overlay, overlay numbering. */
  overlay: Codec
  overlayEvent?: Codec
}

export interface CodecPlan {
  /** What the phone sends and receives, in its numbering. */
  phone: Codec[]
  /** What crosses the overlay, in its numbering. */
  overlay: Codec[]
  transcode?: TranscodePlan
}

const OPUS: Omit<Codec, 'pt'> = {
  name: 'opus',
  clock: 48000,
  channels: 2,
  fmtp: 'minptime=10;useinbandfec=1',
}
const PCMU: Codec = { pt: 0, name: 'PCMU', clock: 8000, channels: 1 }
const PCMA: Codec = { pt: 8, name: 'PCMA', clock: 8000, channels: 1 }
const isG711 = (c: Codec): boolean => ['pcmu/8000/1', 'pcma/8000/1'].includes(codecKey(c))
const isOpus = (c: Codec): boolean => codecKey(c) === 'opus/48000/2'
const event = (list: readonly Codec[], clock: number): Codec | undefined =>
  list.find((c) => isTelephoneEvent(c) && c.clock === clock)
const firstAudio = (list: readonly Codec[]): Codec | undefined =>
  list.find((c) => !isTelephoneEvent(c))

/** The relayable codecs of an offer; telephone-event only at a kept audio clock. */
export function relayableSet(offered: readonly Codec[]): Codec[] {
  const relayable = offered.filter(isRelayable)
  return intersect(relayable, relayable)
}

/** A dynamic payload type (RFC 3551 §6: 96–127) not yet used, `preferred` if free. */
function freePt(used: readonly Codec[], preferred: number): number {
  const taken = new Set(used.map((c) => c.pt))
  if (!taken.has(preferred)) return preferred
  for (let pt = 96; pt <= 127; pt++) if (!taken.has(pt)) return pt
  throw new MediaNegotiationError('no free RTP payload type for a transcoded codec')
}

/** Our WebRTC offer for the phone's offer: the phone's relayable codecs, then Opus if we would transcode. */
export function overlayOfferCodecs(phoneOffered: readonly Codec[], transcoding: boolean): Codec[] {
  const out = relayableSet(phoneOffered)
  if (!transcoding || out.some(isOpus) || !out.some(isG711)) return out
  const opus = { ...OPUS, pt: freePt(out, 111) }
  const added: Codec[] = [opus]
  if (event(out, 8000) != null) {
    added.push({
      pt: freePt([...out, opus], 110),
      name: 'telephone-event',
      clock: 48000,
      channels: 1,
      fmtp: '0-16',
    })
  }
  const audio = out.filter((c) => !isTelephoneEvent(c))
  return [...audio, opus, ...out.filter(isTelephoneEvent), ...added.slice(1)]
}

/** Our RTP/AVP offer for the far end's offer: its codecs a phone can use, then G.711 if we would transcode. */
export function phoneOfferCodecs(overlayOffered: readonly Codec[], transcoding: boolean): Codec[] {
  const out = relayableSet(overlayOffered)
  if (!transcoding || out.some(isG711) || !out.some(isOpus)) return out
  const added = [PCMU, PCMA].filter((c) => !out.some((o) => o.pt === c.pt))
  if (event(out, 48000) != null) {
    added.push({
      pt: freePt([...out, ...added], 101),
      name: 'telephone-event',
      clock: 8000,
      channels: 1,
      fmtp: '0-16',
    })
  }
  const audio = out.filter((c) => !isTelephoneEvent(c))
  const events = out.filter(isTelephoneEvent)
  return [
    ...audio,
    ...added.filter((c) => !isTelephoneEvent(c)),
    ...events,
    ...added.filter(isTelephoneEvent),
  ]
}

/**
 * The far end answered our WebRTC offer (`ours`, built from the phone's
 * relayable `phoneOffered` by overlayOfferCodecs).
 */
export function planFromOverlayAnswer(
  phoneOffered: readonly Codec[],
  ours: readonly Codec[],
  answered: readonly Codec[],
): CodecPlan {
  const overlay = intersect(answered, ours)
  const first = firstAudio(overlay)
  const phoneKeys = new Set(phoneOffered.map(codecKey))
  if (first != null && phoneKeys.has(codecKey(first))) {
    const shared = overlay.filter((c) => phoneKeys.has(codecKey(c)))
    return { phone: intersect(phoneOffered, shared), overlay: intersect(shared, phoneOffered) }
  }
  const g711 = phoneOffered.find(isG711)
  if (first != null && isOpus(first) && g711 != null) {
    return transcodePlan(g711, event(phoneOffered, 8000), first, event(overlay, 48000))
  }
  throw new MediaNegotiationError(
    `no common codec: phone offers ${describeCodecs(phoneOffered)}, far end offers ${describeCodecs(answered)}`,
  )
}

/**
 * The phone answered our RTP/AVP offer (`ours`, built from the far end's
 * `overlayOffered` by phoneOfferCodecs).
 */
export function planFromPhoneAnswer(
  overlayOffered: readonly Codec[],
  ours: readonly Codec[],
  answered: readonly Codec[],
): CodecPlan {
  const phone = intersect(answered, ours)
  const first = firstAudio(phone)
  const overlayKeys = new Set(overlayOffered.map(codecKey))
  if (first != null && overlayKeys.has(codecKey(first))) {
    const shared = phone.filter((c) => overlayKeys.has(codecKey(c)))
    // The far end's numbering of what the phone chose, in the phone's order.
    const overlay = intersect(shared, overlayOffered).map((c) =>
      overlayOffered.find((o) => codecKey(o) === codecKey(c))!,
    )
    return { phone: shared, overlay }
  }
  const opus = overlayOffered.find(isOpus)
  if (first != null && isG711(first) && opus != null) {
    return transcodePlan(first, event(phone, 8000), opus, event(overlayOffered, 48000))
  }
  throw new MediaNegotiationError(
    `no common codec: phone offers ${describeCodecs(answered)}, far end offers ${describeCodecs(overlayOffered)}`,
  )
}

function transcodePlan(
  phone: Codec,
  phoneEvent: Codec | undefined,
  overlay: Codec,
  overlayEvent: Codec | undefined,
): CodecPlan {
  // Events cross only when both legs have them.
  const events = phoneEvent != null && overlayEvent != null
  return {
    phone: events ? [phone, phoneEvent] : [phone],
    overlay: events ? [overlay, overlayEvent] : [overlay],
    transcode: { phone, overlay, ...(events ? { phoneEvent, overlayEvent } : {}) },
  }
}

/** A later offer or answer must still carry the negotiated audio codec (by identity). */
export function expectNegotiated(
  offered: readonly Codec[],
  negotiated: readonly Codec[],
  whose: string,
): void {
  const keys = new Set(offered.map(codecKey))
  const audio = negotiated.filter((c) => !isTelephoneEvent(c))
  if (!audio.some((c) => keys.has(codecKey(c)))) {
    throw new MediaNegotiationError(
      `no common codec: ${whose} dropped ${describeCodecs(audio)}, and the anchor cannot switch codecs mid-call`,
    )
  }
}
