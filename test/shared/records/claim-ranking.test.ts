import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  fingerprint,
  signContactRecord,
  type ContactRecord,
} from '../../../src/shared/records/contact-record.js'
import { chooseClaim, isConflict, tallyClaims } from '../../../src/shared/records/claim-ranking.js'
import { judgeFirstClaim } from '../../../src/shared/records/first-claim-verdict.js'
import { CLAIM_TTL_MS } from '../../../src/shared/records/record-policy.js'

const NOW = 1_700_000_000_000

async function claim(
  key: Ed25519PrivateKey,
  patch: Partial<ContactRecord> = {},
): Promise<ContactRecord> {
  return signContactRecord(
    {
      v: 1,
      name: 'alice',
      publicKey: key.publicKey.raw,
      claimedAt: NOW,
      seq: NOW,
      issuedAt: NOW,
      expiresAt: NOW + CLAIM_TTL_MS,
      devices: [],
      ...patch,
    },
    key,
  )
}

describe('tallyClaims', () => {
  it('groups by key, majority first, and flags a conflict', async () => {
    const alice = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const a1 = await claim(alice, { seq: NOW })
    const a2 = await claim(alice, { seq: NOW + 5 })
    const m = await claim(mallory, { claimedAt: 1, seq: NOW + 100 })
    const t = tallyClaims([m, a1, a2], NOW)
    expect(t.map((x) => x.count)).toEqual([2, 1])
    expect(t[0]!.fingerprint).toBe(fingerprint(alice.publicKey.raw))
    expect(t[0]!.best).toBe(2) // alice's highest seq
    expect(isConflict(t)).toBe(true)
    expect(isConflict(tallyClaims([a1, a2], NOW))).toBe(false)
    expect(chooseClaim([m, a1, a2], NOW)).toBe(2)
  })

  it('does not count an expired claim as a conflict', async () => {
    const alice = await generateKeyPair('Ed25519')
    const old = await generateKeyPair('Ed25519')
    const expired = await claim(old, { expiresAt: NOW - 1, issuedAt: NOW - 10, claimedAt: 0 })
    const t = tallyClaims([expired, expired, await claim(alice)], NOW)
    expect(t[0]!.publicKey).toEqual(alice.publicKey.raw)
    expect(isConflict(t)).toBe(false)
  })

  it('throws on an empty choice', () => {
    expect(() => chooseClaim([], NOW)).toThrow(RangeError)
  })
})

describe('judgeFirstClaim', () => {
  it('refuses when a strict majority of responders holds another key', async () => {
    const alice = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const ra = await claim(alice)
    const rm = await claim(mallory, { claimedAt: 1 })
    const v = judgeFirstClaim(
      rm,
      [{ peer: 'a', record: ra }, { peer: 'b', record: ra }, { peer: 'c' }],
      NOW,
    )
    expect(v.accept).toBe(false)
    if (!v.accept) {
      expect(v.record).toBe(ra)
      expect(v.holder.count).toBe(2)
    }
  })

  it('accepts a genuinely new name, a minority objection and its own key', async () => {
    const alice = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const ra = await claim(alice)
    const rm = await claim(mallory)
    expect(judgeFirstClaim(ra, [{ peer: 'a' }, { peer: 'b' }], NOW).accept).toBe(true)
    expect(judgeFirstClaim(ra, [], NOW).accept).toBe(true)
    const split = [{ peer: 'a', record: rm }, { peer: 'b' }]
    expect(judgeFirstClaim(ra, split, NOW).accept).toBe(true) // 1 of 2 is not a majority
    const own = [
      { peer: 'a', record: ra },
      { peer: 'b', record: ra },
    ]
    expect(judgeFirstClaim(ra, own, NOW).accept).toBe(true)
  })
})
