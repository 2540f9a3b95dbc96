/**
 * STUN codec round trips for every attribute type (RFC 8489, RFC 8656, RFC 8445), the method and
 * class bit layout, structural errors, ChannelData (RFC 8656 §12.4), and a fuzz run proving
 * decodeStun only ever throws StunDecodeError on hostile input. The RFC 5769 vectors themselves
 * are checked in stun-message-rfc5769.test.ts.
 */
import { describe, expect, it } from 'vitest'
import {
  AttrType,
  StunDecodeError,
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeChannelData,
  encodeStun,
  isChannelData,
  isStun,
  longTermKey,
  messageType,
  shortTermKey,
  splitMessageType,
  verifyFingerprint,
  verifyIntegrity,
} from '../../../src/overlay/turn/stun-message.js'
import type {
  StunAttribute,
  StunClass,
  StunMessage,
} from '../../../src/overlay/turn/stun-message.js'
import { NAMES, SHORT_TERM_PASSWORD, bin, hex } from './rfc5769-vectors.js'

const tid = Uint8Array.from({ length: 12 }, (_, i) => i * 17 + 3)

const everyAttribute: StunAttribute[] = [
  { name: 'MAPPED-ADDRESS', value: { family: 'IPv4', address: '203.0.113.7', port: 3478 } },
  { name: 'XOR-MAPPED-ADDRESS', value: { family: 'IPv4', address: '192.0.2.1', port: 32853 } },
  {
    name: 'XOR-MAPPED-ADDRESS',
    value: { family: 'IPv6', address: '2001:db8:1234:5678:11:2233:4455:6677', port: 1 },
  },
  { name: 'XOR-PEER-ADDRESS', value: { family: 'IPv6', address: '::1', port: 65535 } },
  { name: 'XOR-RELAYED-ADDRESS', value: { family: 'IPv6', address: 'fe80::1:0:0:2', port: 0 } },
  { name: 'XOR-RELAYED-ADDRESS', value: { family: 'IPv6', address: '::ffff:1.2.3.4', port: 9 } },
  { name: 'ALTERNATE-SERVER', value: { family: 'IPv6', address: '2001:db8::', port: 5349 } },
  { name: 'USERNAME', value: 'マトリックス' },
  { name: 'REALM', value: 'example.org' },
  { name: 'NONCE', value: 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA' },
  { name: 'SOFTWARE', value: 'kaiwa 0.1' },
  { name: 'ERROR-CODE', value: { code: 420, reason: 'Unknown Attribute' } },
  { name: 'ERROR-CODE', value: { code: 699, reason: '' } },
  { name: 'UNKNOWN-ATTRIBUTES', value: [0x0031, 0x7fff, 0x0002] },
  { name: 'PASSWORD-ALGORITHM', value: { algorithm: 2, params: new Uint8Array(0) } },
  {
    name: 'PASSWORD-ALGORITHMS',
    value: [
      { algorithm: 2, params: new Uint8Array(0) },
      { algorithm: 1, params: Uint8Array.of(1, 2, 3) },
    ],
  },
  { name: 'USERHASH', value: new Uint8Array(32).fill(0xab) },
  { name: 'PRIORITY', value: 0x6e0001ff },
  { name: 'USE-CANDIDATE' },
  { name: 'ICE-CONTROLLED', value: 0x932ff9b151263b36n },
  { name: 'ICE-CONTROLLING', value: 0xffffffffffffffffn },
  { name: 'CHANNEL-NUMBER', value: 0x4001 },
  { name: 'LIFETIME', value: 600 },
  { name: 'DATA', value: Uint8Array.of(1, 2, 3, 4, 5) },
  { name: 'REQUESTED-ADDRESS-FAMILY', value: 'IPv6' },
  { name: 'EVEN-PORT', value: true },
  { name: 'EVEN-PORT', value: false },
  { name: 'REQUESTED-TRANSPORT', value: 17 },
  { name: 'DONT-FRAGMENT' },
  { name: 'RESERVATION-TOKEN', value: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1) },
  { name: 'UNKNOWN', type: 0x8123, value: Uint8Array.of(9, 9) },
]

