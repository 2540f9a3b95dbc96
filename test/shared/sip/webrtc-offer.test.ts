/** Which SDP offers a browser can answer, and the Reason text for those it cannot. */
import { describe, expect, it } from 'vitest'
import { webrtcOfferProblem } from '../../../src/shared/sip/webrtc-offer.js'

const head = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0']
const sdp = (...lines: string[]): string => [...head, ...lines, ''].join('\r\n')

/** What baresip or a desk phone sends: plain RTP/AVP, G.711 by static payload type. */
const PHONE = sdp(
  'c=IN IP4 192.168.1.20',
  'm=audio 4000 RTP/AVP 0 8 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
)
const WEBRTC = sdp(
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 126',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AB:CD',
  'a=setup:actpass',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:126 telephone-event/8000',
)

describe('WebRTC offer check', () => {
  it('takes a browser offer, and a missing offer (ours goes in the 200)', () => {
    expect(webrtcOfferProblem(WEBRTC)).toBeUndefined()
    expect(webrtcOfferProblem(WEBRTC.replace(/\r\n/g, '\n'))).toBeUndefined()
    expect(webrtcOfferProblem(undefined)).toBeUndefined()
    expect(webrtcOfferProblem('')).toBeUndefined()
  })

  it('refuses a stock phone plain RTP/AVP offer as not encrypted', () => {
    expect(webrtcOfferProblem(PHONE)).toEqual({
      kind: 'not-encrypted',
      text: 'not a WebRTC offer: no DTLS-SRTP fingerprint (plain RTP/AVP); this app only takes encrypted WebRTC audio',
    })
    const sdes = PHONE.replace('RTP/AVP', 'RTP/SAVP').replace(
      'a=sendrecv',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc',
    )
    expect(webrtcOfferProblem(sdes)?.text).toContain('SDES (a=crypto)')
  })

  it('accepts a session-level fingerprint, refuses missing ICE credentials', () => {
    const session = WEBRTC.replace('a=fingerprint:sha-256 AB:CD\r\n', '').replace(
      't=0 0',
      't=0 0\r\na=fingerprint:sha-256 AB:CD',
    )
    expect(webrtcOfferProblem(session)).toBeUndefined()
    expect(webrtcOfferProblem(WEBRTC.replace(/a=ice-pwd:.*\r\n/, ''))?.kind).toBe('no-ice')
  })

  it('refuses offers without a live audio stream or without a codec a browser decodes', () => {
    expect(webrtcOfferProblem(WEBRTC.replace('m=audio 9', 'm=audio 0'))?.kind).toBe('no-audio')
    expect(webrtcOfferProblem(sdp('m=video 9 UDP/TLS/RTP/SAVPF 96'))?.kind).toBe('no-audio')
    const g729 = WEBRTC.replace('111 0 126', '18 126').replace(
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:18 G729/8000',
    )
    expect(webrtcOfferProblem(g729)).toEqual({
      kind: 'no-common-codec',
      text: 'no common audio codec: offered g729; this app takes Opus, G.711 (PCMU/PCMA) or G.722',
    })
    // Static payload type 9 is G.722, which Chromium decodes.
    expect(webrtcOfferProblem(WEBRTC.replace('111 0 126', '9'))).toBeUndefined()
  })
})
