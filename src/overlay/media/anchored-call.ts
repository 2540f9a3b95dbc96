/**
 * One anchored call: the RFC 3264 offer/answer state on both legs, the phone
 * socket, the WebRTC peer connection and the relay between them.
 *
 *   phone ──RTP/AVP, 127.0.0.1── [PhoneLeg ⇄ MediaRelay ⇄ OverlaySide] ──ICE+DTLS-SRTP── overlay
 *
 * An offer from one side becomes our offer to the other; that side's answer
 * becomes our answer to the first. The first exchange creates the peer
 * connection and fixes the codec plan (codec-plan.ts); later ones (re-INVITE
 * or UPDATE: hold, resume, a moved phone port) keep both legs and the codecs,
 * and change the direction and the phone's address (overlay-side.ts says how
 * the WebRTC description is reused). The offer outstanding, the last answer
 * and what a refused one goes back to are kept by offer-ledger.ts.
 */
import { randomInt } from 'node:crypto'
import { MediaNegotiationError, MediaPathError } from '../sip/gateway/gateway-media.js'
import type { CodecPlan } from './codec-plan.js'
import {
  expectNegotiated,
  overlayOfferCodecs,
  phoneOfferCodecs,
  planFromOverlayAnswer,
  planFromPhoneAnswer,
  relayableSet,
} from './codec-plan.js'
import type { Codec } from './codecs.js'
import { codecsOf, describeCodecs, isTelephoneEvent } from './codecs.js'
import type { AnchoredCallStats, Pending, Snapshot } from './call-state.js'
import { callStats, ptimeOf, sameOrigin } from './call-state.js'
import { MediaRelay } from './media-relay.js'
import { OfferLedger } from './offer-ledger.js'
import { OverlaySide } from './overlay-side.js'
import { PhoneLeg, phoneTarget } from './phone-leg.js'
import type { MediaDirection } from './sdp.js'
import {
  attribute,
  directionFrom,
  directionOf,
  mediaAttribute,
  receives,
  sends,
  serializeSdp,
} from './sdp.js'
import { audioIndex, parseOrReject, phoneSdp } from './sdp-translate.js'
import type { WebRtcLegInit } from './webrtc-leg.js'

/** What a phone can be offered from the overlay, named in 488 reasons. */
const CARRIED = 'opus/48000/2, PCMU/8000, PCMA/8000'
const CONNECT_WAIT_MS = 3000

export type { AnchoredCallStats } from './call-state.js'

export interface AnchoredCallInit {
  callId: string
  /** Everything for a new peer connection except the packet handler. */
  webrtc: Omit<WebRtcLegInit, 'onPacket' | 'name'>
  rtpPortRange?: readonly [number, number]
  /** Offer the G.711 ↔ Opus transcoder's codecs when relaying alone would fail. */
  transcoding: boolean
  /** Bound on holding the first overlay answer until the WebRTC leg is up. @default 3000 */
  connectWaitMs?: number
  now?: () => number
}

export class AnchoredCall {
  readonly relay: MediaRelay
  readonly startedAt: number
  /** Date.now() when the last offer/answer exchange completed; 0 before the first. */
  settledAt = 0
  private readonly overlay: OverlaySide
  private readonly offers: OfferLedger
  private readonly sessionId = String(randomInt(1, 2 ** 47))
  private phoneVersion = 0
  private phoneDir: MediaDirection = 'sendrecv'
  private overlayDir: MediaDirection = 'sendrecv'
  private plan: CodecPlan | undefined
  /** The codecs as numbered in our last SDP to the phone. */
  private phoneOffered: readonly Codec[] = []
  private phonePtime: number | undefined

  private constructor(
    private readonly init: AnchoredCallInit,
    private readonly phone: PhoneLeg,
    relay: MediaRelay,
  ) {
    this.relay = relay
    this.startedAt = (init.now ?? Date.now)()
    this.overlay = new OverlaySide(
      {
        ...init.webrtc,
        name: `anchor-${init.callId.slice(0, 16)}`,
        onPacket: (p) => relay.fromOverlay(p),
      },
      relay.overlaySsrc,
      `kaiwa-${this.sessionId}`,
    )
    this.offers = new OfferLedger({
      settled: () => this.settledAt !== 0,
      snapshot: () => ({
        phoneDir: this.phoneDir,
        overlayDir: this.overlayDir,
        phoneOffered: this.phoneOffered,
        overlayLocal: this.overlay.description,
        target: this.phone.currentTarget,
      }),
      restore: (s) => this.restore(s),
    })
  }

  static async open(init: AnchoredCallInit): Promise<AnchoredCall> {
    const relay = new MediaRelay(init.now)
    const phone = await PhoneLeg.open({
      ...(init.rtpPortRange != null ? { portRange: init.rtpPortRange } : {}),
      onPacket: (p) => relay.fromPhone(p),
    })
    const call = new AnchoredCall(init, phone, relay)
    relay.attach({ sendToPhone: (p) => phone.send(p), sendToOverlay: (p) => call.overlay.send(p) })
    return call
  }

