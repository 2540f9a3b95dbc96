/**
 * G.711 ↔ Opus for a media anchor (issue 12 §3), one RTP packet at a time.
 *
 *   phone ──PCMU/PCMA 8 kHz, any ptime──▶ phoneToOverlay ──Opus 48 kHz, 20 ms──▶ overlay
 *   phone ◀──────── ptime frames ──────── overlayToPhone ◀──── Opus frames ────── overlay
 *
 * Each leg is its own RTP session (RFC 7667 §3.2.1.4, media translator), so
 * every packet leaving carries that leg's SSRC, payload type, sequence
 * numbers and timestamp clock: 8000 Hz on the phone leg, 48000 Hz on the
 * overlay leg (RFC 7587 §4.1: Opus always uses 48 kHz). CSRCs and header
 * extensions describe the other session and are not carried over.
 *
 * Audio path, phone → overlay: G.711 decode, 20 ms framing (framer.ts),
 * 8 → 48 kHz (resample.ts), Opus encode. Overlay → phone: Opus decode (a
 * sequence gap is first concealed by Opus PLC, up to `maxConcealMs`),
 * 48 → 8 kHz, framing to the phone's ptime, G.711 encode.
 *
 * RFC 4733 telephone-events pass through with the other leg's payload type;
 * their timestamps and durations are rescaled between the clocks, and they
 * share the audio's SSRC and sequence numbers (RFC 4733 §2.1).
 *
 * Nothing here throws to the relay: a malformed, late, unexpected or
 * undecodable packet is counted in `stats` and yields no output.
 */
import { Framer } from './framer.js'
import type { Frame } from './framer.js'
import { g711Decode, g711Encode } from './g711.js'
import type { G711Law } from './g711.js'
import { InboundStream, wireTimestamp } from './inbound-stream.js'
import { OPUS_FRAME_SAMPLES, OpusCodec, OpusDecodeError } from './opus-codec.js'
import type { OpusCodecOptions } from './opus-codec.js'
import { Downsampler, RESAMPLE_FACTOR, Upsampler } from './resample.js'
import { parseRtp, RtpParseError, serializeRtp } from './rtp.js'
import type { RtpPacket } from './rtp.js'

const PHONE_RATE = 8000
/** 20 ms at 8 kHz: one Opus frame's worth of phone audio. */
const PHONE_FRAME = OPUS_FRAME_SAMPLES / RESAMPLE_FACTOR
/** RFC 4733 §2.3: event (8 bits), E/R/volume (8 bits), duration (16 bits). */
const EVENT_BYTES = 4
const MAX_EVENT_DURATION = 0xffff

export interface PhoneLegFormat {
  /** The G.711 law the phone speaks. */
  codec: G711Law
  /** Its payload type. @default 0 for PCMU, 8 for PCMA (RFC 3551 §6) */
  payloadType?: number
  /** The phone's telephone-event/8000 payload type; without one, DTMF toward the phone is dropped. */
  telephoneEventPayloadType?: number
  /** Milliseconds of audio per packet sent to the phone (its a=ptime). @default 20 */
  ptimeMs?: number
  /** SSRC of the stream sent to the phone. @default random */
  ssrc?: number
}

export interface OverlayLegFormat {
  /** The overlay leg's Opus payload type. */
  payloadType: number
  /** Its telephone-event/48000 payload type; without one, DTMF toward the overlay is dropped. */
  telephoneEventPayloadType?: number
  /** SSRC of the stream sent across the overlay. @default random */
  ssrc?: number
}

export interface G711OpusTranscoderInit {
  phone: PhoneLegFormat
  overlay: OverlayLegFormat
  opus?: OpusCodecOptions
  /** The longest run of lost Opus audio concealed by PLC; longer losses reach the phone as loss. @default 120 */
  maxConcealMs?: number
  /** Called with anything unexpected thrown inside the transcoder (the packet is dropped). */
  onError?: (err: unknown) => void
}

