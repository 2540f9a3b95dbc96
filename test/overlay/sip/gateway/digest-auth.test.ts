/**
 * Digest authentication of the gateway: the request-digest against the RFCs'
 * worked examples (RFC 2617 §3.5 for MD5, RFC 7616 §3.9.1 for MD5 and
 * SHA-256), and challenge/verify round trips: good, wrong password, wrong user,
 * forged and stale nonces (expired, or from before a restart with the same
 * kept key), algorithms not offered, other realms; the default single MD5
 * challenge and the `--sip-digest` parser.
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ALGORITHMS,
  DigestAuthenticator,
  DigestOptionError,
  digestResponse,
  parseDigestCredentials,
  parseDigestOption,
} from '../../../../src/overlay/sip/gateway/digest-auth.js'
import type { DigestAlgorithm } from '../../../../src/overlay/sip/gateway/digest-auth.js'

describe('digestResponse (known answers)', () => {
  it('matches RFC 2617 §3.5 (MD5, qop=auth)', () => {
    expect(
      digestResponse({
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1')
  })

  const rfc7616 = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  }

  it('matches RFC 7616 §3.9.1 (MD5 and SHA-256)', () => {
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    )
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    )
  })

  it('has no answer for an algorithm it does not implement', () => {
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-512-256' })).toBeUndefined()
  })
})

describe('parseDigestCredentials', () => {
  it('reads quoted and token values, with escapes and odd spacing', () => {
    const c = parseDigestCredentials(
      'Digest username="a\\"b" , realm = "kaiwa",nonce="n", uri="sip:kaiwa", response="00", nc=00000001',
    )
    expect(c?.get('username')).toBe('a"b')
    expect(c?.get('realm')).toBe('kaiwa')
    expect(c?.get('nc')).toBe('00000001')
  })

  it('rejects other schemes, unterminated quotes and repeated directives', () => {
    expect(parseDigestCredentials('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toBeUndefined()
    expect(parseDigestCredentials('Digest username="open')).toBeUndefined()
    expect(parseDigestCredentials('Digest realm="a", realm="b"')).toBeUndefined()
  })
})

/** What a phone sends back for a challenge (RFC 2617 §3.2.2). */
function answer(
  challenge: string,
  opts: { user?: string; password?: string; method?: string; algorithm?: string } = {},
): string {
  const realm = /realm="([^"]+)"/.exec(challenge)![1]!
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!
  const algorithm = opts.algorithm ?? /algorithm=([\w-]+)/.exec(challenge)![1]!
  const p = {
    username: opts.user ?? 'alice',
    realm,
    password: opts.password ?? 'secret',
    method: opts.method ?? 'REGISTER',
    uri: 'sip:kaiwa',
    nonce,
    algorithm,
    qop: 'auth',
    nc: '00000001',
    cnonce: 'abcdef',
  }
  const response = digestResponse(p)
  return (
    `Digest username="${p.username}", realm="${realm}", nonce="${nonce}", uri="${p.uri}", ` +
    `response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="abcdef"`
  )
}

describe('parseDigestOption (--sip-digest)', () => {
  it('maps md5, sha256 and both to the challenges, MD5 first for both', () => {
    expect(parseDigestOption('md5')).toEqual(['MD5'])
    expect(parseDigestOption('sha256')).toEqual(['SHA-256'])
    expect(parseDigestOption(' BOTH ')).toEqual(['MD5', 'SHA-256'])
  })

  it('refuses anything else with a named error', () => {
    for (const bad of ['', 'sha512', 'md5,sha256', 'x'.repeat(500)]) {
      expect(() => parseDigestOption(bad)).toThrow(DigestOptionError)
    }
    try {
      parseDigestOption('sha1')
    } catch (err) {
      expect(err).toMatchObject({ name: 'DigestOptionError', code: 'invalid_input' })
      expect((err as Error).message).toMatch(/md5, sha256, both .*"sha1"/)
    }
  })
})