  /** True until the first offer/answer exchange completes (the setup timeout applies). */
  get negotiating(): boolean {
    return this.settledAt === 0
  }

  /** The phone offered (INVITE, re-INVITE): our WebRTC offer for the overlay. */
  async phoneOffer(text: string): Promise<string> {
    const before = this.offers.dropUnanswered()
    const offer = parseOrReject(text, 'phone')
    const audio = audioIndex(offer, 'phone')
    const media = offer.media[audio]!
    const offered = codecsOf(media)
    const target = phoneTarget(offer, media)
    const direction = directionOf(offer, media)
    let ours: Codec[] = []
    let theirs: Codec[] = []
    if (this.plan == null) {
      theirs = relayableSet(offered)
      if (!theirs.some((c) => !isTelephoneEvent(c))) {
        throw new MediaNegotiationError(
          `no common codec: phone offers ${describeCodecs(offered)}, far end offers ${CARRIED}`,
        )
      }
      ours = overlayOfferCodecs(theirs, this.init.transcoding)
    } else expectNegotiated(offered, this.plan.phone, 'phone')
    this.phone.setTarget(target)
    this.phoneDir = direction
    this.phonePtime = ptimeOf(media) ?? this.phonePtime
    const local =
      this.plan == null
        ? await this.overlay.offer(direction, ours)
        : this.overlay.again(
            direction,
            this.plan.overlay.map((c) => c.pt),
          )
    this.offers.pending = { from: 'phone', offer, text, audio, ours, theirs, before }
    return serializeSdp(local)
  }

  /**
   * The overlay answered our offer: apply it, and answer the phone in plain
   * RTP/AVP. The first answer is held until the WebRTC leg is up (bounded by
   * `connectWaitMs`): the phone starts sending as soon as it has it, and
   * whatever it sends before ICE and DTLS complete is lost, such as the
   * RFC 4733 events of a digit pressed right after the call connects.
   */
  async overlayAnswer(text: string): Promise<string> {
    const last = this.offers.answerAgain('phone')
    if (last != null) {
      return last.text === text
        ? last.result
        : this.offers.remember(last.pending, text, this.settleOverlayAnswer(text, last.pending))
    }
    const pending = this.offers.take('phone')
    const first = this.plan == null
    let result: string
    try {
      result = this.offers.remember(pending, text, this.settleOverlayAnswer(text, pending))
    } catch (err) {
      this.offers.rollback(pending)
      throw err
    }
    if (first) {
      await this.overlay.connected(this.init.connectWaitMs ?? CONNECT_WAIT_MS)
      // A leg that failed (ICE, or DTLS: libdatachannel can check the far end's
      // certificate before it has stored the answer naming it) carries nothing,
      // and libdatachannel does not try again (it closes the connection right
      // after reporting the failure): fail the call now, not in silence.
      const state = this.overlay.connectionState
      if (state === 'failed' || state === 'closed')
        throw new MediaPathError('the WebRTC media path to the far end failed (ICE or DTLS)')
    }
    this.offers.live()
    return result
  }

  private settleOverlayAnswer(text: string, pending: Pending): string {
    const answer = parseOrReject(text, 'far end')
    const media = answer.media.find((m) => m.media === 'audio' && m.port !== 0)
    const answered = media != null ? codecsOf(media) : []
    if (this.plan == null) this.plan = planFromOverlayAnswer(pending.theirs, pending.ours, answered)
    else expectNegotiated(answered, this.plan.overlay, 'far end')
    this.overlay.acceptAnswer(text, answer, media!)
    this.overlayDir = directionOf(answer, media!)
    this.phoneOffered = this.plan.phone
    const route = this.applyRoute()
    return phoneSdp({
      sessionId: this.sessionId,
      version: ++this.phoneVersion,
      port: this.phone.port,
      codecs: this.plan.phone,
      direction: directionFrom(route.toPhone, route.toOverlay),
      answering: { offer: pending.offer, audio: pending.audio },
    })
  }

