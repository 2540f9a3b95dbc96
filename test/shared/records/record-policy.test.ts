import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidRecordError, NameTakenError, StaleRecordError } from '../../../src/shared/errors.js'
import {
  encodeContactRecord,
  signContactRecord,
  type ContactRecord,
  type Device,
  type UnsignedContactRecord,
} from '../../../src/shared/records/contact-record.js'
import { userRecordKey } from '../../../src/shared/records/dht-key.js'
import { ClaimStampError, mintClaimStamp } from '../../../src/shared/records/claim-pow.js'
import {
  checkFirstClaim,
  checkReplaces,
  CLAIM_TTL_MS,
  CONTACT_TTL_MS,
  MAX_CLOCK_SKEW_MS,
  MAX_DEVICE_TTL_MS,
  MAX_DEVICES,
  mergeDevices,
  nextSeq,
  selectBestRecord,
  validateContactRecord,
} from '../../../src/shared/records/record-policy.js'

const NOW = 1_700_000_000_000
const RELAY = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const KEY = userRecordKey('alice')

async function devicePeerId(): Promise<Uint8Array> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
}

async function device(expiresAt = NOW + CONTACT_TTL_MS): Promise<Device> {
  return {
    peerId: await devicePeerId(),
    addrs: [multiaddr('/ip4/192.0.2.1/tcp/4001').bytes],
    expiresAt,
  }
}

async function make(
  key: Ed25519PrivateKey,
  patch: Partial<UnsignedContactRecord> = {},
): Promise<{ record: ContactRecord; bytes: Uint8Array }> {
  const record = await signContactRecord(
    {
      v: 1,
      name: 'alice',
      publicKey: key.publicKey.raw,
      claimedAt: NOW - 60_000,
      seq: NOW,
      issuedAt: NOW,
      expiresAt: NOW + CLAIM_TTL_MS,
      devices: [await device()],
      ...patch,
    },
    key,
  )
  return { record, bytes: encodeContactRecord(record) }
}

describe('validateContactRecord', () => {
  it('accepts a good record and returns it decoded', async () => {
    const key = await generateKeyPair('Ed25519')
    const { record, bytes } = await make(key)
    await expect(validateContactRecord(KEY, bytes, NOW)).resolves.toEqual(record)
  })

  it('tolerates issuedAt within the clock skew', async () => {
    const key = await generateKeyPair('Ed25519')
    const { bytes } = await make(key, { issuedAt: NOW + MAX_CLOCK_SKEW_MS, seq: NOW + 1 })
    await expect(validateContactRecord(KEY, bytes, NOW)).resolves.toBeDefined()
  })

  const rejects = async (bytes: Uint8Array, re: RegExp, key = KEY, now = NOW) => {
    const p = validateContactRecord(key, bytes, now)
    await expect(p).rejects.toThrow(InvalidRecordError)
    await expect(p).rejects.toThrow(re)
  }

  it('rejects a record stored under another name', async () => {
    const key = await generateKeyPair('Ed25519')
    const { bytes } = await make(key)
    await rejects(bytes, /stored under "bob"/, userRecordKey('bob'))
    await rejects(bytes, /namespace/, new TextEncoder().encode('/pk/alice'))
  })

  it('rejects a tampered record and one signed by another key', async () => {
    const key = await generateKeyPair('Ed25519')
    const { record } = await make(key)
    await rejects(encodeContactRecord({ ...record, seq: record.seq + 1 }), /signature/)
    const other = await generateKeyPair('Ed25519')
    const { record: forged } = await make(other)
    await rejects(encodeContactRecord({ ...forged, publicKey: record.publicKey }), /signature/)
  })

  it('rejects an oversized record before decoding it', async () => {
    const key = await generateKeyPair('Ed25519')
    const addr = multiaddr(`/ip4/198.51.100.7/tcp/4001/p2p/${RELAY}/p2p-circuit`).bytes
    const devices = [{ ...(await device()), addrs: Array.from({ length: 100 }, () => addr) }]
    const { bytes } = await make(key, { devices })
    expect(bytes.length).toBeGreaterThan(4096)
    await rejects(bytes, /4096-byte limit/)
  })

  it('rejects expired records and future-dated ones', async () => {
    const key = await generateKeyPair('Ed25519')
    await rejects((await make(key)).bytes, /expired/, KEY, NOW + CLAIM_TTL_MS)
    const future = await make(key, { issuedAt: NOW + MAX_CLOCK_SKEW_MS + 1 })
    await rejects(future.bytes, /future/)
    const claimedLater = await make(key, { claimedAt: NOW + 1 })
    await rejects(claimedLater.bytes, /claimedAt/)
  })

  it('rejects a claim lifetime that is too long', async () => {
    const key = await generateKeyPair('Ed25519')
    const { bytes } = await make(key, { expiresAt: NOW + CLAIM_TTL_MS + MAX_CLOCK_SKEW_MS + 1 })
    await rejects(bytes, /claim lifetime/)
  })

  it('rejects a device lifetime that is too long', async () => {
    const key = await generateKeyPair('Ed25519')
    const { bytes } = await make(key, { devices: [await device(NOW + MAX_DEVICE_TTL_MS + 1)] })
    await rejects(bytes, /device 0 lifetime/)
  })

  it('rejects too many devices, too many addrs, duplicates and bad bytes', async () => {
    const key = await generateKeyPair('Ed25519')
    const many = await Promise.all(Array.from({ length: MAX_DEVICES + 1 }, () => device()))
    await rejects((await make(key, { devices: many })).bytes, /more than 8 devices/)
    const d = await device()
    const addrs = Array.from({ length: 9 }, () => d.addrs[0]!)
    await rejects((await make(key, { devices: [{ ...d, addrs }] })).bytes, /more than 8 addrs/)
    await rejects((await make(key, { devices: [d, { ...d }] })).bytes, /repeats a peer id/)
    const badPeer = { ...d, peerId: new Uint8Array([0, 3, 1, 2, 3]) }
    await rejects((await make(key, { devices: [badPeer] })).bytes, /peerId/)
    const badAddr = { ...d, addrs: [new Uint8Array([0xff, 0xff])] }
    await rejects((await make(key, { devices: [badAddr] })).bytes, /not a valid multiaddr/)
    const emptyAddr = { ...d, addrs: [new Uint8Array(0)] }
    await rejects((await make(key, { devices: [emptyAddr] })).bytes, /canonical multiaddr/)
  })
})

