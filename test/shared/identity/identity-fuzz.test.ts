/**
 * Garbage in the Identity header: random strings and mutations of a real
 * value must never throw and must always end in a clean 438/403 (or, when a
 * mutation happens to be harmless, in the original claims).
 */
import { describe, expect, it } from 'vitest'
import {
  createIdentityHeader,
  verifyIdentityHeader,
} from '../../../src/shared/identity/sip-identity.js'
import { parseIdentityField } from '../../../src/shared/identity/identity-header.js'
import { decodeBase64urlStrict, splitPassport } from '../../../src/shared/identity/passport.js'
import { ALICE_SEED, NOW, keyFromSeed, request } from './fixtures.js'

/** mulberry32: a small seeded PRNG, so a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.;=<>:"\\ \t+/%,{}[]é\u0000\u{1F600}'

describe('identity fuzz', async () => {
  const key = await keyFromSeed(ALICE_SEED)
  const base = request()
  const good = await createIdentityHeader(base, { accountKey: key, name: 'alice', now: NOW })
  const opts = { publicKeyFor: () => key.publicKey.raw, now: NOW, replayCache: null }
  const rand = prng(0x6b616977)
  const pick = (s: string): string => s[Math.floor(rand() * s.length)]!
  const randomString = (n: number): string =>
    Array.from({ length: n }, () => pick(ALPHABET)).join('')

  function mutate(s: string): string {
    const chars = [...s]
    const edits = 1 + Math.floor(rand() * 4)
    for (let e = 0; e < edits; e++) {
      const i = Math.floor(rand() * (chars.length + 1))
      const op = rand()
      if (op < 0.4) chars[i] = pick(ALPHABET)
      else if (op < 0.7) chars.splice(i, 1)
      else if (op < 0.9) chars.splice(i, 0, pick(ALPHABET))
      else chars.splice(i, Math.floor(rand() * 40)) // cut a run
    }
    return chars.join('').replace(/[\r\n]/g, '')
  }

  async function checkClean(value: string): Promise<void> {
    const req = request()
    req.headers.set('Identity', value)
    const r = await verifyIdentityHeader(req, opts)
    if (r.ok) {
      // Only harmless edits (e.g. whitespace, parameter case) may still verify.
      expect(r.claims.cseq.seq).toBe(314159)
      expect(parseIdentityField(value).token).toBe(parseIdentityField(good).token)
    } else {
      expect([438, 403]).toContain(r.code)
      expect(typeof r.detail).toBe('string')
    }
  }

  it('3 000 random strings never throw and always fail cleanly', async () => {
    for (let i = 0; i < 3000; i++) await checkClean(randomString(Math.floor(rand() * 300)))
  })

  it('3 000 mutations of a valid value never throw and never verify with other claims', async () => {
    for (let i = 0; i < 3000; i++) await checkClean(mutate(good))
  })

  it('structured garbage: wrong part counts, bad base64, non-JSON, hostile JSON, huge values', async () => {
    const [h, c, s] = good.split(';')[0]!.split('.') as [string, string, string]
    const params = good.slice(good.indexOf(';'))
    const enc = (x: string) => Buffer.from(x).toString('base64url')
    const values = [
      '',
      ';',
      params,
      `${h}.${c}${params}`,
      `${h}.${c}.${s}.${s}${params}`,
      `${h}=.${c}.${s}${params}`,
      `${h}.${c}.${s}${params};alg=EdDSA`,
      `${h}.${c}.${s};info=<kaiwa:key:aaaa-aaaa-aaaa-aaaa>;alg=EdDSA;ppt=kaiwa`,
      `${h}.${c}.${s};info=<https://x/cert>;alg=ES256;ppt=shaken`,
      `${h}.${c}.${s};info=<kaiwa:key:${'a'.repeat(5000)}>;alg=EdDSA;ppt=kaiwa`,
      `${h}.${enc('not json')}.${s}${params}`,
      `${h}.${enc('[1,2]')}.${s}${params}`,
      `${h}.${enc('{"iat":"1700000000"}')}.${s}${params}`,
      `${h}.${enc('{"iat":1e400}')}.${s}${params}`,
      `${h}.${enc('{"__proto__":{"iat":1},"iat":1700000000}')}.${s}${params}`,
      `${h}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.${s}${params}`,
      `${enc('{"alg":"none"}')}.${c}.${s}${params}`,
      `${h}.${c}.${s.slice(0, -1)}${params}`,
      `${h}.${c}.${'A'.repeat(20_000)}${params}`,
      `${h}.${c}.${s}${params}`.repeat(20),
    ]
    for (const v of values) await checkClean(v)
  })

  it('non-canonical base64url spellings of the same bytes are refused', () => {
    const [, , s] = good.split(';')[0]!.split('.') as [string, string, string]
    // 64 bytes → 86 characters; the last one carries 4 padding bits that must be zero.
    const last = s[s.length - 1]!
    const sibling = String.fromCharCode(last.charCodeAt(0) + 1)
    expect(() => decodeBase64urlStrict(s.slice(0, -1) + sibling, 'sig')).toThrow()
    expect(() => decodeBase64urlStrict(`${s}==`, 'sig')).toThrow()
    expect(() => splitPassport(`a.b.${s}`)).toThrow()
  })
})