describe('encodeStun / decodeStun round trips', () => {
  it('interleaves method and class bits (RFC 8489 §5)', () => {
    const classes: StunClass[] = ['request', 'indication', 'success', 'error']
    for (const method of [...Object.values(StunMethod), 0xfff, 0x080]) {
      for (const cls of classes) {
        const t = messageType(method, cls)
        expect(t & 0xc000).toBe(0)
        expect(splitMessageType(t)).toEqual({ method, class: cls })
      }
    }
    expect(messageType(StunMethod.Allocate, 'error')).toBe(0x0113)
    expect(messageType(StunMethod.Data, 'indication')).toBe(0x0017)
    expect(messageType(StunMethod.ChannelBind, 'success')).toBe(0x0109)
  })

  it('round trips every attribute type, with SHA1 and SHA256 integrity and FINGERPRINT', () => {
    const msg: StunMessage = {
      method: StunMethod.Allocate,
      class: 'request',
      transactionId: tid,
      attributes: everyAttribute,
    }
    const key = longTermKey('alice', 'kaiwa', 'secret', 'SHA-256')
    expect(key).toHaveLength(32)
    for (const integritySha256 of [false, true]) {
      const buf = encodeStun(msg, { integrityKey: key, integritySha256, fingerprint: true })
      const m = decodeStun(buf)
      const tail = integritySha256 ? 'MESSAGE-INTEGRITY-SHA256' : 'MESSAGE-INTEGRITY'
      expect(m.attributes.slice(0, -2)).toEqual(everyAttribute)
      expect(m.attributes.slice(-2).map((a) => a.name)).toEqual([tail, 'FINGERPRINT'])
      expect(m.unknownRequired).toEqual([])
      expect(verifyIntegrity(buf, m, key)).toBe(true)
      expect(verifyIntegrity(buf, m, key, integritySha256 ? 'sha256' : 'sha1')).toBe(true)
      expect(verifyIntegrity(buf, m, key, integritySha256 ? 'sha1' : 'sha256')).toBe(false)
      expect(verifyFingerprint(buf, m)).toBe(true)
      // Re-encoding the decoded message recomputes the derived attributes identically.
      const again = encodeStun(m, { integrityKey: key, integritySha256, fingerprint: true })
      expect(hex(again)).toBe(hex(buf))
    }
  })

  it('encodes the XOR address of RFC 5769 2.3 to the published bytes', () => {
    const m = decodeStun(bin('sample_ipv6_response'))
    const out = encodeStun({ ...m, attributes: m.attributes.slice(1, 2) })
    expect(hex(out.subarray(24))).toBe('0002a1470113a9faa5d3f179bc25f4b5bed2b9d9')
  })

  it('reports unknown comprehension-required attributes and keeps them raw', () => {
    const buf = encodeStun({
      method: StunMethod.Binding,
      class: 'request',
      transactionId: tid,
      attributes: [
        { name: 'UNKNOWN', type: 0x0031, value: Uint8Array.of(1) },
        { name: 'UNKNOWN', type: 0xc001, value: Uint8Array.of(2) },
      ],
    })
    const m = decodeStun(buf)
    expect(m.unknownRequired).toEqual([0x0031])
    expect(m.attributes).toEqual([
      { name: 'UNKNOWN', type: 0x0031, value: Uint8Array.of(1) },
      { name: 'UNKNOWN', type: 0xc001, value: Uint8Array.of(2) },
    ])
  })

  it('ignores attributes after MESSAGE-INTEGRITY except MI-SHA256 and FINGERPRINT', () => {
    const key = shortTermKey(SHORT_TERM_PASSWORD)
    const base = encodeStun(
      { method: 1, class: 'request', transactionId: tid, attributes: [] },
      { integrityKey: key },
    )
    const extra = Uint8Array.of(0x80, 0x22, 0, 1, 0x41, 0, 0, 0) // SOFTWARE "A"
    const buf = new Uint8Array([...base, ...extra])
    new DataView(buf.buffer).setUint16(2, buf.length - 20)
    const m = decodeStun(buf)
    expect(m.attributes.map((a) => a.name)).toEqual(['MESSAGE-INTEGRITY'])
    expect(m.ignoredAfterIntegrity).toEqual([AttrType.SOFTWARE])
    expect(verifyIntegrity(buf, m, key)).toBe(true)
  })

  it('rejects structural errors with StunDecodeError', () => {
    const good = bin('sample_request')
    const mutate = (f: (b: Uint8Array, dv: DataView) => void) => {
      const b = good.slice()
      f(b, new DataView(b.buffer))
      return b
    }
    const bad: [string, Uint8Array][] = [
      ['short', good.subarray(0, 19)],
      ['cookie', mutate((b) => (b[4] = 0))],
      ['top bits', mutate((b) => (b[0] = 0x80))],
      ['length %4', mutate((_, dv) => dv.setUint16(2, 86))],
      ['length mismatch', mutate((_, dv) => dv.setUint16(2, 84))],
      ['truncated', good.subarray(0, 100)],
      ['overrun', mutate((_, dv) => dv.setUint16(22, 200))],
      ['after FINGERPRINT', new Uint8Array([...good, 0x80, 0x22, 0, 0])],
      ['oversize', new Uint8Array(70000)],
      ['bad MI length', mutate((_, dv) => dv.setUint16(78, 16))],
      ['bad utf-8', mutate((b) => (b[64] = 0xff))],
    ]
    for (const [label, b] of bad) {
      if (label === 'after FINGERPRINT') new DataView(b.buffer).setUint16(2, b.length - 20)
      expect(() => decodeStun(b), label).toThrow(StunDecodeError)
    }
  })
})

