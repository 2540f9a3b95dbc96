/**
 * SIP Identity with account-key PASSporTs: round trip, every covered field
 * tampered, SDP fingerprints, missing header, freshness, replay, wrong key,
 * and the cost of sign + verify.
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { fingerprint } from '../../../src/shared/records/contact-record.js'
import { ReplayCache } from '../../../src/shared/identity/replay-cache.js'
import {
  IDENTITY_MAX_SKEW_MS,
  IdentityKeyError,
  IdentityRequestError,
  addDateHeader,
  addIdentityHeader,
  createIdentityHeader,
  verifyIdentityHeader,
  type IdentityResult,
  type VerifyIdentityOptions,
} from '../../../src/shared/identity/sip-identity.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import {
  ALICE_SEED,
  BOB_SEED,
  FP_A,
  FP_B,
  NOW,
  NOW_DATE,
  keyFromSeed,
  request,
  sdp,
  withBody,
  withHeader,
} from './fixtures.js'

const alice = await keyFromSeed(ALICE_SEED)
const bob = await keyFromSeed(BOB_SEED)
const keys: Record<string, Uint8Array> = { alice: alice.publicKey.raw, bob: bob.publicKey.raw }

function opts(extra: Partial<VerifyIdentityOptions> = {}): VerifyIdentityOptions {
  return { publicKeyFor: (name) => keys[name], now: NOW, replayCache: new ReplayCache(), ...extra }
}

async function signed(req: SipRequest = request(), now = NOW): Promise<SipRequest> {
  req.headers.set(
    'Identity',
    await createIdentityHeader(req, { accountKey: alice, name: 'alice', now }),
  )
  return req
}

function expectFailure(r: IdentityResult, code: number, detail?: RegExp): void {
  expect(r.ok).toBe(false)
  if (r.ok) return
  expect(r.code).toBe(code)
  if (detail) expect(r.detail).toMatch(detail)
}

describe('createIdentityHeader / verifyIdentityHeader', () => {
  it('round-trips an INVITE with SDP and returns what the token proves', async () => {
    const req = await signed()
    const value = req.headers.get('Identity')!
    expect(value).toMatch(
      /^[\w-]+\.[\w-]+\.[\w-]+;info=<kaiwa:key:[a-z2-7-]{19}>;alg=EdDSA;ppt=kaiwa$/,
    )
    expect(value).toContain(`<kaiwa:key:${fingerprint(alice.publicKey.raw)}>`)
    const r = await verifyIdentityHeader(req, opts())
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.claims).toMatchObject({
      name: 'alice',
      orig: 'sip:alice@kaiwa',
      dest: 'sip:bob@kaiwa',
      callId: 'a84b4c76e66710@ua.invalid',
      cseq: { seq: 314159, method: 'INVITE' },
      date: NOW_DATE,
      iat: NOW / 1000,
      kid: fingerprint(alice.publicKey.raw),
      mky: [{ alg: 'sha-256', dig: FP_A.split(' ')[1] }],
    })
    expect(r.claims.publicKey).toEqual(alice.publicKey.raw)
  })

  it('round-trips requests without a body, and a MESSAGE whose body is covered by digest', async () => {
    for (const req of [
      request({ method: 'BYE' }),
      request({ method: 'MESSAGE', body: 'hello bob', contentType: 'text/plain' }),
    ]) {
      expect((await verifyIdentityHeader(await signed(req), opts())).ok).toBe(true)
    }
  })

  it('addIdentityHeader adds the Date the token needs, then the Identity', async () => {
    const req = request({ date: null })
    await expect(
      createIdentityHeader(req, { accountKey: alice, name: 'alice', now: NOW }),
    ).rejects.toThrow(IdentityRequestError)
    await addIdentityHeader(req, { accountKey: alice, name: 'alice', now: NOW })
    expect(req.headers.get('Date')).toBe(NOW_DATE)
    expect((await verifyIdentityHeader(req, opts())).ok).toBe(true)
    // An existing Date is kept.
    const dated = request({ date: 'Tue, 14 Nov 2023 22:13:00 GMT' })
    addDateHeader(dated, NOW)
    expect(dated.headers.get('Date')).toBe('Tue, 14 Nov 2023 22:13:00 GMT')
  })

  it('refuses to sign for another name, with a stale Date, or with a non-Ed25519 key', async () => {
    const req = request()
    const sign = (o: object) =>
      createIdentityHeader(req, { accountKey: alice, name: 'alice', now: NOW, ...o })
    await expect(sign({ name: 'mallory' })).rejects.toThrow(/From user is alice/)
    await expect(sign({ now: NOW + IDENTITY_MAX_SKEW_MS + 1000 })).rejects.toThrow(
      IdentityRequestError,
    )
    const secp = await generateKeyPair('secp256k1')
    await expect(sign({ accountKey: secp })).rejects.toThrow(IdentityKeyError)
    const unnamed = request({ from: '<sip:kaiwa>;tag=1' })
    await expect(
      createIdentityHeader(unnamed, { accountKey: alice, name: 'alice', now: NOW }),
    ).rejects.toThrow(/does not name a user ID/)
  })
})

describe('tampering', () => {
  const tampered: Array<[string, (r: SipRequest) => SipRequest, RegExp]> = [
    ['From user', (r) => withHeader(r, 'From', '<sip:carol@kaiwa>;tag=1928301774'), /./],
    ['From host', (r) => withHeader(r, 'From', '<sip:alice@evil>;tag=1928301774'), /From/],
    ['To', (r) => withHeader(r, 'To', '<sip:carol@kaiwa>'), /To/],
    ['Call-ID', (r) => withHeader(r, 'Call-ID', 'other@ua.invalid'), /Call-ID/],
    ['CSeq number', (r) => withHeader(r, 'CSeq', '314160 INVITE'), /CSeq/],
    ['CSeq method', (r) => ({ ...withHeader(r, 'CSeq', '314159 BYE'), method: 'BYE' }), /CSeq/],
    ['Date', (r) => withHeader(r, 'Date', 'Tue, 14 Nov 2023 22:13:21 GMT'), /Date/],
    ['SDP fingerprint swapped', (r) => withBody(r, sdp([FP_B])), /SDP fingerprints/],
    ['SDP fingerprint added', (r) => withBody(r, sdp([FP_A, FP_B])), /SDP fingerprints/],
    ['SDP fingerprint removed', (r) => withBody(r, sdp([])), /SDP fingerprints/],
    ['SDP made plain text', (r) => withHeader(r, 'Content-Type', 'text/plain'), /./],
  ]
  for (const [what, edit, detail] of tampered) {
    it(`${what} → 438`, async () => {
      const r = await verifyIdentityHeader(edit(await signed()), opts())
      expectFailure(r, 438, detail)
    })
  }

  it('a changed MESSAGE body or Content-Type → 438', async () => {
    const msg = await signed(request({ method: 'MESSAGE', body: 'hi', contentType: 'text/plain' }))
    expectFailure(await verifyIdentityHeader(withBody(msg, 'ho'), opts()), 438, /body/)
    const html = withHeader(msg, 'Content-Type', 'text/html')
    expectFailure(await verifyIdentityHeader(html, opts()), 438, /body/)
  })

  it('a body added to a bodiless request → 438', async () => {
    const bye = await signed(request({ method: 'BYE' }))
    const r = await verifyIdentityHeader(withBody(bye, 'x'), opts())
    expectFailure(r, 438)
  })

  it('changes outside the token (Via, Request-URI, display name, tags, other SDP lines) still verify', async () => {
    const req = await signed()
    const moved: SipRequest = {
      ...withHeader(req, 'Via', 'SIP/2.0/TCP relay.invalid;branch=z9hG4bKother'),
      uri: 'sip:bob@kaiwa;gr=12D3KooWPeer;ua=b1',
    }
    moved.headers.set('From', '"Mallory" <sip:alice@KAIWA:5060>;tag=other')
    moved.body = new TextEncoder().encode(sdp().replace('c=IN IP4 0.0.0.0', 'c=IN IP4 10.0.0.1'))
    expect((await verifyIdentityHeader(moved, opts())).ok).toBe(true)
  })

  it('a signature from another key, or no known key → 438', async () => {
    const req = request()
    const v = await createIdentityHeader(withHeader(req, 'From', '<sip:bob@kaiwa>;tag=1'), {
      accountKey: bob,
      name: 'bob',
      now: NOW,
    })
    // Bob's token on a request that claims to be from alice.
    const forged = withHeader(withHeader(req, 'From', '<sip:bob@kaiwa>;tag=1'), 'Identity', v)
    forged.headers.set('From', '<sip:alice@kaiwa>;tag=1')
    expectFailure(await verifyIdentityHeader(forged, opts()), 438)
    // alice's token, but the directory says alice has another key.
    const signedReq = await signed()
    const wrongKey = opts({ publicKeyFor: () => bob.publicKey.raw })
    expectFailure(await verifyIdentityHeader(signedReq, wrongKey), 438, /signed by key/)
    const unknown = opts({ publicKeyFor: () => undefined })
    expectFailure(await verifyIdentityHeader(signedReq, unknown), 438, /no account key/)
  })

  it('a signature forged for the right kid → 438', async () => {
    const req = await signed()
    const value = req.headers.get('Identity')!
    const [h, c, s] = value.split(';')[0]!.split('.') as [string, string, string]
    const bad = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11)
    const r = await verifyIdentityHeader(
      withHeader(req, 'Identity', value.replace(`${h}.${c}.${s}`, `${h}.${c}.${bad}`)),
      opts(),
    )
    expectFailure(r, 438, /signature/)
  })
})

describe('SDP fingerprints (mky)', () => {
  it('SDP without fingerprints signs no mky; with them, every one is covered in canonical order', async () => {
    const none = await signed(request({ body: sdp([]) }))
    const r1 = await verifyIdentityHeader(none, opts())
    expect(r1.ok && r1.claims.mky).toEqual([])
    const payload = (req: SipRequest) =>
      JSON.parse(
        atob(req.headers.get('Identity')!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
      )
    expect(payload(none).mky).toBeUndefined()
    const both = await signed(request({ body: sdp([FP_B, FP_A, FP_B]) }))
    const r2 = await verifyIdentityHeader(both, opts())
    expect(r2.ok && r2.claims.mky.map((k) => k.dig)).toEqual(
      [FP_A, FP_B].map((f) => f.split(' ')[1]),
    )
    // Line order is not significant: the reordered SDP still verifies.
    const reordered = withBody(both, sdp([FP_A, FP_B]))
    expect((await verifyIdentityHeader(reordered, opts())).ok).toBe(true)
  })

  it('a fingerprint smuggled into a media section or with odd case is still covered', async () => {
    const req = await signed()
    const smuggled = sdp().replace('a=mid:0', `a=mid:0\r\nA=FINGERPRINT:${FP_B}`)
    expectFailure(await verifyIdentityHeader(withBody(req, smuggled), opts()), 438, /SDP/)
  })
})

describe('missing header, freshness, replay', () => {
  it('no Identity → 428 Use Identity Header; two → 438', async () => {
    const r = await verifyIdentityHeader(request(), opts())
    expect(r).toMatchObject({ ok: false, code: 428, reason: 'Use Identity Header' })
    const req = await signed()
    req.headers.add('Identity', req.headers.get('Identity')!)
    expectFailure(await verifyIdentityHeader(req, opts()), 438, /more than one/)
  })

  it('a missing or malformed Date → 438', async () => {
    const req = await signed()
    const noDate = withHeader(req, 'Date', NOW_DATE)
    noDate.headers.remove('Date')
    expectFailure(await verifyIdentityHeader(noDate, opts()), 438, /Date/)
    const bad = withHeader(req, 'Date', 'yesterday')
    expectFailure(await verifyIdentityHeader(bad, opts()), 438, /Date/)
  })

  it('a stale or future Date/iat → 403 Stale Date; the window edge is accepted', async () => {
    const req = await signed()
    for (const now of [NOW + IDENTITY_MAX_SKEW_MS + 1000, NOW - IDENTITY_MAX_SKEW_MS - 1000]) {
      const r = await verifyIdentityHeader(req, opts({ now }))
      expect(r).toMatchObject({ ok: false, code: 403, reason: 'Stale Date' })
    }
    expect((await verifyIdentityHeader(req, opts({ now: NOW + IDENTITY_MAX_SKEW_MS }))).ok).toBe(
      true,
    )
    const tight = opts({ now: NOW + 61_000, maxSkewMs: 60_000 })
    expectFailure(await verifyIdentityHeader(req, tight), 403)
  })

  it('an iat far from a fresh Date → 403 (signed with a stale clock, Date rewritten later)', async () => {
    const early = request({ date: 'Tue, 14 Nov 2023 21:50:00 GMT' })
    const value = await createIdentityHeader(early, {
      accountKey: alice,
      name: 'alice',
      now: NOW - 20 * 60_000,
    })
    const req = withHeader(request(), 'Identity', value)
    expectFailure(await verifyIdentityHeader(req, opts()), 403)
  })

  it('the same token twice → 403 Replayed Identity; a fresh token for the next CSeq passes', async () => {
    const cache = new ReplayCache()
    const req = await signed()
    expect((await verifyIdentityHeader(req, opts({ replayCache: cache }))).ok).toBe(true)
    const again = await verifyIdentityHeader(req, opts({ replayCache: cache, now: NOW + 1000 }))
    expect(again).toMatchObject({ ok: false, code: 403, reason: 'Replayed Identity' })
    const next = await signed(request({ cseq: '314160 INVITE' }))
    expect((await verifyIdentityHeader(next, opts({ replayCache: cache }))).ok).toBe(true)
    // A failed verification is not remembered: it cannot poison the cache.
    const other = await signed(request({ cseq: '314161 INVITE' }))
    const broken = withHeader(other, 'To', '<sip:carol@kaiwa>')
    expectFailure(await verifyIdentityHeader(broken, opts({ replayCache: cache })), 438)
    expect((await verifyIdentityHeader(other, opts({ replayCache: cache }))).ok).toBe(true)
    // With no cache, replay protection is off.
    expect((await verifyIdentityHeader(req, opts({ replayCache: null }))).ok).toBe(true)
  })

  it('errors from publicKeyFor propagate (a lookup failure is not a bad signature)', async () => {
    const req = await signed()
    const failing = opts({
      publicKeyFor: () => Promise.reject(new Error('DHT timeout')),
    })
    await expect(verifyIdentityHeader(req, failing)).rejects.toThrow('DHT timeout')
  })
})

describe('cost', () => {
  it('sign + verify each stay well under a millisecond (logged, not asserted)', async () => {
    const n = 500
    const batch = (from: number): SipRequest[] =>
      Array.from({ length: n }, (_, i) => request({ cseq: `${from + i} INVITE` }))
    // Warm the JIT on both paths first: a cold run measures the compiler, not the code.
    const cold = new ReplayCache()
    for (const r of batch(1))
      await verifyIdentityHeader(await signed(r), opts({ replayCache: cold }))
    const reqs = batch(n + 1)
    let t = performance.now()
    for (const r of reqs) await signed(r)
    const signMs = (performance.now() - t) / n
    const cache = new ReplayCache()
    t = performance.now()
    for (const r of reqs) {
      expect((await verifyIdentityHeader(r, opts({ replayCache: cache }))).ok).toBe(true)
    }
    const verifyMs = (performance.now() - t) / n
    // The bare ed25519 operations on the same machine, to read the figures against.
    const data = new Uint8Array(700)
    const sig = await alice.sign(data)
    t = performance.now()
    for (let i = 0; i < n; i++) await alice.sign(data)
    const bareSign = (performance.now() - t) / n
    t = performance.now()
    for (let i = 0; i < n; i++) await alice.publicKey.verify(data, sig)
    const bareVerify = (performance.now() - t) / n
    const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`
    console.log(
      `identity (n=${n}): sign ${us(signMs)}, verify ${us(verifyMs)} per request; ` +
        `bare ed25519 sign ${us(bareSign)}, verify ${us(bareVerify)}`,
    )
  })
})