describe('checkReplaces', () => {
  it('accepts when nothing is stored', async () => {
    const { record, bytes } = await make(await generateKeyPair('Ed25519'))
    expect(() => checkReplaces(record, bytes, undefined, undefined, NOW)).not.toThrow()
  })

  it('lets another key take over an expired claim', async () => {
    const old = await make(await generateKeyPair('Ed25519'), { expiresAt: NOW - 1, seq: NOW + 5 })
    const neu = await make(await generateKeyPair('Ed25519'))
    expect(() => checkReplaces(neu.record, neu.bytes, old.record, old.bytes, NOW)).not.toThrow()
  })

  it('refuses another key while the claim is live', async () => {
    const old = await make(await generateKeyPair('Ed25519'))
    const neu = await make(await generateKeyPair('Ed25519'), { seq: NOW + 10 })
    expect(() => checkReplaces(neu.record, neu.bytes, old.record, old.bytes, NOW)).toThrow(
      NameTakenError,
    )
  })

  it('requires the same key to raise seq, except for an identical republish', async () => {
    const key = await generateKeyPair('Ed25519')
    const cur = await make(key, { seq: NOW })
    const older = await make(key, { seq: NOW - 1 })
    const sameSeq = await make(key, { seq: NOW, devices: [] })
    const newer = await make(key, { seq: NOW + 1 })
    const check = (x: typeof cur) => () =>
      checkReplaces(x.record, x.bytes, cur.record, cur.bytes, NOW)
    expect(check(older)).toThrow(StaleRecordError)
    expect(check(older)).toThrow(/sequence number did not go up/)
    expect(check(sameSeq)).toThrow(StaleRecordError)
    expect(check(cur)).not.toThrow()
    expect(check(newer)).not.toThrow()
  })
})

