import { describe, it, expect } from 'vitest'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ContactRecordJsonSchema } from '../../../src/shared/api/contract.js'
import { InvalidRecordError, InvalidUserIdError } from '../../../src/shared/errors.js'
import {
  contactRecordToJson,
  decodeContactRecord,
  encodeContactRecord,
  fingerprint,
  signContactRecord,
  verifyContactRecordSignature,
  type ContactRecord,
} from '../../../src/shared/records/contact-record.js'
import {
  nameFromRecordKey,
  userRecordKey,
  USER_RECORD_NAMESPACE,
} from '../../../src/shared/records/dht-key.js'

const NOW = 1_700_000_000_000
const RELAY = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

async function fixture() {
  const account = await generateKeyPair('Ed25519')
  const device = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const record = await signContactRecord(
    {
      v: 1,
      name: 'alice',
      publicKey: account.publicKey.raw,
      claimedAt: NOW - 1000,
      seq: NOW,
      issuedAt: NOW,
      expiresAt: NOW + 3600_000,
      devices: [
        {
          peerId: device.toMultihash().bytes,
          addrs: [
            multiaddr('/ip4/192.0.2.1/tcp/4001').bytes,
            multiaddr(`/ip4/198.51.100.7/tcp/4001/p2p/${RELAY}/p2p-circuit`).bytes,
          ],
          expiresAt: NOW + 600_000,
        },
      ],
    },
    account,
  )
  return { account, device, record, bytes: encodeContactRecord(record) }
}

/** The raw CBOR map of a record, for hand-crafting bad encodings. */
const wireOf = (bytes: Uint8Array) => cborDecode(bytes) as Record<string, unknown>

