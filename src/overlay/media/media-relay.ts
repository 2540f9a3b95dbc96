/**
 * Packet forwarding for one anchored call, both ways, with its counters.
 *
 * RTP from the phone socket goes out on the WebRTC track and RTP from the
 * track goes to the phone, each rewritten into the other leg's payload type
 * numbering and SSRC (rtp-rewriter.ts). RTCP is not forwarded: each leg is its
 * own RTP session, and libdatachannel runs the WebRTC leg's RTCP itself; it
 * still counts as a sign of life for the idle timeout. Media flows only the
 * ways the last offer/answer allows (RFC 3264 §5.1: a sendonly party does
 * not receive), which is also how hold is enforced when libdatachannel cannot
 * change its track's direction.
 */
import { randomInt } from 'node:crypto'
import type { Codec } from './codecs.js'
import { isTelephoneEvent, payloadMap } from './codecs.js'
import { EventStartRepair } from './event-start.js'
import type { TranscodePlan } from './codec-plan.js'
import { RtpRewriter, isRtcp, isRtp } from './rtp-rewriter.js'
import { G711OpusTranscoder } from './transcode/transcoder.js'

/** Per-call counters, for the bench and the UI. */
export interface RelayStats {
  packetsToOverlay: number
  bytesToOverlay: number
  packetsToPhone: number
  bytesToPhone: number
  /** Packets not forwarded: unknown payload type, held direction, or leg not ready. */
  packetsDropped: number
  /** Date.now() of the last packet from either leg (RTCP included), 0 before any. */
  lastPacketAt: number
}

export interface RelayRoute {
  /** The codecs each leg negotiated, each in its own numbering. */
  phoneCodecs: readonly Codec[]
  overlayCodecs: readonly Codec[]
  /**
   * The numbering of our own SDP to the phone, when it differs. RFC 3264 §5.1
   * has each side receive at the numbers in its own SDP, so a phone that
   * answered our offer with other numbers may send with either; both are
   * accepted (the phone's own first).
   */
  phoneAlt?: readonly Codec[]
  /** Transcode between the phone's G.711 and the overlay's Opus instead of relaying. */
  transcode?: TranscodePlan
  /** The phone's a=ptime, for transcoded packets sent to it. */
  phonePtimeMs?: number
  toOverlay: boolean
  toPhone: boolean
}

export interface RelayLegs {
  sendToPhone: (packet: Buffer) => boolean
  sendToOverlay: (packet: Buffer) => boolean
}

export class MediaRelay {
  /** SSRC of our stream on the WebRTC leg; signalled in its SDP. */
  readonly overlaySsrc = randomInt(1, 2 ** 32 - 1)
  /** SSRC of our stream towards the phone. */
  readonly phoneSsrc = randomInt(1, 2 ** 32 - 1)
  private route: RelayRoute | undefined
  private legs: RelayLegs | undefined
  private toOverlay: RtpRewriter | undefined
  private toPhone: RtpRewriter | undefined
  private transcoder: G711OpusTranscoder | undefined
  /** DTMF toward the phone gets its RFC 4733 start packet back (event-start.ts). */
  private readonly eventStarts = new EventStartRepair(new Set())
  private readonly counters: RelayStats = {
    packetsToOverlay: 0,
    bytesToOverlay: 0,
    packetsToPhone: 0,
    bytesToPhone: 0,
    packetsDropped: 0,
    lastPacketAt: 0,
  }

  constructor(private readonly now: () => number = Date.now) {}

  attach(legs: RelayLegs): void {
    this.legs = legs
  }

