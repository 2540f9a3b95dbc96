/**
 * The gateway's media seam (issue 12 §3): the node is a B2BUA for media.
 *
 * A stock SIP phone speaks plain RTP/AVP with a c= line that only makes sense
 * on its own machine; everything that crosses the overlay speaks WebRTC
 * (ICE with supernode STUN/TURN, DTLS-SRTP). The gateway hands every SDP body
 * that crosses between a registered phone and the overlay, in either
 * direction, to a `GatewayMedia`, and forwards the body it returns.
 *
 * The gateway classifies each body by the RFC 3264 offer/answer rules it sees
 * in the dialog: the body of an INVITE (or re-INVITE, UPDATE) is an offer; the
 * body of a reliable or provisional response to a request that carried an
 * offer is the answer; a 2xx body to an INVITE without one is an offer, and
 * the ACK's body is then the answer.
 */

/** Which way a body crosses the gateway. */
export type SdpDirection = 'phone-to-overlay' | 'overlay-to-phone'

export interface SdpCrossing {
  /** The dialog's Call-ID: one anchored call per Call-ID. */
  callId: string
  /** RFC 3264 role of this body. */
  kind: 'offer' | 'answer'
  direction: SdpDirection
  sdp: string
}

export interface GatewayMedia {
  /**
   * The body to forward in place of `crossing.sdp`. Throws
   * `MediaNegotiationError` when the two sides share no codec: the gateway
   * then answers 488 with its Reason (RFC 3326).
   */
  cross(crossing: SdpCrossing): Promise<string>
  /** The dialog ended (BYE, CANCEL, a final error, or its timeout): free its sockets. */
  end(callId: string): void
  /**
   * Who ends a dialog whose media the anchor freed on its own (no packet for
   * its idle timeout): `reason` is an RFC 3326 Reason value for the BYEs.
   */
  whenIdle?(listener: (callId: string, reason: string) => void): void
  close(): Promise<void>
}

/** No common codec, or an SDP the anchor cannot use: 488 Not Acceptable Here. */
export class MediaNegotiationError extends Error {
  /** `reasonText` goes in `Reason: SIP ;cause=488 ;text="…"` (RFC 3326). */
  constructor(readonly reasonText: string) {
    super(reasonText)
    this.name = 'MediaNegotiationError'
  }
}

/**
 * The media path itself failed while the call was being set up (the anchor's
 * WebRTC leg: ICE, or the DTLS handshake's certificate check): the call is
 * refused and its media freed, instead of connecting in silence.
 */
export class MediaPathError extends MediaNegotiationError {
  constructor(reasonText: string) {
    super(reasonText)
    this.name = 'MediaPathError'
  }
}

/** The gateway without an anchor: bodies cross untouched. */
export const PASSTHROUGH_MEDIA: GatewayMedia = {
  cross: (crossing) => Promise.resolve(crossing.sdp),
  end: () => undefined,
  close: () => Promise.resolve(),
}
