/**
 * An anchored call whose WebRTC leg fails while it is set up is refused, not
 * connected in silence. Anchor A takes phone A's offer to the overlay, anchor
 * B answers it for phone B (real libdatachannel on 127.0.0.1, as in
 * anchor-loopback.test.ts); B's answer reaches A with another certificate's
 * fingerprint, so A's DTLS handshake fails its certificate check (RFC 5763
 * §5), as it does in the libdatachannel race the anchor meets now and then
 * with Chromium. A then answers the gateway with a MediaPathError (a 488
 * naming the media path for the phone) and frees the call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MediaAnchor } from '../../../src/overlay/media/media-anchor.js'
import { MediaPathError } from '../../../src/overlay/sip/gateway/gateway-media.js'
import { RtpPhone, overlayHop } from './rtp-phone.js'
import { loopback } from './loopback-call.js'

describe('an anchored call whose WebRTC leg fails', () => {
  let a: MediaAnchor
  let b: MediaAnchor
  let phoneA: RtpPhone
  let phoneB: RtpPhone

  beforeEach(async () => {
    a = new MediaAnchor(loopback(46000))
    b = new MediaAnchor(loopback(46400))
    phoneA = await RtpPhone.open(0x3333)
    phoneB = await RtpPhone.open(0x4444)
  })

  afterEach(async () => {
    await a.close()
    await b.close()
    phoneA.close()
    phoneB.close()
  })

  it(
    'is refused with a MediaPathError and freed, not answered to the phone',
    { timeout: 30_000 },
    async () => {
      const offer = await a.cross({
        callId: 'fa',
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: phoneA.sdp({ formats: '0' }),
      })
      await b.cross({ callId: 'fb', kind: 'offer', direction: 'overlay-to-phone', sdp: offer })
      const answer = await b.cross({
        callId: 'fb',
        kind: 'answer',
        direction: 'phone-to-overlay',
        sdp: phoneB.sdp({ formats: '0' }),
      })
      // Another certificate's fingerprint: every byte of B's flipped.
      const forged = answer.replace(
        /^a=fingerprint:sha-256 (\S+)\r$/m,
        (_l, fp: string) =>
          `a=fingerprint:sha-256 ${fp
            .split(':')
            .map((x) => (0xff ^ parseInt(x, 16)).toString(16).padStart(2, '0').toUpperCase())
            .join(':')}\r`,
      )
      expect(forged).not.toBe(answer)
      await overlayHop()
      const crossing = a.cross({
        callId: 'fa',
        kind: 'answer',
        direction: 'overlay-to-phone',
        sdp: forged,
      })
      await expect(crossing).rejects.toBeInstanceOf(MediaPathError)
      await expect(crossing).rejects.toThrow(/WebRTC media path .* failed/)
      expect(a.size).toBe(0)
      expect(a.stats('fa')).toBeUndefined()
    },
  )
})
