/**
 * DTMF in a call: RFC 4733 telephone-events through the RTP sender when the
 * other side negotiated them, else SIP INFO with application/dtmf-relay (what
 * desk phones and IVRs behind gateways understand).
 */
import type { Session } from 'sip.js'

const DTMF_TONES = /^[0-9A-D#*,]+$/i

export async function sendDtmf(
  session: Session,
  pc: RTCPeerConnection | undefined,
  tones: string,
): Promise<'rtp' | 'info'> {
  if (!DTMF_TONES.test(tones)) throw new Error(`not DTMF tones: ${tones}`)
  const sender = pc?.getSenders().find((s) => s.track?.kind === 'audio')
  // canInsertDTMF is false when the other side did not offer telephone-event.
  if (sender?.dtmf?.canInsertDTMF) {
    sender.dtmf.insertDTMF(tones, 100, 70)
    return 'rtp'
  }
  for (const tone of tones.replace(/,/g, '')) {
    await session.info({
      requestOptions: {
        body: {
          contentDisposition: 'render',
          contentType: 'application/dtmf-relay',
          content: `Signal=${tone}\r\nDuration=100`,
        },
      },
    })
  }
  return 'info'
}
