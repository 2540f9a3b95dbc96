import { describe, expect, it } from 'vitest'
import { RtpRewriter, isRtcp, isRtp } from '../../../src/overlay/media/rtp-rewriter.js'
import { parseRtp, rtp } from './rtp-phone.js'

const payload = Buffer.from([1, 2, 3, 4])

describe('RTP rewriting', () => {
  it('maps payload types, keeps the marker bit, stamps our SSRC', () => {
    const r = new RtpRewriter({
      ssrc: 0xabcdef01,
      payloadTypes: new Map([
        [0, 0],
        [101, 126],
      ]),
      clocks: new Map(),
    })
    const out = parseRtp(
      r.rewrite(rtp({ pt: 101, seq: 7, ts: 800, ssrc: 5, payload, marker: true }))!,
    )
    expect(out).toMatchObject({ pt: 126, marker: true, seq: 7, ts: 800, ssrc: 0xabcdef01 })
    expect(out.payload).toEqual(payload)
    expect(r.rewrite(rtp({ pt: 8, seq: 8, ts: 960, ssrc: 5, payload }))).toBeUndefined()
  })

  it('continues sequence and timestamp when the source changes its SSRC', () => {
    let now = 1000
    const r = new RtpRewriter({
      ssrc: 1,
      payloadTypes: new Map([[0, 0]]),
      clocks: new Map([[0, 8000]]),
      now: () => now,
    })
    const a = parseRtp(r.rewrite(rtp({ pt: 0, seq: 65535, ts: 4_294_967_000, ssrc: 5, payload }))!)
    now += 100
    const b = parseRtp(r.rewrite(rtp({ pt: 0, seq: 12, ts: 99, ssrc: 6, payload }))!)
    expect(b.seq).toBe(0) // wraps after 65535
    expect((b.ts - a.ts + 2 ** 32) % 2 ** 32).toBe(800) // 100 ms at 8 kHz
    const c = parseRtp(r.rewrite(rtp({ pt: 0, seq: 13, ts: 259, ssrc: 6, payload }))!)
    expect(c.seq).toBe(1)
    expect(c.ts - b.ts).toBe(160)
  })

  it('tells RTP from RTCP (RFC 5761 §4) and refuses runts', () => {
    expect(isRtp(rtp({ pt: 0, seq: 1, ts: 1, ssrc: 1, payload }))).toBe(true)
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1])
    expect(isRtcp(rr)).toBe(true)
    expect(isRtp(rr)).toBe(false)
    expect(isRtp(Buffer.from([0x80, 0, 0]))).toBe(false)
    expect(isRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false)
    // A CSRC count the packet is too short for.
    expect(isRtp(Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false)
  })
})
