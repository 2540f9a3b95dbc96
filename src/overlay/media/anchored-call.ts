/**
 * One anchored call: the RFC 3264 offer/answer state on both legs, the phone
 * socket, the WebRTC peer connection and the relay between them.
 *
 *   phone ──RTP/AVP, 127.0.0.1── [PhoneLeg ⇄ MediaRelay ⇄ WebRtcLeg] ──ICE+DTLS-SRTP── overlay
 *
 * An offer from one side becomes our offer to the other; that side's answer
 * becomes our answer to the first. The first exchange creates the peer
 * connection; later ones (re-INVITE, UPDATE: hold, resume, a moved phone port)
 * keep both legs. libdatachannel 0.23 cannot restart ICE nor change a track's
 * direction once added, so a re-offer that keeps the far end's ICE credentials
 * is answered from our existing WebRTC description with the new direction
 * written into the SDP and enforced by the relay; one that restarts ICE is
 * refused (488, and RFC 3261 §14.1 keeps the old session going).
 */
import { randomInt } from 'node:crypto'
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Codec } from './codecs.js'
import {
  codecKey,
  codecsOf,
  describeCodecs,
  intersect,
  isRelayable,
  isTelephoneEvent,
} from './codecs.js'
import type { RelayStats } from './media-relay.js'
import { MediaRelay } from './media-relay.js'
import { PhoneLeg, phoneTarget } from './phone-leg.js'
import type { MediaDirection, Sdp } from './sdp.js'
import {
  attribute,
  directionFrom,
  directionOf,
  mediaAttribute,
  receives,
  sends,
  serializeSdp,
} from './sdp.js'
import { audioIndex, overlaySdp, parseOrReject, phoneSdp } from './sdp-translate.js'
import type { WebRtcLegInit } from './webrtc-leg.js'
import { WebRtcLeg } from './webrtc-leg.js'

/** What a phone can be offered from the overlay, named in 488 reasons. */
const CARRIED = 'opus/48000/2, PCMU/8000, PCMA/8000'

export interface AnchoredCallInit {
  callId: string
  /** Everything for a new peer connection except the packet handler. */
  webrtc: Omit<WebRtcLegInit, 'onPacket' | 'name'>
  rtpPortRange?: readonly [number, number]
  now?: () => number
}

type Pending =
  | { from: 'phone'; offer: Sdp; audio: number; codecs: Codec[] }
  | { from: 'overlay'; offer: Sdp; text: string; audio: number; codecs: Codec[] }

export interface AnchoredCallStats extends RelayStats {
  callId: string
  /** The negotiated audio codecs, in the phone's numbering ('' before an answer). */
  codecs: string
  /** The WebRTC leg's connection state ('none' before it exists). */
  connection: string
  toOverlay: boolean
  toPhone: boolean
  startedAt: number
}

export class AnchoredCall {
  readonly relay: MediaRelay
  readonly startedAt: number
  private webrtc: WebRtcLeg | undefined
  private pending: Pending | undefined
  private ended = false
  private readonly sessionId = String(randomInt(1, 2 ** 47))
  private phoneVersion = 0
  private overlayVersion = 0
  private phoneDir: MediaDirection = 'sendrecv'
  private overlayDir: MediaDirection = 'sendrecv'
  private phoneCodecs: Codec[] = []
  private overlayCodecs: Codec[] = []
  /** The codecs as numbered in our last SDP to the phone. */
  private phoneOffered: readonly Codec[] = []
  /** Our last WebRTC description as sent, and our DTLS role once settled (RFC 4145 §4.1). */
  private overlayLocal: Sdp | undefined
  private dtlsRole: 'active' | 'passive' | undefined
  private remoteUfrag: string | undefined

  private constructor(
    private readonly init: AnchoredCallInit,
    private readonly phone: PhoneLeg,
    relay: MediaRelay,
  ) {
    this.relay = relay
    this.startedAt = (init.now ?? Date.now)()
  }