describe('DigestAuthenticator', () => {
  let clock = 1_700_000_000_000
  const auth = new DigestAuthenticator({
    realm: 'kaiwa',
    algorithms: parseDigestOption('both'),
    now: () => clock,
  })

  it('offers one MD5 challenge with qop=auth by default (libre/baresip take nothing else)', () => {
    expect(DEFAULT_ALGORITHMS).toEqual(['MD5'])
    const ch = new DigestAuthenticator({ realm: 'kaiwa' }).challenge()
    expect(ch).toEqual([
      expect.stringMatching(/^Digest realm="kaiwa", nonce="[\w-]+", algorithm=MD5, qop="auth"$/),
    ])
  })

  it('with both, offers MD5 first (for clients that read only the first), then SHA-256', () => {
    const ch = auth.challenge()
    expect(ch).toHaveLength(2)
    expect(ch[0]).toMatch(/^Digest realm="kaiwa", nonce="[\w-]+", algorithm=MD5, qop="auth"$/)
    expect(ch[1]).toMatch(/algorithm=SHA-256/)
    expect(auth.challenge(true)[0]).toMatch(/, stale=true$/)
    const sha = new DigestAuthenticator({ realm: 'kaiwa', algorithms: ['SHA-256'] }).challenge()
    expect(sha).toEqual([expect.stringMatching(/algorithm=SHA-256/)])
  })

  for (const alg of ['SHA-256', 'MD5'] as DigestAlgorithm[]) {
    it(`accepts the right password with ${alg} and refuses a wrong one`, () => {
      const ch = auth.challenge().find((c) => c.includes(`algorithm=${alg},`))!
      expect(auth.verify('REGISTER', [answer(ch)], 'alice', 'secret')).toEqual({
        kind: 'ok',
        username: 'alice',
      })
      expect(
        auth.verify('REGISTER', [answer(ch, { password: 'guess' })], 'alice', 'secret'),
      ).toEqual({
        kind: 'bad',
        why: 'wrong password',
      })
    })
  }

  it('refuses another user, another method, a forged nonce and an algorithm not offered', () => {
    const ch = auth.challenge()[0]!
    expect(auth.verify('REGISTER', [answer(ch, { user: 'mallory' })], 'alice', 'secret').kind).toBe(
      'bad',
    )
    // The digest covers the method (A2 = method:uri).
    expect(auth.verify('INVITE', [answer(ch)], 'alice', 'secret').kind).toBe('bad')
    const forged = ch.replace(/nonce="([\w-]+)"/, (_m, n: string) => {
      const raw = Buffer.from(n, 'base64url')
      raw[12]! ^= 1 // one bit of the MAC
      return `nonce="${raw.toString('base64url')}"`
    })
    expect(auth.verify('REGISTER', [answer(forged)], 'alice', 'secret')).toMatchObject({
      kind: 'bad',
      why: 'nonce not issued by us',
    })
    const md5only = new DigestAuthenticator({ realm: 'kaiwa', algorithms: ['MD5'] })
    const c2 = md5only.challenge()[0]!
    expect(
      md5only.verify('REGISTER', [answer(c2, { algorithm: 'SHA-256' })], 'alice', 'secret'),
    ).toMatchObject({
      kind: 'bad',
    })
  })

  it('treats no credentials, or credentials for another realm, as missing', () => {
    expect(auth.verify('REGISTER', [], 'alice', 'secret')).toEqual({ kind: 'missing' })
    const other = new DigestAuthenticator({ realm: 'elsewhere' }).challenge()[0]!
    expect(auth.verify('REGISTER', [answer(other)], 'alice', 'secret')).toEqual({ kind: 'missing' })
    expect(auth.verify('REGISTER', ['Bearer xyz'], 'alice', 'secret')).toEqual({ kind: 'missing' })
  })

  it('says stale (only to a client that knows the password) once a nonce is 5 minutes old', () => {
    const ch = auth.challenge()[0]!
    clock += 4 * 60_000
    expect(auth.verify('REGISTER', [answer(ch)], 'alice', 'secret').kind).toBe('ok')
    clock += 2 * 60_000
    expect(auth.verify('REGISTER', [answer(ch)], 'alice', 'secret')).toEqual({ kind: 'stale' })
    expect(
      auth.verify('REGISTER', [answer(ch, { password: 'nope' })], 'alice', 'secret').kind,
    ).toBe('bad')
    // A nonce from another process (another secret) does not verify at all.
    const other = new DigestAuthenticator({ realm: 'kaiwa', now: () => clock }).challenge()[0]!
    expect(auth.verify('REGISTER', [answer(other)], 'alice', 'secret').kind).toBe('bad')
  })

  it('says stale for a fresh nonce from before a restart (same kept key), bad for a forged one', () => {
    const secret = new Uint8Array(32).fill(7)
    const now = (): number => clock
    const before = new DigestAuthenticator({ realm: 'kaiwa', secret, now })
    const ch = before.challenge()[0]!
    // The restart: the same key from the datastore, a new epoch.
    const after = new DigestAuthenticator({ realm: 'kaiwa', secret, now })
    expect(after.verify('REGISTER', [answer(ch)], 'alice', 'secret')).toEqual({ kind: 'stale' })
    expect(after.challenge(true)[0]).toMatch(/, stale=true$/)
    // Only a client that knows the password hears "stale".
    expect(
      after.verify('REGISTER', [answer(ch, { password: 'nope' })], 'alice', 'secret'),
    ).toMatchObject({ kind: 'bad', why: 'wrong password' })
    // A nonce made with another key (or altered) is not ours: plain bad.
    const forged = new DigestAuthenticator({
      realm: 'kaiwa',
      secret: new Uint8Array(32).fill(8),
      now,
    }).challenge()[0]!
    expect(after.verify('REGISTER', [answer(forged)], 'alice', 'secret')).toMatchObject({
      kind: 'bad',
      why: 'nonce not issued by us',
    })
    expect(
      after.verify('REGISTER', [answer(ch.replace(/nonce="/, 'nonce="%'))], 'alice', 'secret'),
    ).toMatchObject({ kind: 'bad', why: 'nonce not issued by us' })
    // The same epoch (no restart) takes its own fresh nonce.
    const c2 = after.challenge()[0]!
    expect(after.verify('REGISTER', [answer(c2)], 'alice', 'secret').kind).toBe('ok')
  })

  it('refuses a nonce key shorter than 16 bytes', () => {
    expect(() => new DigestAuthenticator({ realm: 'kaiwa', secret: new Uint8Array(8) })).toThrow(
      RangeError,
    )
  })
})