/** Counters for one direction. */
export interface DirectionStats {
  packetsIn: number
  packetsOut: number
  /** Telephone-event packets passed on. */
  events: number
  /** Not RTP, or a telephone-event payload that is not 4 bytes. */
  malformed: number
  /** Neither the audio nor the telephone-event payload type (CN, say), or events the other leg did not negotiate. */
  unexpected: number
  /** Late or duplicate by sequence number. */
  late: number
  /** Packets missing by sequence number. */
  lost: number
  /** Opus packets libopus rejected (overlay → phone only). */
  decodeErrors: number
  /** Milliseconds of audio made up by Opus PLC (overlay → phone only). */
  concealedMs: number
  /** Unexpected internal failures (reported through `onError`). */
  failures: number
}

const emptyStats = (): DirectionStats => ({
  packetsIn: 0,
  packetsOut: 0,
  events: 0,
  malformed: 0,
  unexpected: 0,
  late: 0,
  lost: 0,
  decodeErrors: 0,
  concealedMs: 0,
  failures: 0,
})

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!
}

/** An outgoing RTP stream: one SSRC, one sequence space, one timestamp base. */
class OutboundStream {
  private seq = randomUint32() & 0xffff
  readonly tsBase = randomUint32()

  constructor(readonly ssrc: number) {}

  /** Count `n` sequence numbers as lost on this leg (RFC 3550 §A.3: the receiver sees the gap). */
  skip(n: number): void {
    this.seq = (this.seq + n) & 0xffff
  }

  packet(payloadType: number, timestamp: number, marker: boolean, payload: Uint8Array): Uint8Array {
    const sequenceNumber = this.seq
    this.seq = (this.seq + 1) & 0xffff
    return serializeRtp({
      marker,
      payloadType,
      sequenceNumber,
      timestamp,
      ssrc: this.ssrc,
      payload,
    })
  }
}

export class G711OpusTranscoder {
  readonly stats = { phoneToOverlay: emptyStats(), overlayToPhone: emptyStats() }
  private readonly law: G711Law
  private readonly phonePt: number
  private readonly phoneEventPt: number | undefined
  private readonly overlayPt: number
  private readonly overlayEventPt: number | undefined
  private readonly maxConceal: number
  private readonly codec: OpusCodec
  private readonly up = new Upsampler()
  private readonly down = new Downsampler()
  private readonly fromPhone = new InboundStream()
  private readonly fromOverlay = new InboundStream()
  private readonly toOverlay: OutboundStream
  private readonly toPhone: OutboundStream
  /** 20 ms frames of phone audio on their way to the encoder (positions at 8 kHz). */
  private readonly opusFramer = new Framer(PHONE_FRAME)
  /** ptime frames of decoded overlay audio on their way to the phone (positions at 8 kHz). */
  private readonly phoneFramer: Framer
  /** Where the next Opus audio is expected (48 kHz position), for PLC and restarts. */
  private overlayAudioEnd: number | undefined
  private destroyed = false

  constructor(private readonly init: G711OpusTranscoderInit) {
    const { phone, overlay } = init
    const ptime = phone.ptimeMs ?? 20
    if (!Number.isInteger(ptime) || ptime < 10 || ptime > 200)
      throw new RangeError(`a phone ptime of ${ptime} ms is outside 10..200`)
    for (const pt of [
      phone.payloadType,
      phone.telephoneEventPayloadType,
      overlay.payloadType,
      overlay.telephoneEventPayloadType,
    ])
      if (pt !== undefined && (!Number.isInteger(pt) || pt < 0 || pt > 127))
        throw new RangeError(`payload type ${pt} is not 0..127`)
    this.law = phone.codec
    this.phonePt = phone.payloadType ?? (phone.codec === 'PCMU' ? 0 : 8)
    this.phoneEventPt = phone.telephoneEventPayloadType
    this.overlayPt = overlay.payloadType
    this.overlayEventPt = overlay.telephoneEventPayloadType
    this.maxConceal = ((init.maxConcealMs ?? 120) * 48_000) / 1000
    this.phoneFramer = new Framer(ptime * (PHONE_RATE / 1000))
    this.toOverlay = new OutboundStream(overlay.ssrc ?? randomUint32())
    this.toPhone = new OutboundStream(phone.ssrc ?? randomUint32())
    this.codec = new OpusCodec(init.opus)
  }

