import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  CLAIM_POW_BITS,
  CLAIM_STAMP_BYTES,
  checkPowBits,
  leadingZeroBits,
  mintClaimStamp,
  stampWork,
  verifyClaimStamp,
} from '../../../src/shared/records/claim-pow.js'

describe('claim proof-of-work stamps', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(new Uint8Array([0x80]))).toBe(0)
    expect(leadingZeroBits(new Uint8Array([0x01]))).toBe(7)
    expect(leadingZeroBits(new Uint8Array([0, 0, 0x10]))).toBe(19)
    expect(leadingZeroBits(new Uint8Array([0, 0]))).toBe(16)
  })

  it('mints a stamp that verifies for its name and key only', async () => {
    const key = (await generateKeyPair('Ed25519')).publicKey.raw
    const other = (await generateKeyPair('Ed25519')).publicKey.raw
    const stamp = await mintClaimStamp('alice', key, 12)
    expect(stamp).toHaveLength(CLAIM_STAMP_BYTES)
    expect(stampWork('alice', key, stamp)).toBeGreaterThanOrEqual(12)
    expect(verifyClaimStamp('alice', key, stamp, 12)).toBe(true)
    // bound to the name and the key: 2^-12 chance each of a false pass; 2^-24 for both
    expect(
      verifyClaimStamp('alicf', key, stamp, 12) && verifyClaimStamp('alice', other, stamp, 12),
    ).toBe(false)
  })

  it('mints with an injected SHA-256 and the portable check agrees', async () => {
    const { hash } = await import('node:crypto')
    const key = (await generateKeyPair('Ed25519')).publicKey.raw
    let calls = 0
    const stamp = await mintClaimStamp('bob', key, 10, {
      sha256: (d) => {
        calls++
        return hash('sha256', d, 'buffer')
      },
    })
    expect(calls).toBeGreaterThan(0)
    expect(verifyClaimStamp('bob', key, stamp, 10)).toBe(true)
  })

  it('treats malformed stamps as no work and rejects bad difficulty settings', () => {
    const key = new Uint8Array(32)
    expect(stampWork('alice', key, new Uint8Array(7))).toBe(0)
    expect(verifyClaimStamp('alice', key, new Uint8Array(8), 0)).toBe(true)
    expect(() => checkPowBits(-1)).toThrow(RangeError)
    expect(() => checkPowBits(1.5)).toThrow(RangeError)
    expect(() => checkPowBits(41)).toThrow(RangeError)
    expect(checkPowBits(CLAIM_POW_BITS)).toBe(CLAIM_POW_BITS)
  })

  it('yields while it works and stops when aborted', async () => {
    const key = new Uint8Array(32)
    let yields = 0
    const ctl = new AbortController()
    const mint = mintClaimStamp('alice', key, 40, {
      signal: ctl.signal,
      yieldFn: async () => {
        if (++yields === 3) ctl.abort()
      },
    })
    await expect(mint).rejects.toThrow()
    expect(yields).toBe(3)
  })
})