describe('ChannelData', () => {
  it('round trips over UDP (unpadded) and streams (padded)', () => {
    for (const len of [0, 1, 3, 4, 5, 1200]) {
      const data = Uint8Array.from({ length: len }, (_, i) => i & 0xff)
      const udp = encodeChannelData(0x4000, data)
      expect(udp.length).toBe(4 + len)
      expect(isChannelData(udp)).toBe(true)
      expect(isStun(udp)).toBe(false)
      expect(decodeChannelData(udp)).toEqual({ channel: 0x4000, data, size: 4 + len })
      const tcp = encodeChannelData(0x4fff, data, { pad: true })
      expect(tcp.length % 4).toBe(0)
      const framed = new Uint8Array([...tcp, 0x40, 0x00])
      expect(decodeChannelData(framed, { stream: true })).toEqual({
        channel: 0x4fff,
        data,
        size: tcp.length,
      })
      // UDP: trailing padding is allowed and ignored.
      expect(decodeChannelData(tcp).data).toEqual(data)
    }
  })

  it('rejects bad frames and channel numbers', () => {
    expect(() => decodeChannelData(Uint8Array.of(0x40, 0, 0, 5, 1))).toThrow(StunDecodeError)
    expect(() => decodeChannelData(Uint8Array.of(0x40, 0, 0, 1, 1), { stream: true })).toThrow(
      StunDecodeError,
    )
    expect(() => decodeChannelData(Uint8Array.of(0x00, 1, 0, 0))).toThrow(StunDecodeError)
    expect(() => encodeChannelData(0x3fff, new Uint8Array(1))).toThrow()
    expect(() => encodeChannelData(0x5000, new Uint8Array(1))).toThrow()
  })
})

describe('fuzzing decodeStun', () => {
  it('only ever returns or throws StunDecodeError, quickly', () => {
    // Deterministic PRNG (mulberry32) so a failure is reproducible.
    let seed = 0x5eed
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const int = (n: number) => Math.floor(rnd() * n)
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256))
    const seeds = [
      ...NAMES.map(bin),
      encodeStun(
        { method: 3, class: 'request', transactionId: tid, attributes: everyAttribute },
        { integrityKey: tid, integritySha256: true, fingerprint: true },
      ),
    ]
    const mutate = (src: Uint8Array): Uint8Array => {
      let b = src.slice()
      for (let k = 1 + int(4); k > 0; k--) {
        const op = int(6)
        if (op === 0 && b.length) b[int(b.length)]! ^= 1 << int(8)
        else if (op === 1) b = b.slice(0, int(b.length + 1))
        else if (op === 2) {
          const at = int(b.length + 1)
          b = new Uint8Array([...b.subarray(0, at), ...bytes(1 + int(8)), ...b.subarray(at)])
        } else if (op === 3 && b.length >= 4) {
          // Random attribute or header length at a 4-aligned position.
          const at = 4 * int(b.length / 4) + 2
          if (at + 2 <= b.length) new DataView(b.buffer).setUint16(at, int(0x10000))
        } else if (op === 4 && b.length >= 4) {
          new DataView(b.buffer).setUint16(2, b.length - 20) // keep the header length consistent
        } else if (b.length) b[int(b.length)] = int(256)
      }
      return b
    }
    let decoded = 0
    let rejected = 0
    let maxMs = 0
    const unexpected: unknown[] = []
    for (let i = 0; i < 50_000; i++) {
      const r = i % 10
      const input =
        r < 8
          ? mutate(seeds[i % seeds.length]!)
          : r === 8
            ? bytes(int(200))
            : (() => {
                const b = bytes(20 + 4 * int(60))
                const dv = new DataView(b.buffer)
                dv.setUint16(0, int(0x4000))
                dv.setUint16(2, b.length - 20)
                dv.setUint32(4, 0x2112a442)
                return b
              })()
      const t0 = performance.now()
      try {
        const m = decodeStun(input)
        decoded++
        verifyIntegrity(input, m, tid)
        verifyFingerprint(input, m)
      } catch (err) {
        if (err instanceof StunDecodeError) rejected++
        else unexpected.push(err)
      }
      maxMs = Math.max(maxMs, performance.now() - t0)
      if (isChannelData(input)) {
        try {
          decodeChannelData(input, { stream: i % 2 === 0 })
        } catch (err) {
          if (!(err instanceof StunDecodeError)) unexpected.push(err)
        }
      }
    }
    console.log(
      `fuzz: ${decoded} decoded, ${rejected} rejected, slowest call ${maxMs.toFixed(2)} ms`,
    )
    expect(unexpected).toEqual([])
    expect(decoded).toBeGreaterThan(1000)
    expect(rejected).toBeGreaterThan(1000)
  })
})
