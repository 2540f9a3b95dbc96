/**
 * STUN codec against the RFC 5769 vectors: exact bytes, decoded fields, credentials, integrity,
 * fingerprint, and re-encoding to the published bytes. Round trips of every attribute type,
 * ChannelData and the fuzz run are in stun-message-codec.test.ts.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  StunDecodeError,
  StunMethod,
  decodeStun,
  encodeStun,
  isChannelData,
  isStun,
  longTermKey,
  messageType,
  opaqueString,
  shortTermKey,
  verifyFingerprint,
  verifyIntegrity,
} from '../../../src/overlay/turn/stun-message.js'
import type { DecodedStunMessage, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { NAMES, SHORT_TERM_PASSWORD, bin, dir, expected, hex } from './rfc5769-vectors.js'

function keyFor(name: string): Uint8Array {
  const c = expected[name]!.credentials
  return name === 'sample_request_long_term_auth'
    ? longTermKey(c.username!, c.realm!, c.password_as_printed!, 'MD5')
    : shortTermKey(c.password!)
}

/** The decoded value in the shape expected.json prints it. */
function printed(a: StunAttribute): unknown {
  switch (a.name) {
    case 'ICE-CONTROLLED':
    case 'ICE-CONTROLLING':
      return `0x${a.value.toString(16).padStart(16, '0')}`
    case 'FINGERPRINT':
      return `0x${a.value.toString(16).padStart(8, '0')}`
    case 'XOR-MAPPED-ADDRESS':
      return a.value
    case 'MESSAGE-INTEGRITY':
      return hex(a.value)
    case 'SOFTWARE':
    case 'USERNAME':
    case 'NONCE':
    case 'REALM':
    case 'PRIORITY':
      return a.value
    default:
      throw new Error(`unexpected attribute ${a.name}`)
  }
}

