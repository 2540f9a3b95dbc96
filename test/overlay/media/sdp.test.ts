import { describe, expect, it } from 'vitest'
import {
  codecsOf,
  describeCodecs,
  intersect,
  payloadMap,
  relayableAudio,
} from '../../../src/overlay/media/codecs.js'
import {
  SdpParseError,
  bumpVersion,
  connectionOf,
  directionOf,
  isWebRtcSdp,
  parseSdp,
  serializeSdp,
  setDirection,
} from '../../../src/overlay/media/sdp.js'

/** What a stock phone (baresip-like) offers: static and dynamic payload types, session-level c=. */
const PHONE = [
  'v=0',
  'o=- 1234 5678 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 96 0 8 18 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  'm=video 0 RTP/AVP 97',
  '',
].join('\r\n')

describe('SDP model', () => {
  it('round-trips every line, in order, with CRLF', () => {
    expect(serializeSdp(parseSdp(PHONE))).toBe(PHONE)
    expect(serializeSdp(parseSdp(PHONE.replace(/\r\n/g, '\n')))).toBe(PHONE)
  })

  it('reads m= lines, c= (session level inherited) and direction', () => {
    const sdp = parseSdp(PHONE)
    expect(sdp.media.map((m) => [m.media, m.port, m.proto])).toEqual([
      ['audio', 4000, 'RTP/AVP'],
      ['video', 0, 'RTP/AVP'],
    ])
    expect(connectionOf(sdp, sdp.media[0]!)).toEqual({ family: 'IP4', address: '127.0.0.1' })
    expect(directionOf(sdp, sdp.media[0]!)).toBe('sendrecv')
    expect(directionOf(sdp, sdp.media[1]!)).toBe('sendrecv')
  })

  it('sets one media-level direction, dropping session-level ones', () => {
    const sdp = parseSdp(PHONE.replace('t=0 0', 't=0 0\r\na=sendonly'))
    expect(directionOf(sdp, sdp.media[0]!)).toBe('sendrecv')
    expect(directionOf(sdp, sdp.media[1]!)).toBe('sendonly')
    setDirection(sdp, sdp.media[0]!, 'inactive')
    const text = serializeSdp(sdp)
    expect(text.match(/a=(sendrecv|sendonly|recvonly|inactive)/g)).toEqual(['a=inactive'])
  })

  it('bumps the o= version (RFC 3264 §8)', () => {
    const sdp = parseSdp(PHONE)
    bumpVersion(sdp, 5679)
    expect(serializeSdp(sdp)).toMatch(/^o=- 1234 5679 IN IP4 127\.0\.0\.1\r$/m)
  })

  it('rejects what is not SDP with SdpParseError', () => {
    expect(() => parseSdp('hello')).toThrow(SdpParseError)
    expect(() => parseSdp('v=0\r\nm=audio x RTP/AVP 0\r\n')).toThrow(/malformed m= line/)
    expect(() => parseSdp('v=0\r\nnot a line\r\n')).toThrow(/malformed SDP line/)
    expect(() => parseSdp('v=0\r\nc=IN IP4\r\nm=audio 1 RTP/AVP 0\r\n')).not.toThrow()
    const bad = parseSdp('v=0\r\nc=garbage\r\nm=audio 1 RTP/AVP 0\r\n')
    expect(() => connectionOf(bad, bad.media[0]!)).toThrow(/malformed c= line/)
    expect(() => parseSdp('v=0\r\n' + 'a=x\r\n'.repeat(20_000))).toThrow(/larger than/)
  })

  it('knows a WebRTC body by its ICE credentials and fingerprint', () => {
    expect(isWebRtcSdp(parseSdp(PHONE))).toBe(false)
    const webrtc = PHONE.replace(
      'a=ptime:20',
      'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 AA',
    )
    expect(isWebRtcSdp(parseSdp(webrtc))).toBe(true)
    expect(isWebRtcSdp(parseSdp(PHONE.replace('a=ptime:20', 'a=ice-ufrag:abcd')))).toBe(false)
  })
})

describe('codecs', () => {
  it('lists codecs in preference order, static ones without rtpmap (RFC 3551 §6)', () => {
    const codecs = codecsOf(parseSdp(PHONE).media[0]!)
    expect(describeCodecs(codecs)).toBe(
      'opus/48000/2, PCMU/8000, PCMA/8000, G729/8000, telephone-event/8000',
    )
    expect(codecs[0]).toMatchObject({ pt: 96, fmtp: 'stereo=1;sprop-stereo=1' })
    expect(describeCodecs(relayableAudio(codecs))).toBe('opus/48000/2, PCMU/8000, PCMA/8000')
  })

  it('intersects by identity with the offer numbering, events only at a kept clock', () => {
    const phone = codecsOf(parseSdp(PHONE).media[0]!)
    const chromium = codecsOf(
      parseSdp(
        'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 126 110\r\na=rtpmap:111 opus/48000/2\r\n' +
          'a=rtpmap:126 telephone-event/8000\r\na=rtpmap:110 telephone-event/48000\r\n',
      ).media[0]!,
    )
    expect(intersect(phone, chromium).map((c) => c.pt)).toEqual([96, 0, 101])
    // Only Opus in common: the 8 kHz events have no audio to share a clock with.
    expect(
      intersect(
        phone,
        chromium.filter((c) => c.pt !== 0),
      ).map((c) => c.pt),
    ).toEqual([96])
    expect(Object.fromEntries(payloadMap(phone, chromium))).toEqual({ 96: 111, 0: 0, 101: 126 })
  })
})
