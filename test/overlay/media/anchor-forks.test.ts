/**
 * One overlay INVITE forked to two of a user's phones (RFC 3261 §16.6): the
 * gateway hands the anchor the same offer once per phone, under one Call-ID.
 * Both phones get the same offer, the first answer settles the call, and the
 * other phone's answer is refused without touching the call. Also: the
 * caller's anchor gives its phone the answer only once the WebRTC leg is up.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MediaAnchor } from '../../../src/overlay/media/media-anchor.js'
import type { MediaAnchorOptions } from '../../../src/overlay/media/media-anchor.js'
import { RtpPhone } from './rtp-phone.js'

const anchors: MediaAnchor[] = []
const phones: RtpPhone[] = []

function anchor(opts: MediaAnchorOptions = {}): MediaAnchor {
  const a = new MediaAnchor({
    bindAddress: '127.0.0.1',
    icePortRange: [45600, 45799],
    rtpPortRange: [45800, 45999],
    ...opts,
  })
  anchors.push(a)
  return a
}

async function phone(): Promise<RtpPhone> {
  const p = await RtpPhone.open(0x4321)
  phones.push(p)
  return p
}

afterEach(async () => {
  for (const a of anchors.splice(0)) await a.close()
  for (const p of phones.splice(0)) p.close()
})

describe('MediaAnchor with a forked INVITE', () => {
  it('gives both phones one offer, keeps the first answer and refuses the other fork', async () => {
    const a = anchor()
    const b = anchor()
    const caller = await phone()
    const [first, second] = [await phone(), await phone()]
    const offer = await a.cross({
      callId: 'a-leg',
      kind: 'offer',
      direction: 'phone-to-overlay',
      sdp: caller.sdp({ formats: '0' }),
    })
    const fork = {
      callId: 'b-leg',
      kind: 'offer',
      direction: 'overlay-to-phone',
      sdp: offer,
    } as const
    const toFirst = await b.cross(fork)
    const toSecond = await b.cross(fork)
    expect(toSecond).toBe(toFirst)
    expect(b.size).toBe(1)

    const answer = await b.cross({
      callId: 'b-leg',
      kind: 'answer',
      direction: 'phone-to-overlay',
      sdp: first.sdp({ formats: '0' }),
    })
    // The other phone answers too (its own o= session): refused, the call stays.
    const late = second.sdp({ formats: '0' }).replace('o=phone 42', 'o=phone 43')
    await expect(
      b.cross({ callId: 'b-leg', kind: 'answer', direction: 'phone-to-overlay', sdp: late }),
    ).rejects.toThrow(/another phone already answered/)
    expect(b.size).toBe(1)
    // The first phone's answer again (a 200 after its 180, say) gets the same translation.
    expect(
      await b.cross({
        callId: 'b-leg',
        kind: 'answer',
        direction: 'phone-to-overlay',
        sdp: first.sdp({ formats: '0' }),
      }),
    ).toBe(answer)

    const t0 = Date.now()
    const toCaller = await a.cross({
      callId: 'a-leg',
      kind: 'answer',
      direction: 'overlay-to-phone',
      sdp: answer,
    })
    expect(toCaller).toMatch(/^m=audio \d+ RTP\/AVP 0/m)
    // Held until ICE and DTLS are up, within the 3 s bound.
    expect(a.stats('a-leg')?.connection).toBe('connected')
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(b.stats('b-leg')?.connection).toMatch(/connect/)
  }, 20_000)
})