describe('contact record encoding', () => {
  it('round-trips and verifies', async () => {
    const { record, bytes } = await fixture()
    const back = decodeContactRecord(bytes)
    expect(back).toEqual(record)
    expect(await verifyContactRecordSignature(back)).toBe(true)
  })

  it('is deterministic regardless of property order', async () => {
    const { record, bytes } = await fixture()
    expect(encodeContactRecord(record)).toEqual(bytes)
    const reordered: ContactRecord = {
      signature: record.signature,
      devices: record.devices.map((d) => ({
        expiresAt: d.expiresAt,
        addrs: d.addrs,
        peerId: d.peerId,
      })),
      expiresAt: record.expiresAt,
      issuedAt: record.issuedAt,
      seq: record.seq,
      claimedAt: record.claimedAt,
      publicKey: record.publicKey,
      name: record.name,
      v: 1,
    }
    expect(encodeContactRecord(reordered)).toEqual(bytes)
  })

  it('does not encode stray properties', async () => {
    const { record, bytes } = await fixture()
    const withExtra = { ...record, extra: 'x' } as ContactRecord
    expect(encodeContactRecord(withExtra)).toEqual(bytes)
  })

  it('rejects an unsorted map (non-canonical key order)', async () => {
    const { bytes } = await fixture()
    const reversed = cborEncode(wireOf(bytes), { mapSorter: (a, b) => -cmpKeys(a, b) })
    expect(reversed).not.toEqual(bytes)
    expect(() => decodeContactRecord(reversed)).toThrow(/canonical/)
  })

  it('rejects a duplicate map key', async () => {
    const { bytes } = await fixture()
    expect(bytes[0]).toBe(0xa9) // map of 9 entries
    // map of 10 entries: an extra leading "v": 1, then the original 9
    const dup = new Uint8Array([0xaa, 0x61, 0x76, 0x01, ...bytes.subarray(1)])
    expect(() => decodeContactRecord(dup)).toThrow(/repeat map key/)
  })

  it('rejects non-minimal lengths, floats for integers, tags and trailing bytes', async () => {
    const { bytes } = await fixture()
    const longHeader = new Uint8Array([0xb8, 0x09, ...bytes.subarray(1)])
    expect(() => decodeContactRecord(longHeader)).toThrow(InvalidRecordError)
    // "v": 1 written as a half-float 1.0 decodes to the number 1; only the re-encode catches it
    const at = indexOf(bytes, [0x61, 0x76, 0x01])
    const float = new Uint8Array([
      ...bytes.subarray(0, at + 2),
      0xf9,
      0x3c,
      0x00,
      ...bytes.subarray(at + 3),
    ])
    expect(() => decodeContactRecord(float)).toThrow(/canonical/)
    const tagged = new Uint8Array([0xd8, 0x18, ...bytes])
    expect(() => decodeContactRecord(tagged)).toThrow(/tag/)
    expect(() => decodeContactRecord(new Uint8Array([...bytes, 0x00]))).toThrow(InvalidRecordError)
    expect(() => decodeContactRecord(bytes.subarray(0, bytes.length - 1))).toThrow(
      InvalidRecordError,
    )
  })

  it('rejects an extra or missing field', async () => {
    const { bytes } = await fixture()
    const extra = cborEncode({ ...wireOf(bytes), x: 1 })
    expect(() => decodeContactRecord(extra)).toThrow(/unexpected field "x"/)
    const { sig: _sig, ...unsigned } = wireOf(bytes)
    expect(() => decodeContactRecord(cborEncode(unsigned))).toThrow(/missing field "sig"/)
    const wire = wireOf(bytes)
    const devices = wire.d as Record<string, unknown>[]
    devices[0]!.z = true
    expect(() => decodeContactRecord(cborEncode(wire))).toThrow(/device 0 has unexpected field/)
  })

  it('checks types and lengths', async () => {
    const { bytes } = await fixture()
    const bad = (patch: Record<string, unknown>) => cborEncode({ ...wireOf(bytes), ...patch })
    expect(() => decodeContactRecord(bad({ v: 3 }))).toThrow(/version/)
    expect(() => decodeContactRecord(bad({ v: 2 }))).toThrow(/missing field "w"/)
    expect(() => decodeContactRecord(bad({ w: new Uint8Array(8) }))).toThrow(/unexpected field "w"/)
    expect(() => decodeContactRecord(bad({ v: 2, w: new Uint8Array(7) }))).toThrow(/stamp/)
    expect(() => decodeContactRecord(bad({ k: new Uint8Array(33) }))).toThrow(/publicKey/)
    expect(() => decodeContactRecord(bad({ sig: new Uint8Array(63) }))).toThrow(/signature/)
    expect(() => decodeContactRecord(bad({ s: 1.5 }))).toThrow(/seq/)
    expect(() => decodeContactRecord(bad({ s: -1 }))).toThrow(/seq/)
    expect(() => decodeContactRecord(bad({ e: '2030' }))).toThrow(/expiresAt/)
    expect(() => decodeContactRecord(bad({ n: 'Alice' }))).toThrow(/name/)
    expect(() => decodeContactRecord(cborEncode([1, 2]))).toThrow(/not a CBOR map/)
  })
})

describe('record versions', () => {
  it('round-trips a v2 record with its stamp, and the signature covers the stamp', async () => {
    const { record, account } = await fixture()
    const stamp = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
    const v2 = await signContactRecord({ ...record, v: 2, stamp }, account)
    const bytes = encodeContactRecord(v2)
    const back = decodeContactRecord(bytes)
    expect(back.v).toBe(2)
    expect(back.stamp).toEqual(stamp)
    expect(await verifyContactRecordSignature(back)).toBe(true)
    const swapped = { ...back, stamp: new Uint8Array(8) }
    expect(await verifyContactRecordSignature(swapped)).toBe(false)
    // dropping the stamp and claiming v1 breaks the signature (v is signed)
    const downgraded = decodeContactRecord(encodeContactRecord({ ...back, v: 1 }))
    expect(downgraded.stamp).toBeUndefined()
    expect(await verifyContactRecordSignature(downgraded)).toBe(false)
  })

  it('never writes a stamp into a v1 record', async () => {
    const { record, bytes } = await fixture()
    const withStamp = { ...record, stamp: new Uint8Array(8) }
    expect(encodeContactRecord(withStamp)).toEqual(bytes)
  })
})