  static async open(init: AnchoredCallInit): Promise<AnchoredCall> {
    const relay = new MediaRelay(init.now)
    const phone = await PhoneLeg.open({
      ...(init.rtpPortRange != null ? { portRange: init.rtpPortRange } : {}),
      onPacket: (p) => relay.fromPhone(p),
    })
    const call = new AnchoredCall(init, phone, relay)
    relay.attach({
      sendToPhone: (p) => phone.send(p),
      sendToOverlay: (p) => call.webrtc?.send(p) ?? false,
    })
    return call
  }

  /** Date.now() when the last offer/answer exchange completed; 0 before the first. */
  settledAt = 0

  /** True until the first offer/answer exchange completes (the setup timeout applies). */
  get negotiating(): boolean {
    return this.settledAt === 0
  }

  /** The phone offered (INVITE, re-INVITE): our WebRTC offer for the overlay. */
  async phoneOffer(text: string): Promise<string> {
    this.expectNoPending()
    const offer = parseOrReject(text, 'phone')
    const audio = audioIndex(offer, 'phone')
    const media = offer.media[audio]!
    const offered = codecsOf(media)
    const target = phoneTarget(offer, media)
    const codecs =
      this.webrtc == null ? relayableSet(offered) : this.keepNegotiated(offered, this.phoneCodecs)
    if (!codecs.some((c) => !isTelephoneEvent(c))) {
      throw new MediaNegotiationError(
        `no common codec: phone offers ${describeCodecs(offered)}, far end offers ${CARRIED}`,
      )
    }
    this.phone.setTarget(target)
    const direction = directionOf(offer, media)
    let local: Sdp
    if (this.webrtc == null) {
      const { leg, sdp } = await WebRtcLeg.offer(this.legInit(), {
        mid: '0',
        direction,
        codecs,
        ssrc: this.relay.overlaySsrc,
        cname: `kaiwa-${this.sessionId}`,
      })
      this.adopt(leg)
      local = overlaySdp(parseOrReject(sdp, 'our WebRTC'), { direction })
    } else {
      local = overlaySdp(this.overlayLocal!, {
        direction,
        payloadTypes: this.overlayCodecs.map((c) => c.pt),
        version: ++this.overlayVersion,
        ...(this.dtlsRole != null ? { setup: this.dtlsRole } : {}),
      })
    }
    this.overlayLocal = local
    this.phoneDir = direction
    this.pending = { from: 'phone', offer, audio, codecs }
    return serializeSdp(local)
  }

  /** The overlay answered our offer: apply it, and answer the phone in plain RTP/AVP. */
  overlayAnswer(text: string): string {
    const pending = this.takePending('phone')
    const answer = parseOrReject(text, 'far end')
    const media = answer.media.find((m) => m.media === 'audio')
    const answered = media != null && media.port !== 0 ? codecsOf(media) : []
    const overlay = intersect(answered, pending.codecs)
    const phone = intersect(pending.codecs, overlay)
    if (!overlay.some((c) => !isTelephoneEvent(c)) || media == null) {
      throw new MediaNegotiationError(
        `no common codec: phone offers ${describeCodecs(pending.codecs)}, far end offers ${describeCodecs(answered)}`,
      )
    }
    const ufrag = mediaAttribute(answer, media, 'ice-ufrag')
    if (this.remoteUfrag == null) {
      this.webrtc!.acceptAnswer(text)
      this.remoteUfrag = ufrag
      const theirs = mediaAttribute(answer, media, 'setup')
      this.dtlsRole = theirs === 'active' ? 'passive' : 'active'
    } else if (ufrag !== this.remoteUfrag) {
      throw new MediaNegotiationError(
        'the far end restarted ICE, which the media anchor cannot follow',
      )
    }
    this.overlayDir = directionOf(answer, media)
    this.phoneCodecs = phone
    this.overlayCodecs = overlay
    this.phoneOffered = phone
    const route = this.applyRoute()
    return phoneSdp({
      sessionId: this.sessionId,
      version: ++this.phoneVersion,
      port: this.phone.port,
      codecs: phone,
      direction: directionFrom(route.toPhone, route.toOverlay),
      answering: { offer: pending.offer, audio: pending.audio },
    })
  }

