/**
 * How an app learns that the far end's media is anchored at a node (issue 12
 * §3): the node's media anchor adds this session-level attribute (RFC 4566
 * §5.13: unknown attributes are ignored by everyone else) to the WebRTC SDP it
 * sends across the overlay. Its value says where the encryption ends: `phone`
 * means DTLS-SRTP ends at the far user's node, and plain RTP goes from there to
 * a SIP phone on that node's machine.
 */
export const MEDIA_ANCHOR_ATTRIBUTE = 'x-kaiwa-anchor'

export type MediaAnchorKind = 'phone'

/** The anchor kind an SDP body declares, if any. */
export function mediaAnchorOf(sdp: string): MediaAnchorKind | undefined {
  const m = /^a=x-kaiwa-anchor:(\S+)\s*$/m.exec(sdp)
  return m?.[1] === 'phone' ? 'phone' : undefined
}