  /** One RTP packet from the phone → the RTP packets to send across the overlay (0, 1 or more). */
  phoneToOverlay(rtp: Uint8Array): Uint8Array[] {
    return this.guard(this.stats.phoneToOverlay, rtp, (p, s) => {
      if (p.payloadType === this.phonePt) return this.phoneAudio(p, s)
      if (p.payloadType === this.phoneEventPt && this.phoneEventPt !== undefined) {
        const placed = this.fromPhone.place(p, this.opusFramer.end ?? 0)
        if (!placed) return late(s)
        this.fromPhone.accept(p, placed.at)
        if (this.overlayEventPt === undefined) return unexpected(s)
        return this.event(
          p,
          s,
          this.toOverlay,
          this.overlayEventPt,
          wireTimestamp(this.toOverlay.tsBase, placed.at, RESAMPLE_FACTOR),
          RESAMPLE_FACTOR,
        )
      }
      return unexpected(s)
    })
  }

  /** One RTP packet from the overlay → the RTP packets to send to the phone (0, 1 or more). */
  overlayToPhone(rtp: Uint8Array): Uint8Array[] {
    return this.guard(this.stats.overlayToPhone, rtp, (p, s) => {
      if (p.payloadType === this.overlayPt) return this.overlayAudio(p, s)
      if (p.payloadType === this.overlayEventPt && this.overlayEventPt !== undefined) {
        const placed = this.fromOverlay.place(p, this.overlayAudioEnd ?? 0)
        if (!placed) return late(s)
        this.fromOverlay.accept(p, placed.at)
        if (this.phoneEventPt === undefined) return unexpected(s)
        const at = Math.floor(placed.at / RESAMPLE_FACTOR)
        return this.event(
          p,
          s,
          this.toPhone,
          this.phoneEventPt,
          wireTimestamp(this.toPhone.tsBase, at),
          1 / RESAMPLE_FACTOR,
        )
      }
      return unexpected(s)
    })
  }

  /** Free the Opus codec; both methods return nothing afterwards. Idempotent. */
  destroy(): void {
    this.destroyed = true
    this.codec.destroy()
  }

  private guard(
    s: DirectionStats,
    rtp: Uint8Array,
    body: (p: RtpPacket, s: DirectionStats) => Uint8Array[],
  ): Uint8Array[] {
    if (this.destroyed) return []
    s.packetsIn++
    try {
      const out = body(parseRtp(rtp), s)
      s.packetsOut += out.length
      return out
    } catch (err) {
      if (err instanceof RtpParseError) s.malformed++
      else {
        s.failures++
        try {
          this.init.onError?.(err)
        } catch {
          // A throwing error hook must not break the relay either.
        }
      }
      return []
    }
  }

  private phoneAudio(p: RtpPacket, s: DirectionStats): Uint8Array[] {
    const placed = this.fromPhone.place(p, this.opusFramer.end ?? 0)
    if (!placed) return late(s)
    s.lost += placed.lost
    const pcm = g711Decode(this.law, p.payload)
    const { frames, movedBy } = this.opusFramer.push(
      pcm,
      placed.at,
      placed.lost > 0,
      p.marker || placed.restart,
    )
    this.fromPhone.accept(p, placed.at + movedBy)
    return frames.map((f) => this.encodeFrame(f))
  }