  /** The overlay offered (an app or another node calls the phone): a plain RTP/AVP offer for the phone. */
  overlayOffer(text: string): string {
    this.expectNoPending()
    const offer = parseOrReject(text, 'far end')
    const audio = audioIndex(offer, 'far end')
    const media = offer.media[audio]!
    const ufrag = mediaAttribute(offer, media, 'ice-ufrag')
    if (ufrag == null || mediaAttribute(offer, media, 'fingerprint') == null) {
      throw new MediaNegotiationError(
        'far end offer is not WebRTC: it has no ICE credentials or DTLS fingerprint',
      )
    }
    if (this.remoteUfrag != null && ufrag !== this.remoteUfrag) {
      throw new MediaNegotiationError(
        'the far end restarted ICE, which the media anchor cannot follow',
      )
    }
    const offered = codecsOf(media)
    // A re-offer keeps the negotiated codecs and numbers the phone's stream as before (RFC 3264 §8.3.2).
    const codecs =
      this.webrtc == null
        ? relayableSet(offered)
        : this.keepNegotiated(offered, this.overlayCodecs).some((c) => !isTelephoneEvent(c))
          ? this.phoneCodecs
          : []
    if (!codecs.some((c) => !isTelephoneEvent(c))) {
      throw new MediaNegotiationError(
        `no common codec: phone can use ${CARRIED}, far end offers ${describeCodecs(offered)}`,
      )
    }
    this.overlayDir = directionOf(offer, media)
    this.pending = { from: 'overlay', offer, text, audio, codecs }
    this.phoneOffered = codecs
    const ptime = attribute(media.lines, 'ptime')
    return phoneSdp({
      sessionId: this.sessionId,
      version: ++this.phoneVersion,
      port: this.phone.port,
      codecs,
      direction: this.overlayDir,
      ...(ptime != null ? { ptime } : {}),
    })
  }

  /** The phone answered our offer: our WebRTC answer for the overlay. */
  async phoneAnswer(text: string): Promise<string> {
    const pending = this.takePending('overlay')
    const answer = parseOrReject(text, 'phone')
    const media = answer.media.find((m) => m.media === 'audio' && m.port !== 0)
    const answered = media != null ? codecsOf(media) : []
    const phone = intersect(answered, pending.codecs)
    const offerMedia = pending.offer.media[pending.audio]!
    const overlayOffered = codecsOf(offerMedia)
    if (!phone.some((c) => !isTelephoneEvent(c)) || media == null) {
      throw new MediaNegotiationError(
        `no common codec: phone offers ${describeCodecs(answered)}, far end offers ${describeCodecs(overlayOffered)}`,
      )
    }
    // The far end's numbering of what the phone chose, in the phone's preference order.
    const overlay =
      this.webrtc == null
        ? intersect(phone, overlayOffered).map((c) => byKey(overlayOffered, c))
        : this.overlayCodecs
    this.phone.setTarget(phoneTarget(answer, media))
    this.phoneDir = directionOf(answer, media)
    this.phoneCodecs = phone
    this.overlayCodecs = overlay
    const ours = directionFrom(
      sends(this.phoneDir) && receives(this.overlayDir),
      sends(this.overlayDir) && receives(this.phoneDir),
    )
    let local: Sdp
    if (this.webrtc == null) {
      const mid = attribute(offerMedia.lines, 'mid')
      if (mid == null)
        throw new MediaNegotiationError(
          'far end offer has no a=mid for its audio (RFC 8843 needs one)',
        )
      const { leg, sdp } = await WebRtcLeg.answer(
        this.legInit(),
        {
          mid,
          direction: ours,
          codecs: overlay,
          ssrc: this.relay.overlaySsrc,
          cname: `kaiwa-${this.sessionId}`,
        },
        pending.text,
      )
      this.adopt(leg)
      this.remoteUfrag = mediaAttribute(pending.offer, offerMedia, 'ice-ufrag')
      local = overlaySdp(parseOrReject(sdp, 'our WebRTC'), { direction: ours })
      const setup = local.media.map((m) => attribute(m.lines, 'setup')).find((s) => s != null)
      this.dtlsRole = setup === 'passive' ? 'passive' : 'active'
    } else {
      local = overlaySdp(this.overlayLocal!, {
        direction: ours,
        payloadTypes: overlay.map((c) => c.pt),
        version: ++this.overlayVersion,
        ...(this.dtlsRole != null ? { setup: this.dtlsRole } : {}),
      })
    }
    this.overlayLocal = local
    this.applyRoute()
    return serializeSdp(local)
  }

