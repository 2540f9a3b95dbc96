/**
 * MediaAnchor's rules and limits: pass-through of phones that already speak
 * WebRTC, 488 reasons, the call limit, and the setup and idle timeouts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MediaNegotiationError } from '../../../src/overlay/sip/gateway/gateway-media.js'
import { MediaAnchor, MediaAnchorFullError } from '../../../src/overlay/media/media-anchor.js'
import type { MediaAnchorOptions } from '../../../src/overlay/media/media-anchor.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import { RtpPhone, overlayHop, waitFor } from './rtp-phone.js'
import { pcmuAcross } from './loopback-call.js'

const anchors: MediaAnchor[] = []
const phones: RtpPhone[] = []

function anchor(opts: MediaAnchorOptions = {}): MediaAnchor {
  const a = new MediaAnchor({ bindAddress: '127.0.0.1', icePortRange: [39600, 39799], ...opts })
  anchors.push(a)
  return a
}

async function phone(): Promise<RtpPhone> {
  const p = await RtpPhone.open(0x1234)
  phones.push(p)
  return p
}

afterEach(async () => {
  for (const a of anchors.splice(0)) await a.close()
  for (const p of phones.splice(0)) p.close()
})

const WEBRTC_PHONE = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 127.0.0.1',
  'a=rtpmap:111 opus/48000/2',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901',
  'a=fingerprint:sha-256 AA:BB',
  '',
].join('\r\n')

describe('MediaAnchor', () => {
  it('passes a phone that already speaks ICE and DTLS-SRTP through, end to end', async () => {
    const a = anchor()
    const offer = await a.cross({
      callId: 'w',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: WEBRTC_PHONE,
    })
    expect(offer).toBe(WEBRTC_PHONE)
    const answer = await a.cross({
      callId: 'w',
      kind: 'answer',
      direction: 'overlay-to-phone',
      sdp: 'v=0\r\nx',
    })
    expect(answer).toBe('v=0\r\nx')
    expect(a.size).toBe(0)
  })

  it('refuses media off loopback and frees the call', async () => {
    const a = anchor()
    const p = await phone()
    const err = await a
      .cross({
        callId: 'x',
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: p.sdp({ formats: '0', address: '192.0.2.7' }),
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MediaNegotiationError)
    expect((err as MediaNegotiationError).reasonText).toMatch(/192\.0\.2\.7 is not on this machine/)
    expect(a.size).toBe(0)
  })

  it('names both sides when there is no common codec', async () => {
    const a = anchor()
    const p = await phone()
    await expect(
      a.cross({
        callId: 'g',
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: p.sdp({ formats: '18' }),
      }),
    ).rejects.toThrow(
      'no common codec: phone offers G729/8000, far end offers opus/48000/2, PCMU/8000, PCMA/8000',
    )

    const offer = await a.cross({
      callId: 'h',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: p.sdp({ formats: '0' }),
    })
    const rejected = offer.replace(/^m=audio \d+ (\S+) .*$/m, 'm=audio 0 $1 0')
    await expect(
      a.cross({ callId: 'h', kind: 'answer', direction: 'overlay-to-phone', sdp: rejected }),
    ).rejects.toThrow('no common codec: phone offers PCMU/8000, far end offers none')
    // The first exchange failed: the dialog never starts, so its sockets are freed now.
    expect(a.size).toBe(0)

    await expect(
      a.cross({
        callId: 'o',
        kind: 'offer',
        direction: 'overlay-to-phone',
        sdp: p.sdp({ formats: '0' }),
      }),
    ).rejects.toThrow(/not WebRTC/)
  })

  it('refuses answers without an offer and a second offer before the answer (RFC 3264 §4)', async () => {
    const a = anchor()
    const p = await phone()
    await expect(
      a.cross({ callId: 'n', kind: 'answer', direction: 'overlay-to-phone', sdp: WEBRTC_PHONE }),
    ).rejects.toThrow(/no offer/)
    await a.cross({
      callId: 'n',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: p.sdp({ formats: '0' }),
    })
    await expect(
      a.cross({
        callId: 'n',
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: p.sdp({ formats: '0' }),
      }),
    ).rejects.toThrow(/already waiting/)
    await expect(
      a.cross({
        callId: 'n',
        kind: 'answer',
        direction: 'phone-to-overlay',
        sdp: p.sdp({ formats: '0' }),
      }),
    ).rejects.toThrow(/without our offer/)
  })

  it('holds at most maxCalls anchored calls', async () => {
    const a = anchor({ maxCalls: 1 })
    const p = await phone()
    const offer = (callId: string) =>
      a.cross({
        callId,
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: p.sdp({ formats: '0' }),
      })
    await offer('one')
    const err = await offer('two').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MediaAnchorFullError)
    expect(err).toBeInstanceOf(MediaNegotiationError)
    a.end('one')
    await expect(offer('two')).resolves.toMatch(/^v=0/)
  })

  it('frees a call whose offer is never answered', async () => {
    const freed: string[] = []
    const a = anchor({ setupTimeoutMs: 200, onIdle: (id, why) => freed.push(`${id}:${why}`) })
    // The gateway's listener gets an RFC 3326 Reason for the BYEs that end the dialog.
    const reasons: string[] = []
    a.whenIdle((id, reason) => reasons.push(`${id}:${reason}`))
    const p = await phone()
    await a.cross({
      callId: 's',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: p.sdp({ formats: '0' }),
    })
    await waitFor(() => freed.length > 0, 3000, 'setup timeout')
    expect(freed).toEqual(['s:setup-timeout'])
    expect(reasons).toEqual(['s:Q.850 ;cause=102 ;text="Call setup timed out"'])
    expect(a.size).toBe(0)
  })

  it(
    'frees a call whose media stops, and refuses an ICE restart it cannot follow',
    // retry: two anchors in one process (see anchor-loopback.test.ts).
    { timeout: 20_000, retry: 2 },
    async () => {
      const freed: string[] = []
      // Longer than the WebRTC leg takes to connect, for which the answer waits.
      const a = anchor({ idleTimeoutMs: 2000, onIdle: (id, why) => freed.push(`${id}:${why}`) })
      const b = anchor({ idleTimeoutMs: 60_000 })
      const pa = await phone()
      const pb = await phone()
      const { offer, answer } = await pcmuAcross(a, b, pa, pb, { a: 'i', b: 'j' })
      await overlayHop()
      await a.cross({ callId: 'i', kind: 'answer', direction: 'overlay-to-phone', sdp: answer })
      // A 2xx from another fork of the call (other ICE credentials) cannot be followed.
      const otherFork = answer.replace(/^a=ice-ufrag:.*$/m, 'a=ice-ufrag:fork')
      await expect(
        a.cross({ callId: 'i', kind: 'answer', direction: 'overlay-to-phone', sdp: otherFork }),
      ).rejects.toThrow(/restarted ICE/)
      expect(a.size).toBe(1)

      const restart = offer.replace(/^a=ice-ufrag:.*$/m, 'a=ice-ufrag:zzzz')
      await expect(
        b.cross({ callId: 'j', kind: 'offer', direction: 'overlay-to-phone', sdp: restart }),
      ).rejects.toThrow(/restarted ICE/)
      expect(b.size).toBe(1)

      // A re-offer the phone refuses (no answer reaches us) leaves the session as it
      // was, and the phone's own re-offer afterwards goes through.
      const hold = offer
        .replace(/^a=sendrecv\r$/m, 'a=sendonly\r')
        .replace(/^(o=\S+ \S+) \d+/m, '$1 1')
      expect(
        await b.cross({ callId: 'j', kind: 'offer', direction: 'overlay-to-phone', sdp: hold }),
      ).toMatch(/^a=sendonly\r$/m)
      const reoffer = await b.cross({
        callId: 'j',
        kind: 'offer',
        direction: 'phone-to-overlay',
        sdp: pb.sdp({ formats: '0' }),
      })
      expect(reoffer).toMatch(/^a=sendrecv\r$/m)
      expect(reoffer).toMatch(/^a=x-kaiwa-anchor:phone\r$/m)

      await waitFor(() => freed.length > 0, 5000, 'idle timeout')
      expect(freed).toEqual(['i:idle'])
      expect(a.size).toBe(0)
    },
  )

  it(
    'gathers a TURN relay candidate from the ICE servers it is given (REST credentials)',
    { timeout: 20_000 },
    async () => {
      const server = new TurnServer({
        secret: 'anchor-secret',
        host: '127.0.0.1',
        allowLoopback: true,
      })
      const { port } = await server.listen()
      try {
        const creds = issueTurnCredentials('anchor-secret', 'media-anchor', 600)
        const a = anchor({
          iceServers: async () => [
            { urls: [`stun:127.0.0.1:${port}`] },
            {
              urls: [`turn:127.0.0.1:${port}?transport=udp`],
              username: creds.username,
              credential: creds.password,
            },
          ],
        })
        const p = await phone()
        const offer = await a.cross({
          callId: 't',
          kind: 'offer',
          direction: 'phone-to-overlay',
          sdp: p.sdp({ formats: '0' }),
        })
        expect(offer).toMatch(/^a=candidate:.* typ relay/m)
        expect(offer).toMatch(/^a=candidate:.* typ host/m)
      } finally {
        await server.close()
      }
    },
  )

  it('falls back to host candidates without ICE servers, and honours end() during setup', async () => {
    const a = anchor({
      iceServers: () =>
        new Promise((_, reject) => setTimeout(() => reject(new Error('no supernode')), 100)),
    })
    const p = await phone()
    const first = a.cross({
      callId: 'e',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: p.sdp({ formats: '0' }),
    })
    await new Promise((r) => setTimeout(r, 30))
    a.end('e')
    await expect(first).rejects.toThrow('the call has ended')
    expect(a.size).toBe(0)
    const second = await a.cross({
      callId: 'f',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: p.sdp({ formats: '0' }),
    })
    expect(second).toMatch(/^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m)
  })
})