describe('selectBestRecord', () => {
  it('prefers live, then the most responders, then highest seq; never claimedAt', async () => {
    const a = await generateKeyPair('Ed25519')
    const b = await generateKeyPair('Ed25519')
    const aOld = (await make(a, { seq: NOW })).record
    const aNew = (await make(a, { seq: NOW + 1 })).record
    // b backdates its claim to the epoch: that must not help it
    const bBackdated = (await make(b, { claimedAt: 1, seq: NOW + 9 })).record
    const aExpired = (await make(a, { claimedAt: 0, expiresAt: NOW - 1 })).record
    expect(selectBestRecord([bBackdated, aOld, aNew], NOW)).toBe(2)
    expect(selectBestRecord([aNew, bBackdated, aOld], NOW)).toBe(0)
    expect(selectBestRecord([aExpired, bBackdated], NOW)).toBe(1)
    expect(selectBestRecord([aExpired], NOW)).toBe(0)
    expect(() => selectBestRecord([], NOW)).toThrow(InvalidRecordError)
  })

  it('prefers the key this node saw first over any count', async () => {
    const a = await generateKeyPair('Ed25519')
    const b = await generateKeyPair('Ed25519')
    const ra = (await make(a)).record
    const rb = (await make(b, { claimedAt: 1 })).record
    expect(selectBestRecord([rb, rb, ra], NOW, { preferKey: a.publicKey.raw })).toBe(2)
    expect(selectBestRecord([rb, rb, ra], NOW)).toBe(0)
  })

  it('breaks a tie the same way on every node, whatever the input order', async () => {
    const r1 = (await make(await generateKeyPair('Ed25519'))).record
    const r2 = (await make(await generateKeyPair('Ed25519'))).record
    const first = selectBestRecord([r1, r2], NOW)
    expect(selectBestRecord([r2, r1], NOW)).toBe(1 - first)
  })
})

describe('proof-of-work stamps in validation', () => {
  const BITS = 6

  it('accepts a v2 record with enough work and refuses one without', async () => {
    const key = await generateKeyPair('Ed25519')
    const stamp = await mintClaimStamp('alice', key.publicKey.raw, BITS)
    const good = await make(key, { v: 2, stamp })
    const back = await validateContactRecord(KEY, good.bytes, NOW, { powBits: BITS })
    expect(back.stamp).toEqual(stamp)
    // the same stamp for another name or key shows (almost surely) too little work
    const other = await generateKeyPair('Ed25519')
    const stolen = await make(other, { v: 2, stamp })
    await expect(validateContactRecord(KEY, stolen.bytes, NOW, { powBits: 20 })).rejects.toThrow(
      ClaimStampError,
    )
    await expect(validateContactRecord(KEY, good.bytes, NOW, { powBits: 30 })).rejects.toThrow(
      /proof-of-work/,
    )
  })

  it('reads a legacy v1 record but refuses it as a first claim', async () => {
    const key = await generateKeyPair('Ed25519')
    const legacy = await make(key)
    const r = await validateContactRecord(KEY, legacy.bytes, NOW, { powBits: BITS })
    expect(r.v).toBe(1)
    expect(() => checkFirstClaim(r)).toThrow(ClaimStampError)
    const stamped = await make(key, {
      v: 2,
      stamp: await mintClaimStamp('alice', key.publicKey.raw, BITS),
    })
    expect(() => checkFirstClaim(stamped.record)).not.toThrow()
  })
})

describe('mergeDevices', () => {
  it('puts own device first, replaces its old entry and drops expired ones', async () => {
    const key = await generateKeyPair('Ed25519')
    const mine = await device(NOW + 1000)
    const other = await device(NOW + 5000)
    const expired = await device(NOW - 1)
    const { record } = await make(key, { devices: [other, mine, expired] })
    const fresh = { ...mine, expiresAt: NOW + CONTACT_TTL_MS }
    expect(mergeDevices(record, fresh, NOW)).toEqual([fresh, other])
    expect(mergeDevices(undefined, fresh, NOW)).toEqual([fresh])
  })

  it('caps at MAX_DEVICES by dropping the soonest to expire', async () => {
    const key = await generateKeyPair('Ed25519')
    const others = await Promise.all(
      Array.from({ length: MAX_DEVICES }, (_, i) => device(NOW + 1000 * (i + 1))),
    )
    const { record } = await make(key, { devices: others })
    const mine = await device()
    const merged = mergeDevices(record, mine, NOW)
    expect(merged).toHaveLength(MAX_DEVICES)
    expect(merged[0]).toBe(mine)
    expect(merged.slice(1)).toEqual(others.slice(1)) // others[0] expires soonest
  })
})

describe('nextSeq', () => {
  it('follows the clock but always goes up', () => {
    expect(nextSeq(undefined, NOW)).toBe(NOW)
    expect(nextSeq(NOW - 5, NOW)).toBe(NOW)
    expect(nextSeq(NOW + 5, NOW)).toBe(NOW + 6)
    expect(nextSeq(NOW, NOW)).toBe(NOW + 1)
  })
})