  stats(): AnchoredCallStats {
    return {
      callId: this.init.callId,
      ...this.relay.stats(),
      codecs: describeCodecs(this.phoneCodecs.filter((c) => !isTelephoneEvent(c))),
      connection: this.webrtc?.connectionState ?? 'none',
      toOverlay: sends(this.phoneDir) && receives(this.overlayDir),
      toPhone: sends(this.overlayDir) && receives(this.phoneDir),
      startedAt: this.startedAt,
    }
  }

  /** Free the socket and the peer connection; later calls on this object fail. */
  close(): void {
    this.ended = true
    this.pending = undefined
    this.phone.close()
    this.webrtc?.close()
  }

  private applyRoute(): { toOverlay: boolean; toPhone: boolean } {
    const toOverlay = sends(this.phoneDir) && receives(this.overlayDir)
    const toPhone = sends(this.overlayDir) && receives(this.phoneDir)
    this.relay.setRoute({
      phoneCodecs: this.phoneCodecs,
      overlayCodecs: this.overlayCodecs,
      phoneAlt: this.phoneOffered,
      toOverlay,
      toPhone,
    })
    this.settledAt = (this.init.now ?? Date.now)()
    return { toOverlay, toPhone }
  }

  private legInit(): WebRtcLegInit {
    return {
      ...this.init.webrtc,
      name: `anchor-${this.init.callId.slice(0, 16)}`,
      onPacket: (p) => this.relay.fromOverlay(p),
    }
  }

  /** Keep a leg built while we awaited gathering, unless the call ended meanwhile. */
  private adopt(leg: WebRtcLeg): void {
    if (this.ended) {
      leg.close()
      throw new MediaNegotiationError('the call ended during media negotiation')
    }
    this.webrtc = leg
  }

  /** A re-offer may renumber but must still carry the negotiated codecs (by identity). */
  private keepNegotiated(offered: readonly Codec[], negotiated: readonly Codec[]): Codec[] {
    return intersect(offered, negotiated)
  }

  private expectNoPending(): void {
    if (this.ended) throw new MediaNegotiationError('the call has ended')
    // RFC 3264 §4: no new offer until the previous one is answered (SIP would say 491).
    if (this.pending != null)
      throw new MediaNegotiationError('an offer is already waiting for its answer')
  }

  private takePending<F extends Pending['from']>(from: F): Extract<Pending, { from: F }> {
    if (this.ended) throw new MediaNegotiationError('the call has ended')
    const p = this.pending
    if (p == null || p.from !== from) {
      throw new MediaNegotiationError(
        `an answer from the ${from === 'phone' ? 'overlay' : 'phone'} without our offer`,
      )
    }
    this.pending = undefined
    return p as Extract<Pending, { from: F }>
  }
}

/** The relayable codecs of an offer; telephone-event only at a kept audio clock (RFC 4733 §2.1). */
function relayableSet(offered: readonly Codec[]): Codec[] {
  const relayable = offered.filter(isRelayable)
  return intersect(relayable, relayable)
}

function byKey(list: readonly Codec[], c: Codec): Codec {
  return list.find((x) => codecKey(x) === codecKey(c))!
}
