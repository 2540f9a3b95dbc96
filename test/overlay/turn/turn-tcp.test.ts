/** Stream framing of STUN and ChannelData for TURN over TCP (RFC 8489 §6.2.2, RFC 8656 §12.5). */
import { describe, expect, it } from 'vitest'
import {
  StunMethod,
  decodeStun,
  encodeChannelData,
  encodeStun,
} from '../../../src/overlay/turn/stun-message.js'
import { TurnFramingError, frameSize, streamFramer } from '../../../src/overlay/turn/turn-tcp.js'

const stun = encodeStun(
  {
    method: StunMethod.Binding,
    class: 'request',
    transactionId: new Uint8Array(12).fill(1),
    attributes: [{ name: 'SOFTWARE', value: 'abc' }],
  },
  { fingerprint: true },
)
const cd = encodeChannelData(0x4001, new Uint8Array([1, 2, 3, 4, 5]), { pad: true })

describe('streamFramer', () => {
  it('sizes STUN by its length field and ChannelData padded to 4', () => {
    expect(frameSize(stun)).toBe(stun.length)
    expect(frameSize(cd)).toBe(12)
    expect(() => frameSize(new Uint8Array([0x80, 0, 0, 0]))).toThrow(TurnFramingError)
  })

  it('reassembles frames split and joined arbitrarily across chunks', () => {
    const stream = new Uint8Array([...stun, ...cd, ...stun, ...cd])
    for (const step of [1, 3, 7, 13, stream.length]) {
      const frames: Uint8Array[] = []
      const feed = streamFramer((f) => frames.push(f))
      for (let i = 0; i < stream.length; i += step) feed(stream.subarray(i, i + step))
      expect(frames.map((f) => f.length)).toEqual([stun.length, 12, stun.length, 12])
      expect(decodeStun(frames[2]!).method).toBe(StunMethod.Binding)
      expect(frames[1]).toEqual(cd)
    }
  })

  it('throws TurnFramingError on bytes that are neither STUN nor ChannelData', () => {
    const feed = streamFramer(() => undefined)
    expect(() => feed(new Uint8Array([0xc0, 0, 0, 0]))).toThrow(TurnFramingError)
  })
})