  /** Install (or, after a re-offer, replace) the negotiated route; streams keep their SSRC and offsets. */
  setRoute(route: RelayRoute): void {
    this.route = route
    const overlayEvents = route.overlayCodecs.filter(isTelephoneEvent).map((c) => c.pt)
    if (route.transcode?.overlayEvent != null) overlayEvents.push(route.transcode.overlayEvent.pt)
    this.eventStarts.setPayloadTypes(new Set(overlayEvents))
    if (route.transcode != null) {
      this.transcoder ??= new G711OpusTranscoder({
        phone: {
          codec: route.transcode.phone.name.toUpperCase() === 'PCMA' ? 'PCMA' : 'PCMU',
          payloadType: route.transcode.phone.pt,
          ssrc: this.phoneSsrc,
          ...(route.transcode.phoneEvent != null
            ? { telephoneEventPayloadType: route.transcode.phoneEvent.pt }
            : {}),
          ...(route.phonePtimeMs != null ? { ptimeMs: route.phonePtimeMs } : {}),
        },
        overlay: {
          payloadType: route.transcode.overlay.pt,
          ssrc: this.overlaySsrc,
          ...(route.transcode.overlayEvent != null
            ? { telephoneEventPayloadType: route.transcode.overlayEvent.pt }
            : {}),
        },
      })
      return
    }
    const p2o = payloadMap(route.phoneCodecs, route.overlayCodecs)
    const o2p = payloadMap(route.overlayCodecs, route.phoneCodecs)
    const phoneClocks = new Map(route.phoneCodecs.map((c) => [c.pt, c.clock]))
    const alt = route.phoneAlt ?? []
    for (const [from, to] of payloadMap(alt, route.overlayCodecs))
      if (!p2o.has(from)) p2o.set(from, to)
    for (const c of alt) if (!phoneClocks.has(c.pt)) phoneClocks.set(c.pt, c.clock)
    const overlayClocks = new Map(route.overlayCodecs.map((c) => [c.pt, c.clock]))
    if (this.toOverlay == null) {
      this.toOverlay = new RtpRewriter({
        ssrc: this.overlaySsrc,
        payloadTypes: p2o,
        clocks: phoneClocks,
        now: this.now,
      })
      this.toPhone = new RtpRewriter({
        ssrc: this.phoneSsrc,
        payloadTypes: o2p,
        clocks: overlayClocks,
        now: this.now,
      })
    } else {
      this.toOverlay.setPayloadTypes(p2o, phoneClocks)
      this.toPhone!.setPayloadTypes(o2p, overlayClocks)
    }
  }

  /** Whether media is meant to flow at all (not both ways on hold). */
  get flowing(): boolean {
    return this.route != null && (this.route.toOverlay || this.route.toPhone)
  }

  fromPhone(packet: Buffer): void {
    this.counters.lastPacketAt = this.now()
    if (!isRtp(packet)) return
    if (this.route?.toOverlay !== true) return void this.counters.packetsDropped++
    if (this.transcoder != null) {
      for (const out of this.transcoder.phoneToOverlay(packet)) this.toOverlayLeg(Buffer.from(out))
      return
    }
    const out = this.toOverlay?.rewrite(packet)
    if (out == null) this.counters.packetsDropped++
    else this.toOverlayLeg(out)
  }

  fromOverlay(packet: Buffer): void {
    this.counters.lastPacketAt = this.now()
    if (isRtcp(packet) || !isRtp(packet)) return
    if (this.route?.toPhone !== true) return void this.counters.packetsDropped++
    const packets = this.eventStarts.repair(packet)
    if (this.transcoder != null) {
      for (const p of packets)
        for (const out of this.transcoder.overlayToPhone(p)) this.toPhoneLeg(Buffer.from(out))
      return
    }
    packets.forEach((p, i) => {
      // An inserted start takes a sequence number: the rest of the stream moves up by one.
      if (i > 0) this.toPhone?.shiftSequence(1)
      const out = this.toPhone?.rewrite(p)
      if (out == null) this.counters.packetsDropped++
      else this.toPhoneLeg(out)
    })
  }

  /** Free the transcoder's Opus state (the legs are closed by their owner). */
  close(): void {
    this.transcoder?.destroy()
    this.route = undefined
  }

  private toOverlayLeg(out: Buffer): void {
    if (this.legs?.sendToOverlay(out) !== true) return void this.counters.packetsDropped++
    this.counters.packetsToOverlay++
    this.counters.bytesToOverlay += out.length
  }

  private toPhoneLeg(out: Buffer): void {
    if (this.legs?.sendToPhone(out) !== true) return void this.counters.packetsDropped++
    this.counters.packetsToPhone++
    this.counters.bytesToPhone += out.length
  }

  stats(): RelayStats {
    return { ...this.counters }
  }
}