  private encodeFrame(frame: Frame): Uint8Array {
    // Frames the phone leg lost stay lost on the overlay leg: the receiver's
    // own jitter buffer and PLC handle them better than silence would.
    this.toOverlay.skip(frame.lostBefore)
    const opus = this.codec.encode(this.up.process(frame.pcm))
    const ts = wireTimestamp(this.toOverlay.tsBase, frame.at, RESAMPLE_FACTOR)
    return this.toOverlay.packet(this.overlayPt, ts, frame.marker, opus)
  }

  private overlayAudio(p: RtpPacket, s: DirectionStats): Uint8Array[] {
    const placed = this.fromOverlay.place(p, this.overlayAudioEnd ?? 0)
    if (!placed) return late(s)
    let pcm: Int16Array
    try {
      pcm = this.codec.decode(p.payload)
    } catch (err) {
      if (!(err instanceof OpusDecodeError)) throw err
      // Not accepted: the next good packet sees the sequence gap and conceals it.
      s.decodeErrors++
      return []
    }
    s.lost += placed.lost
    const out: Uint8Array[] = []
    let lost = placed.lost > 0
    const end = this.overlayAudioEnd
    if (lost && end !== undefined) {
      // RFC 3550 §A.1: the gap in sequence numbers is loss, and the gap in
      // timestamps is how much audio went with it.
      const missing = placed.at - end
      if (missing > 0 && missing <= this.maxConceal) {
        out.push(...this.toPhoneFrames(this.codec.conceal(missing), end, false, false).packets)
        s.concealedMs += (missing * 1000) / 48_000
        lost = false
      }
    }
    const { packets, movedBy } = this.toPhoneFrames(
      pcm,
      placed.at,
      lost,
      p.marker || placed.restart,
    )
    const at = placed.at + movedBy * RESAMPLE_FACTOR
    this.fromOverlay.accept(p, at)
    this.overlayAudioEnd = at + pcm.length
    out.push(...packets)
    return out
  }

  /** 48 kHz PCM at 48 kHz position `at` → G.711 RTP packets for the phone. */
  private toPhoneFrames(
    pcm48: Int16Array,
    at: number,
    lost: boolean,
    marker: boolean,
  ): { packets: Uint8Array[]; movedBy: number } {
    const pcm8 = this.down.process(pcm48)
    const { frames, movedBy } = this.phoneFramer.push(
      pcm8,
      Math.floor(at / RESAMPLE_FACTOR),
      lost,
      marker,
    )
    const packets = frames.map((f) => {
      this.toPhone.skip(f.lostBefore)
      const payload = g711Encode(this.law, f.pcm)
      return this.toPhone.packet(
        this.phonePt,
        wireTimestamp(this.toPhone.tsBase, f.at),
        f.marker,
        payload,
      )
    })
    return { packets, movedBy }
  }

  /**
   * RFC 4733 event → the other leg. `ts` is the event's start on the other
   * leg's clock; the duration is scaled by `scale`. An event longer than the
   * 16-bit duration field allows on the faster clock is cut into segments
   * (RFC 4733 §2.5.1.3): each segment's timestamp advances by 0xFFFF.
   */
  private event(
    p: RtpPacket,
    s: DirectionStats,
    to: OutboundStream,
    pt: number,
    ts: number,
    scale: number,
  ): Uint8Array[] {
    if (p.payload.length !== EVENT_BYTES) {
      s.malformed++
      return []
    }
    const payload = p.payload.slice()
    const duration = Math.round(((payload[2]! << 8) | payload[3]!) * scale)
    const segment =
      duration > MAX_EVENT_DURATION ? Math.floor((duration - 1) / MAX_EVENT_DURATION) : 0
    const segmentDuration = duration - segment * MAX_EVENT_DURATION
    payload[2] = segmentDuration >> 8
    payload[3] = segmentDuration & 0xff
    s.events++
    return [to.packet(pt, (ts + segment * MAX_EVENT_DURATION) >>> 0, p.marker, payload)]
  }
}

function late(s: DirectionStats): Uint8Array[] {
  s.late++
  return []
}

function unexpected(s: DirectionStats): Uint8Array[] {
  s.unexpected++
  return []
}