describe('contact record signatures', () => {
  it('fails when a signed field is changed', async () => {
    const { record } = await fixture()
    const tampered: ContactRecord[] = [
      { ...record, name: 'mallory' },
      { ...record, seq: record.seq + 1 },
      { ...record, expiresAt: record.expiresAt + 1 },
      {
        ...record,
        devices: [{ ...record.devices[0]!, addrs: [multiaddr('/ip4/6.6.6.6/tcp/1').bytes] }],
      },
      { ...record, devices: [] },
    ]
    for (const r of tampered) {
      expect(await verifyContactRecordSignature(decodeContactRecord(encodeContactRecord(r)))).toBe(
        false,
      )
    }
  })

  it('fails when a signature byte is flipped', async () => {
    const { bytes } = await fixture()
    const flipped = bytes.slice()
    flipped[flipped.length - 1]! ^= 0x01
    expect(await verifyContactRecordSignature(decodeContactRecord(flipped))).toBe(false)
  })

  it('fails for a record signed by a different key', async () => {
    const { record } = await fixture()
    const other = await generateKeyPair('Ed25519')
    const forged = await signContactRecord({ ...record, publicKey: other.publicKey.raw }, other)
    expect(await verifyContactRecordSignature({ ...forged, publicKey: record.publicKey })).toBe(
      false,
    )
  })

  it('refuses to sign when the key does not match publicKey', async () => {
    const { record } = await fixture()
    const other = await generateKeyPair('Ed25519')
    await expect(signContactRecord(record, other)).rejects.toThrow(/does not belong/)
  })
})

describe('fingerprint and JSON view', () => {
  it('formats the fingerprint as four groups of base32', async () => {
    const { record } = await fixture()
    const fp = fingerprint(record.publicKey)
    expect(fp).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
    expect(fingerprint(record.publicKey)).toBe(fp)
    expect(fingerprint(new Uint8Array(32))).not.toBe(fp)
  })

  it('produces the API JSON shape, listing only live devices', async () => {
    const { record, device } = await fixture()
    const json = contactRecordToJson(record, NOW)
    expect(ContactRecordJsonSchema.parse(json)).toEqual(json)
    expect(json.online).toBe(true)
    expect(json.devices[0]!.peerId).toBe(device.toString())
    expect(json.devices[0]!.addrs[1]).toBe(`/ip4/198.51.100.7/tcp/4001/p2p/${RELAY}/p2p-circuit`)
    expect(json.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(json.issuedAt).toBe(new Date(NOW).toISOString())
    const later = contactRecordToJson(record, NOW + 600_000)
    expect(later.online).toBe(false)
    expect(later.devices).toEqual([])
  })
})

describe('DHT keys', () => {
  it('maps names to /kaiwa-user/<name> and back', () => {
    const key = userRecordKey(' Alice ')
    expect(new TextDecoder().decode(key)).toBe(`/${USER_RECORD_NAMESPACE}/alice`)
    expect(nameFromRecordKey(key)).toBe('alice')
  })

  it('rejects invalid names and foreign keys', () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(() => userRecordKey('a')).toThrow(InvalidUserIdError)
    expect(() => nameFromRecordKey(enc('/pk/alice'))).toThrow(InvalidRecordError)
    expect(() => nameFromRecordKey(enc('/kaiwa-user/Alice'))).toThrow(InvalidRecordError)
    expect(() => nameFromRecordKey(enc('/kaiwa-user/alice/x'))).toThrow(InvalidRecordError)
    expect(() => nameFromRecordKey(enc('\uFEFF/kaiwa-user/alice'))).toThrow(InvalidRecordError)
    expect(() => nameFromRecordKey(new Uint8Array([0xff, 0xfe]))).toThrow(InvalidRecordError)
  })
})

function indexOf(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  throw new Error('needle not found')
}

/** cborg's default (RFC 7049 length-first) key order, so the test can invert it. */
function cmpKeys(a: unknown, b: unknown): number {
  const ka = String((a as { value: unknown }[])[0]!.value)
  const kb = String((b as { value: unknown }[])[0]!.value)
  return ka.length - kb.length || (ka < kb ? -1 : ka > kb ? 1 : 0)
}
