/**
 * Our side of the WebRTC leg across offer/answer exchanges: the peer
 * connection (created by the first exchange), the description we last sent,
 * our settled DTLS role and the far end's ICE credentials.
 *
 * libdatachannel cannot restart ICE nor change a track's direction once it is
 * added, so every later exchange reuses the first description: same ICE
 * credentials, candidates and fingerprint, with the new direction, the
 * negotiated payload types, our settled DTLS role (RFC 8842 §5.5: the far end
 * keeps the existing association) and a higher o= version (RFC 3264 §8).
 * The relay enforces the direction. A far end that restarts ICE is refused.
 */
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Codec } from './codecs.js'
import type { MediaDirection, Sdp, SdpMedia } from './sdp.js'
import { attribute, mediaAttribute } from './sdp.js'
import { overlaySdp, parseOrReject } from './sdp-translate.js'
import type { WebRtcLegInit } from './webrtc-leg.js'
import { WebRtcLeg } from './webrtc-leg.js'

export class OverlaySide {
  private leg: WebRtcLeg | undefined
  private local: Sdp | undefined
  private dtlsRole: 'active' | 'passive' | undefined
  private remoteUfrag: string | undefined
  private version = 0
  private closed = false

  constructor(
    private readonly legInit: WebRtcLegInit,
    private readonly ssrc: number,
    private readonly cname: string,
  ) {}

  /** True once the peer connection exists (the first exchange has started). */
  get established(): boolean {
    return this.leg != null
  }

  get connectionState(): string {
    return this.leg?.connectionState ?? 'none'
  }

  /** The description we last sent; restored when an offer of ours goes unanswered. */
  get description(): Sdp | undefined {
    return this.local
  }

  set description(sdp: Sdp | undefined) {
    this.local = sdp
  }

  send(packet: Buffer): boolean {
    return this.leg?.send(packet) ?? false
  }

  /**
   * The first offer: a new peer connection and its full description, in
   * which we take the DTLS client role (a=setup:active) instead of
   * libdatachannel's actpass.
   *
   * Why: with actpass a libdatachannel answerer (another node's anchor)
   * picks active (RFC 5763 §5 recommends it) and sends its ClientHello as
   * soon as its ICE checks succeed, which they do (RFC 8445 §7.3: we answer
   * checks before we know its credentials) while its answer is still crossing
   * SIP to us. We have no DTLS transport until we apply that answer, so the
   * ClientHello is lost and only its retransmission one second later
   * connects: audio and the RFC 4733 digits a phone sends at once are lost,
   * and on one host the answer can race the handshake ("certificate verify
   * failed"). As the client we start the handshake after we have the answer,
   * when the answerer has long been listening. RFC 8842 §5.2 asks an offerer
   * for actpass; every answerer (libdatachannel, browsers) accepts active and
   * takes passive, which RFC 5763 §5 allows it.
   */
  async offer(direction: MediaDirection, codecs: readonly Codec[]): Promise<Sdp> {
    const { leg, sdp } = await WebRtcLeg.offer(this.legInit, this.spec('0', direction, codecs))
    this.adopt(leg)
    this.local = overlaySdp(parseOrReject(sdp, 'our WebRTC'), { direction, setup: 'active' })
    return this.local
  }

  /** The first answer, to the far end's offer `text` (parsed as `offer`, audio at `media`). */
  async answer(
    text: string,
    offer: Sdp,
    media: SdpMedia,
    direction: MediaDirection,
    codecs: readonly Codec[],
  ): Promise<Sdp> {
    const mid = attribute(media.lines, 'mid')
    if (mid == null) {
      throw new MediaNegotiationError(
        'far end offer has no a=mid for its audio (RFC 8843 needs one)',
      )
    }
    const { leg, sdp } = await WebRtcLeg.answer(
      this.legInit,
      this.spec(mid, direction, codecs),
      text,
    )
    this.adopt(leg)
    this.remoteUfrag = mediaAttribute(offer, media, 'ice-ufrag')
    this.local = overlaySdp(parseOrReject(sdp, 'our WebRTC'), { direction })
    const setup = this.local.media.map((m) => attribute(m.lines, 'setup')).find((s) => s != null)
    this.dtlsRole = setup === 'passive' ? 'passive' : 'active'
    return this.local
  }

  /**
   * A later offer or answer: our first description with a new direction and
   * payload types; an answer (`answering`: the far end's re-offer) rejects
   * any m= section the re-offer added (its camera, say).
   */
  again(direction: MediaDirection, payloadTypes: readonly number[], answering?: Sdp): Sdp {
    if (this.local == null) throw new MediaNegotiationError('no WebRTC description to renegotiate')
    this.local = overlaySdp(this.local, {
      direction,
      payloadTypes,
      version: ++this.version,
      ...(this.dtlsRole != null ? { setup: this.dtlsRole } : {}),
      ...(answering != null ? { answering } : {}),
    })
    return this.local
  }

  /** The far end's answer to our offer: applied the first time, checked afterwards. */
  acceptAnswer(text: string, answer: Sdp, media: SdpMedia): void {
    const ufrag = mediaAttribute(answer, media, 'ice-ufrag')
    if (this.remoteUfrag != null) {
      this.checkUfrag(ufrag)
      return
    }
    if (mediaAttribute(answer, media, 'setup') === 'active') {
      throw new MediaNegotiationError(
        'the far end answered a=setup:active to our a=setup:active (RFC 4145 §4.1)',
      )
    }
    this.leg!.acceptAnswer(text)
    this.remoteUfrag = ufrag
    this.dtlsRole = 'active'
  }

  /** A far-end re-offer must keep its ICE credentials (no ICE restart, RFC 8839 §4.4.1.1.1). */
  checkUfrag(ufrag: string | undefined): void {
    if (this.remoteUfrag != null && ufrag !== this.remoteUfrag) {
      throw new MediaNegotiationError(
        'the far end restarted ICE, which the media anchor cannot follow',
      )
    }
  }

  /** Resolves once the WebRTC leg is connected, failed or closed, or after `timeoutMs`. */
  connected(timeoutMs: number): Promise<void> {
    return this.leg?.connected(timeoutMs) ?? Promise.resolve()
  }

  close(): void {
    this.closed = true
    this.leg?.close()
  }

  private spec(mid: string, direction: MediaDirection, codecs: readonly Codec[]) {
    return { mid, direction, codecs, ssrc: this.ssrc, cname: this.cname }
  }

  /** Keep a leg built while we awaited gathering, unless the call ended meanwhile. */
  private adopt(leg: WebRtcLeg): void {
    if (this.closed) {
      leg.close()
      throw new MediaNegotiationError('the call ended during media negotiation')
    }
    this.leg = leg
  }
}
