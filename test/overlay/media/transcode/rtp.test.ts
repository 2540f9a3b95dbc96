import { describe, expect, it } from 'vitest'
import {
  parseRtp,
  RtpParseError,
  seqDelta,
  serializeRtp,
  tsDelta,
} from '../../../../src/overlay/media/transcode/rtp.js'

describe('RTP fixed header (RFC 3550 §5.1)', () => {
  it('parses a minimal packet', () => {
    const bytes = Uint8Array.from([
      0x80,
      0x80 | 0,
      0x12,
      0x34,
      0,
      0,
      0x01,
      0x00,
      0xde,
      0xad,
      0xbe,
      0xef,
      0xff,
      0x7f,
    ])
    const p = parseRtp(bytes)
    expect(p).toMatchObject({
      marker: true,
      payloadType: 0,
      sequenceNumber: 0x1234,
      timestamp: 256,
      ssrc: 0xdeadbeef,
      csrcs: [],
      paddingLength: 0,
    })
    expect(p.extension).toBeUndefined()
    expect([...p.payload]).toEqual([0xff, 0x7f])
  })

  it('round-trips CSRCs, a header extension and padding', () => {
    const init = {
      marker: false,
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
      ssrc: 1,
      csrcs: [2, 0xfffffffe],
      extension: { profile: 0xbede, data: Uint8Array.from([0x10, 0xaa, 0, 0]) },
      payload: Uint8Array.from([1, 2, 3]),
      paddingLength: 5,
    }
    const bytes = serializeRtp(init)
    expect(bytes.length).toBe(12 + 8 + 8 + 3 + 5)
    expect(bytes[0]).toBe(0x80 | 0x20 | 0x10 | 2)
    expect(bytes[bytes.length - 1]).toBe(5)
    const p = parseRtp(bytes)
    expect(p.csrcs).toEqual(init.csrcs)
    expect(p.extension?.profile).toBe(0xbede)
    expect([...p.extension!.data]).toEqual([0x10, 0xaa, 0, 0])
    expect([...p.payload]).toEqual([1, 2, 3])
    expect(p.paddingLength).toBe(5)
    expect(p).toMatchObject({
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
      ssrc: 1,
    })
  })

  it('parses a view into a larger buffer', () => {
    const inner = serializeRtp({
      marker: false,
      payloadType: 8,
      sequenceNumber: 7,
      timestamp: 9,
      ssrc: 3,
      payload: Uint8Array.of(0xd5),
    })
    const outer = new Uint8Array(inner.length + 10)
    outer.set(inner, 5)
    const p = parseRtp(outer.subarray(5, 5 + inner.length))
    expect(p).toMatchObject({ payloadType: 8, sequenceNumber: 7, timestamp: 9, ssrc: 3 })
    expect([...p.payload]).toEqual([0xd5])
  })

  it('rejects what §5.1 forbids with RtpParseError', () => {
    const good = serializeRtp({
      marker: false,
      payloadType: 0,
      sequenceNumber: 1,
      timestamp: 2,
      ssrc: 3,
      payload: new Uint8Array(4),
    })
    const bad = (mutate: (b: Uint8Array) => Uint8Array) => () => parseRtp(mutate(good.slice()))
    expect(bad((b) => b.subarray(0, 11))).toThrow(RtpParseError)
    expect(bad((b) => ((b[0] = 0x40), b))).toThrow(/version 1/)
    expect(bad((b) => ((b[0] = 0x80 | 3), b))).toThrow(/CSRC/) // 3 CSRCs need 12 more bytes
    expect(bad((b) => ((b[0] = 0x90), (b[15] = 5), b))).toThrow(/extension/) // 5 words that are not there
    expect(bad((b) => ((b[0] = 0x90), b.subarray(0, 14)))).toThrow(/extension/)
    expect(bad((b) => ((b[0] = 0xa0), (b[b.length - 1] = 0), b))).toThrow(/padding/)
    expect(bad((b) => ((b[0] = 0xa0), (b[b.length - 1] = 200), b))).toThrow(/padding/)
    const e = (() => {
      try {
        parseRtp(new Uint8Array(3))
      } catch (err) {
        return err
      }
    })()
    expect(e).toBeInstanceOf(RtpParseError)
    expect((e as Error).name).toBe('RtpParseError')
  })

  it('refuses to serialize fields that do not fit', () => {
    const base = {
      marker: false,
      payloadType: 0,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: 0,
      payload: new Uint8Array(),
    }
    expect(() => serializeRtp({ ...base, payloadType: 128 })).toThrow(RangeError)
    expect(() => serializeRtp({ ...base, csrcs: new Array(16).fill(1) })).toThrow(RangeError)
    expect(() => serializeRtp({ ...base, paddingLength: 256 })).toThrow(RangeError)
    expect(() =>
      serializeRtp({ ...base, extension: { profile: 1, data: new Uint8Array(3) } }),
    ).toThrow(RangeError)
  })

  it('measures sequence and timestamp distance across the wrap', () => {
    expect(seqDelta(65535, 0)).toBe(1)
    expect(seqDelta(0, 65535)).toBe(-1)
    expect(seqDelta(100, 99)).toBe(-1)
    expect(tsDelta(0xffffff00, 0x100)).toBe(0x200)
    expect(tsDelta(0x100, 0xffffff00)).toBe(-0x200)
  })
})