describe('RFC 5769 test vectors', () => {
  it('resolves the test data directory to ../shared/testdata/rfc5769 beside the checkout', () => {
    // CI clones the repository next to ../shared, wherever that is.
    expect(fileURLToPath(dir)).toMatch(/\/shared\/testdata\/rfc5769\/$/)
    expect(NAMES).toHaveLength(4)
  })

  it.each(NAMES)('%s decodes to exactly the fields in expected.json', (name) => {
    const e = expected[name]!
    const buf = bin(name)
    expect(buf.length).toBe(e.size)
    expect(isStun(buf)).toBe(true)
    expect(isChannelData(buf)).toBe(false)
    const m = decodeStun(buf)
    expect(`0x${messageType(m.method, m.class).toString(16).padStart(4, '0')}`).toBe(e.message_type)
    expect(m.method).toBe(StunMethod.Binding)
    expect(m.class).toBe(e.class === 'success response' ? 'success' : e.class)
    expect(m.length).toBe(e.length)
    expect(hex(m.transactionId)).toBe(e.transaction_id)
    expect(m.unknownRequired).toEqual([])
    expect(m.ignoredAfterIntegrity).toEqual([])
    expect(m.attributes.map((a) => a.name)).toEqual(e.attributes.map((a) => a.name))
    e.attributes.forEach((ea, i) => {
      const a = m.attributes[i]!
      const lay = m.layout[i]!
      expect(`0x${lay.type.toString(16).padStart(4, '0')}`).toBe(ea.type)
      expect(lay.offset).toBe(ea.offset)
      expect(lay.length).toBe(ea.length)
      const start = lay.offset + 4
      expect(hex(buf.subarray(start, start + lay.length))).toBe(ea.value_hex)
      const padEnd = start + ((lay.length + 3) & ~3)
      expect(hex(buf.subarray(start + lay.length, padEnd))).toBe(ea.padding_hex)
      if (ea.family !== undefined) {
        expect(printed(a)).toEqual({ family: ea.family, address: ea.address, port: ea.port })
      } else if (ea.value !== undefined) {
        expect(printed(a)).toEqual(ea.value)
      } else {
        expect(printed(a)).toBe(ea.value_hex)
      }
    })
    const mi = e.attributes.find((a) => a.name === 'MESSAGE-INTEGRITY')!
    expect(m.integrity).toEqual({ offset: mi.offset, length: 20 })
    const fp = e.attributes.find((a) => a.name === 'FINGERPRINT')
    expect(m.fingerprint).toEqual(fp ? { offset: fp.offset } : undefined)
  })

  it('derives the credentials of expected.json (SASLprep of the long-term password)', () => {
    for (const name of NAMES) expect(hex(keyFor(name))).toBe(expected[name]!.credentials.key_hex)
    expect(opaqueString('The\u00adM\u00aatr\u2168')).toBe('TheMatrIX')
    expect(hex(shortTermKey(SHORT_TERM_PASSWORD))).toBe(
      expected.sample_request!.credentials.key_hex,
    )
  })

  it.each(NAMES)('%s: MESSAGE-INTEGRITY and FINGERPRINT verify', (name) => {
    const buf = bin(name)
    const m = decodeStun(buf)
    expect(verifyIntegrity(buf, m, keyFor(name))).toBe(true)
    expect(verifyIntegrity(buf, m, keyFor(name), 'sha1')).toBe(true)
    expect(verifyIntegrity(buf, m, keyFor(name), 'sha256')).toBe(false) // none present
    expect(verifyIntegrity(buf, m, new TextEncoder().encode('wrong'))).toBe(false)
    expect(verifyFingerprint(buf, m)).toBe(expected[name]!.fingerprint_verified === true)
  })

  it.each(NAMES)('%s: any one-byte change breaks integrity or decoding', (name) => {
    const orig = bin(name)
    const key = keyFor(name)
    const m0 = decodeStun(orig)
    const miEnd = m0.integrity!.offset + 24
    for (let i = 0; i < orig.length; i++) {
      const buf = orig.slice()
      buf[i]! ^= 0x01
      let m: DecodedStunMessage
      try {
        m = decodeStun(buf)
      } catch (err) {
        expect(err).toBeInstanceOf(StunDecodeError)
        continue
      }
      if (i < miEnd) {
        // Covered by the HMAC: the header, every attribute before it and the MAC itself.
        expect(verifyIntegrity(buf, m, key), `byte ${i}`).toBe(false)
      } else {
        // Bytes after MESSAGE-INTEGRITY are FINGERPRINT, which catches them.
        expect(verifyFingerprint(buf, m), `byte ${i}`).toBe(false)
      }
    }
  })

  it.each(NAMES)('%s: encode(decode(x)) reproduces the vector byte for byte', (name) => {
    // RFC 5769 2.1-2.3 pad with 0x20, 2.4 with 0x00. Padding content is not covered by any
    // field, so the encoder takes the pad byte as an option; with it, re-encoding recomputes
    // MESSAGE-INTEGRITY and FINGERPRINT and lands on exactly the published bytes.
    const buf = bin(name)
    const e = expected[name]!
    const padHex = e.attributes.map((a) => a.padding_hex).join('')
    const padByte = padHex.startsWith('20') ? 0x20 : 0
    const out = encodeStun(decodeStun(buf), {
      integrityKey: keyFor(name),
      fingerprint: e.fingerprint_verified === true,
      padByte,
    })
    expect(hex(out)).toBe(hex(buf))
    if (padByte !== 0) {
      // With the default 0x00 padding only the padding (and so MI/FINGERPRINT) differ.
      const zeroPadded = encodeStun(decodeStun(buf), { integrityKey: keyFor(name) })
      const m = decodeStun(zeroPadded)
      expect(m.attributes.slice(0, -1)).toEqual(
        decodeStun(buf)
          .attributes.filter((a) => a.name !== 'FINGERPRINT')
          .slice(0, -1),
      )
      expect(verifyIntegrity(zeroPadded, m, keyFor(name))).toBe(true)
    }
  })
})
