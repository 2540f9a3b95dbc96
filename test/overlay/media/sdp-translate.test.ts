import { networkInterfaces } from 'node:os'
import { describe, expect, it } from 'vitest'
import { mediaAnchorOf } from '../../../src/shared/sip/media-anchor.js'
import { MediaNegotiationError } from '../../../src/overlay/sip/gateway/gateway-media.js'
import { phoneTarget } from '../../../src/overlay/media/phone-leg.js'
import { parseSdp, serializeSdp } from '../../../src/overlay/media/sdp.js'
import {
  audioIndex,
  overlaySdp,
  parseOrReject,
  phoneSdp,
} from '../../../src/overlay/media/sdp-translate.js'
import { toLibdatachannel } from '../../../src/overlay/media/ice-servers.js'

/** The shape of libdatachannel's local offer (see webrtc-leg.ts). */
const LOCAL = [
  'v=0',
  'o=rtc 1530464473 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=fingerprint:sha-256 EF:B5',
  'm=audio 33071 UDP/TLS/RTP/SAVPF 111 0 101',
  'c=IN IP4 127.0.0.1',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10',
  'a=rtcp-fb:111 nack',
  'a=setup:actpass',
  'a=ice-ufrag:A+cc',
  'a=ice-pwd:7pvRXlinfosXKI4TN2NPaM',
  'a=candidate:1 1 UDP 2114977791 127.0.0.1 33071 typ host',
  'a=end-of-candidates',
  '',
].join('\r\n')

const phoneOffer = (c: string, port = 4000): string =>
  `v=0\r\no=- 1 1 IN IP4 ${c}\r\ns=-\r\nc=IN IP4 ${c}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 101\r\n` +
  'a=rtpmap:101 telephone-event/8000\r\nm=video 5000 RTP/AVP 31\r\n'

describe('SDP translation', () => {
  it('marks our WebRTC SDP as anchored and writes our direction', () => {
    const out = serializeSdp(overlaySdp(parseSdp(LOCAL), { direction: 'sendonly' }))
    expect(mediaAnchorOf(out)).toBe('phone')
    expect(out.match(/^a=x-kaiwa-anchor/gm)).toHaveLength(1)
    expect(out).toMatch(/^a=sendonly\r$/m)
    expect(out).not.toMatch(/^a=sendrecv/m)
    // Marking twice (a re-offer from a kept description) does not repeat it.
    const again = serializeSdp(overlaySdp(parseSdp(out), { direction: 'sendrecv' }))
    expect(again.match(/^a=x-kaiwa-anchor/gm)).toHaveLength(1)
  })

  it('re-offers only the negotiated payload types, a settled DTLS role and a new version', () => {
    const out = serializeSdp(
      overlaySdp(parseSdp(LOCAL), {
        direction: 'inactive',
        payloadTypes: [0, 101],
        version: 1,
        setup: 'passive',
      }),
    )
    expect(out).toMatch(/^m=audio 33071 UDP\/TLS\/RTP\/SAVPF 0 101\r$/m)
    expect(out).not.toMatch(/opus|:111 /)
    expect(out).toMatch(/^a=setup:passive\r$/m)
    expect(out).toMatch(/^o=rtc 1530464473 1 /m)
    expect(out).toMatch(/^a=candidate:/m)
  })

  it('answers a phone with every m= line, rejecting all but the anchored audio (RFC 3264 §6)', () => {
    const offer = parseSdp(phoneOffer('127.0.0.1'))
    const out = phoneSdp({
      sessionId: '77',
      version: 3,
      port: 39123,
      codecs: [
        { pt: 0, name: 'PCMU', clock: 8000, channels: 1 },
        { pt: 101, name: 'telephone-event', clock: 8000, channels: 1, fmtp: '0-16' },
      ],
      direction: 'recvonly',
      answering: { offer, audio: 0 },
    })
    expect(out).toBe(
      'v=0\r\no=kaiwa 77 3 IN IP4 127.0.0.1\r\ns=kaiwa\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
        'm=audio 39123 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n' +
        'a=fmtp:101 0-16\r\na=recvonly\r\nm=video 0 RTP/AVP 31\r\n',
    )
  })

  it('sends RTP only to this machine (loopback or its own addresses); 0.0.0.0 is hold (RFC 3264 §8.4)', () => {
    const target = (c: string, port?: number) => {
      const sdp = parseSdp(phoneOffer(c, port))
      return phoneTarget(sdp, sdp.media[0]!)
    }
    expect(target('127.0.0.1')).toEqual({ address: '127.0.0.1', port: 4000 })
    expect(target('127.0.1.5')).toEqual({ address: '127.0.1.5', port: 4000 })
    expect(target('0.0.0.0')).toBeUndefined()
    // A phone on this machine that names its LAN address (Linphone does).
    const own = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .find((a) => a.family === 'IPv4' && !a.internal)
    if (own != null) expect(target(own.address)).toEqual({ address: own.address, port: 4000 })
    expect(() => target('192.0.2.9')).toThrow(MediaNegotiationError)
    expect(() => target('192.0.2.9')).toThrow(/192\.0\.2\.9 is not on this machine/)
    expect(() => target('example.com')).toThrow(/not on this machine/)
    const v6 = parseSdp(phoneOffer('127.0.0.1').replace(/IN IP4 127\.0\.0\.1/g, 'IN IP6 ::1'))
    expect(() => phoneTarget(v6, v6.media[0]!)).toThrow(/IPv4 loopback/)
  })

  it('refuses unreadable bodies and bodies without audio as 488 material', () => {
    expect(() => parseOrReject('garbage', 'phone')).toThrow(MediaNegotiationError)
    expect(() => audioIndex(parseSdp('v=0\r\nm=audio 0 RTP/AVP 0\r\n'), 'phone')).toThrow(
      /no audio stream/,
    )
  })
})

describe('ICE servers for libdatachannel', () => {
  it('turns W3C RTCIceServer entries into structured servers (REST usernames keep their colon)', () => {
    expect(
      toLibdatachannel([
        { urls: ['stun:198.51.100.7:3478'] },
        {
          urls: [
            'turn:198.51.100.7:3478?transport=udp',
            'turn:198.51.100.7?transport=tcp',
            'turns:[2001:db8::1]:5349',
          ],
          username: '1700000000:12D3KooW',
          credential: 'pw',
        },
        { urls: 'turn:198.51.100.8' },
        { urls: 'https://example.com' },
      ]),
    ).toEqual([
      { hostname: '198.51.100.7', port: 3478 },
      {
        hostname: '198.51.100.7',
        port: 3478,
        username: '1700000000:12D3KooW',
        password: 'pw',
        relayType: 'TurnUdp',
      },
      {
        hostname: '198.51.100.7',
        port: 3478,
        username: '1700000000:12D3KooW',
        password: 'pw',
        relayType: 'TurnTcp',
      },
      {
        hostname: '2001:db8::1',
        port: 5349,
        username: '1700000000:12D3KooW',
        password: 'pw',
        relayType: 'TurnTls',
      },
    ])
  })
})
