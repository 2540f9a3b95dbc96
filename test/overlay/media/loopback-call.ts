/**
 * A phone-to-phone call across two media anchors on loopback, as two nodes
 * would run it (anchor-loopback.test.ts): anchor A turns phone A's RTP/AVP
 * offer into WebRTC, anchor B turns it back for phone B, and the answers go
 * the other way.
 */
import { expect } from 'vitest'
import type { MediaAnchor } from '../../../src/overlay/media/media-anchor.js'
import { audioOf, overlayHop } from './rtp-phone.js'
import type { RtpPhone } from './rtp-phone.js'

/** An anchor's options binding 127.0.0.1, with ICE and RTP ports from `base` to `base + 399`. */
export const loopback = (base: number) => ({
  bindAddress: '127.0.0.1',
  icePortRange: [base, base + 199] as const,
  rtpPortRange: [base + 200, base + 399] as const,
})

/**
 * Phone A (at anchor A) calls phone B (at anchor B) with PCMU, PCMA and
 * telephone-event, checking each SDP on the way; returns the ports each phone
 * sends its RTP to.
 */
export async function callAcross(
  a: MediaAnchor,
  b: MediaAnchor,
  phoneA: RtpPhone,
  phoneB: RtpPhone,
): Promise<{ toA: number; toB: number }> {
  // Phone A: PCMU, PCMA and telephone-event at 96.
  const offerA = phoneA.sdp({
    formats: '0 8 96',
    rtpmaps: ['rtpmap:96 telephone-event/8000', 'fmtp:96 0-16'],
  })
  const webrtcOffer = await a.cross({
    callId: 'ca',
    kind: 'offer',
    direction: 'phone-to-overlay',
    sdp: offerA,
  })
  expect(webrtcOffer).toMatch(/^a=x-kaiwa-anchor:phone\r$/m)
  // G.711 first, then Opus (and 48 kHz events) that the anchor would transcode to.
  expect(webrtcOffer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 111 96 110\r$/m)
  expect(webrtcOffer).toMatch(/^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m)
  expect(webrtcOffer).toMatch(/^a=fingerprint:sha-256 /m)

  const offerB = await b.cross({
    callId: 'cb',
    kind: 'offer',
    direction: 'overlay-to-phone',
    sdp: webrtcOffer,
  })
  expect(offerB).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m)
  expect(offerB).not.toMatch(/ice-ufrag|fingerprint|x-kaiwa-anchor/)
  expect(audioOf(offerB).formats).toEqual([0, 8, 111, 96, 110])
  // Phone B picks PCMU and numbers telephone-event 97 (RFC 3264 §6.1 lets it).
  const answerB = phoneB.sdp({
    formats: '0 97',
    rtpmaps: ['rtpmap:97 telephone-event/8000', 'fmtp:97 0-16'],
  })
  const webrtcAnswer = await b.cross({
    callId: 'cb',
    kind: 'answer',
    direction: 'phone-to-overlay',
    sdp: answerB,
  })
  expect(webrtcAnswer).toMatch(/^a=x-kaiwa-anchor:phone\r$/m)
  expect(webrtcAnswer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 96\r$/m)

  await overlayHop()
  const answerA = await a.cross({
    callId: 'ca',
    kind: 'answer',
    direction: 'overlay-to-phone',
    sdp: webrtcAnswer,
  })
  expect(answerA).toMatch(/^m=audio \d+ RTP\/AVP 0 96\r$/m)
  expect(answerA).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m)
  // A 2xx repeating a 18x's answer (no 100rel, RFC 3261 §13.2.1) gets the same translation.
  const again = { kind: 'answer', sdp: answerB } as const
  expect(await b.cross({ callId: 'cb', direction: 'phone-to-overlay', ...again })).toBe(
    webrtcAnswer,
  )
  expect(
    await a.cross({
      callId: 'ca',
      kind: 'answer',
      direction: 'overlay-to-phone',
      sdp: webrtcAnswer,
    }),
  ).toBe(answerA)
  return { toA: audioOf(answerA).port, toB: audioOf(offerB).port }
}

/**
 * Phone A's PCMU offer through anchor A to the overlay and into anchor B for
 * phone B, and phone B's PCMU answer back out of anchor B: the WebRTC offer
 * and answer between the anchors. Anchor A has not been given the answer.
 */
export async function pcmuAcross(
  a: MediaAnchor,
  b: MediaAnchor,
  phoneA: RtpPhone,
  phoneB: RtpPhone,
  ids: { a: string; b: string },
): Promise<{ offer: string; answer: string }> {
  const offer = await a.cross({
    callId: ids.a,
    kind: 'offer',
    direction: 'phone-to-overlay',
    sdp: phoneA.sdp({ formats: '0' }),
  })
  await b.cross({ callId: ids.b, kind: 'offer', direction: 'overlay-to-phone', sdp: offer })
  const answer = await b.cross({
    callId: ids.b,
    kind: 'answer',
    direction: 'phone-to-overlay',
    sdp: phoneB.sdp({ formats: '0' }),
  })
  return { offer, answer }
}