  /**
   * The overlay offered (an app or another node calls the phone): a plain
   * RTP/AVP offer for the phone. A node that forks the INVITE to several of
   * its phones (RFC 3261 §16.6) hands us the same offer once per phone, all
   * with one Call-ID: each gets the same phone offer, and the first answer
   * settles the call (phoneAnswer refuses the other forks' answers).
   */
  overlayOffer(text: string): string {
    const forked = this.offers.pending
    if (forked?.from === 'overlay' && forked.text === text && forked.result != null) {
      this.offers.live()
      return forked.result
    }
    const before = this.offers.dropUnanswered()
    const offer = parseOrReject(text, 'far end')
    const audio = audioIndex(offer, 'far end')
    const media = offer.media[audio]!
    if (
      mediaAttribute(offer, media, 'ice-ufrag') == null ||
      mediaAttribute(offer, media, 'fingerprint') == null
    ) {
      throw new MediaNegotiationError(
        'far end offer is not WebRTC: it has no ICE credentials or DTLS fingerprint',
      )
    }
    this.overlay.checkUfrag(mediaAttribute(offer, media, 'ice-ufrag'))
    const offered = codecsOf(media)
    let ours: Codec[]
    if (this.plan == null) {
      ours = phoneOfferCodecs(offered, this.init.transcoding)
      if (!ours.some((c) => !isTelephoneEvent(c))) {
        throw new MediaNegotiationError(
          `no common codec: phone can use ${CARRIED}, far end offers ${describeCodecs(offered)}`,
        )
      }
    } else {
      // A re-offer keeps the codecs and the phone's numbering (RFC 3264 §8.3.2).
      expectNegotiated(offered, this.plan.overlay, 'far end')
      ours = this.plan.phone
    }
    this.overlayDir = directionOf(offer, media)
    this.phoneOffered = ours
    const ptime = attribute(media.lines, 'ptime')
    const result = phoneSdp({
      sessionId: this.sessionId,
      version: ++this.phoneVersion,
      port: this.phone.port,
      codecs: ours,
      direction: this.overlayDir,
      ...(ptime != null ? { ptime } : {}),
    })
    this.offers.pending = {
      from: 'overlay',
      offer,
      text,
      audio,
      ours,
      theirs: offered,
      before,
      result,
    }
    return result
  }

  /** The phone answered our offer: our WebRTC answer for the overlay. */
  async phoneAnswer(text: string): Promise<string> {
    const last = this.offers.answerAgain('overlay')
    if (last != null) {
      if (last.text === text) return last.result
      // Another of our forked phones answered too: the first one has the call.
      if (!sameOrigin(last.text, text)) {
        throw new MediaNegotiationError('another phone already answered this call')
      }
      return this.offers.remember(
        last.pending,
        text,
        await this.settlePhoneAnswer(text, last.pending),
      )
    }
    const pending = this.offers.take('overlay')
    try {
      return this.offers.remember(pending, text, await this.settlePhoneAnswer(text, pending))
    } catch (err) {
      this.offers.rollback(pending)
      throw err
    }
  }

  private async settlePhoneAnswer(text: string, pending: Pending): Promise<string> {
    const answer = parseOrReject(text, 'phone')
    const media = answer.media.find((m) => m.media === 'audio' && m.port !== 0)
    const answered = media != null ? codecsOf(media) : []
    const first = this.plan == null
    if (this.plan == null) this.plan = planFromPhoneAnswer(pending.theirs, pending.ours, answered)
    else expectNegotiated(answered, this.plan.phone, 'phone')
    this.phone.setTarget(phoneTarget(answer, media!))
    this.phoneDir = directionOf(answer, media!)
    this.phonePtime = ptimeOf(media!) ?? this.phonePtime
    const ours = directionFrom(
      sends(this.phoneDir) && receives(this.overlayDir),
      sends(this.overlayDir) && receives(this.phoneDir),
    )
    const offerMedia = pending.offer.media[pending.audio]!
    const local = first
      ? await this.overlay.answer(pending.text, pending.offer, offerMedia, ours, this.plan.overlay)
      : this.overlay.again(
          ours,
          this.plan.overlay.map((c) => c.pt),
          pending.offer,
        )
    this.applyRoute()
    return serializeSdp(local)
  }

  stats(): AnchoredCallStats {
    const { phoneDir, overlayDir, plan, startedAt, init, relay, overlay } = this
    const connection = overlay.connectionState
    const common = { callId: init.callId, relay: relay.stats(), plan, connection }
    return callStats({ ...common, phoneDir, overlayDir, startedAt })
  }

  /** Free the socket, the peer connection and any transcoder; later calls on this object fail. */
  close(): void {
    this.offers.end()
    this.phone.close()
    this.overlay.close()
    this.relay.close()
  }

  private applyRoute(): { toOverlay: boolean; toPhone: boolean } {
    const toOverlay = sends(this.phoneDir) && receives(this.overlayDir)
    const toPhone = sends(this.overlayDir) && receives(this.phoneDir)
    const plan = this.plan!
    this.relay.setRoute({
      phoneCodecs: plan.phone,
      overlayCodecs: plan.overlay,
      phoneAlt: this.phoneOffered,
      ...(plan.transcode != null ? { transcode: plan.transcode } : {}),
      ...(this.phonePtime != null ? { phonePtimeMs: this.phonePtime } : {}),
      toOverlay,
      toPhone,
    })
    this.settledAt = (this.init.now ?? Date.now)()
    return { toOverlay, toPhone }
  }

  private restore(s: Snapshot): void {
    this.phoneDir = s.phoneDir
    this.overlayDir = s.overlayDir
    this.phoneOffered = s.phoneOffered
    this.overlay.description = s.overlayLocal
    this.phone.setTarget(s.target)
  }
}
