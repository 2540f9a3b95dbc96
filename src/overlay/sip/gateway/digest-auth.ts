/**
 * HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616,
 * RFC 8760): the gateway's proof that a request comes from the user's own
 * phone and not from another local process.
 *
 * - Algorithms MD5 and SHA-256 (and their -sess forms), qop=auth; a request
 *   without qop (RFC 2069 style) is accepted for old phones.
 * - Nonces are stateless: base64url(timestamp ‖ HMAC-SHA-256(secret, timestamp ‖
 *   realm)) with a per-process secret. A nonce whose MAC checks but which is
 *   older than `nonceTtlMs` is *stale*: the client knew the password, so it is
 *   challenged again with `stale=true` (RFC 2617 §3.2.1) and retries silently.
 * - The digest-uri is not compared with the Request-URI: phones and sipp differ
 *   in what they put there, and a replay would need a capture of loopback traffic.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export type DigestAlgorithm = 'SHA-256' | 'MD5' | 'SHA-256-sess' | 'MD5-sess'

export const DEFAULT_NONCE_TTL_MS = 5 * 60_000
/**
 * RFC 8760 §2.4: one challenge per algorithm, most preferred first. MD5 comes
 * first on purpose: many phones and sipp 3.6 answer only the first challenge
 * and know only MD5, and the threat here is another local process without the
 * password, not an eavesdropper on loopback (who could read the password file
 * anyway). Clients that pick SHA-256 get it.
 */
export const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256']

const HASH: Record<string, 'md5' | 'sha256'> = {
  md5: 'md5',
  'md5-sess': 'md5',
  'sha-256': 'sha256',
  'sha-256-sess': 'sha256',
}

export interface DigestParams {
  username: string
  realm: string
  password: string
  method: string
  uri: string
  nonce: string
  algorithm?: string
  qop?: string
  nc?: string
  cnonce?: string
}

function h(alg: 'md5' | 'sha256', s: string): string {
  return createHash(alg).update(s, 'utf8').digest('hex')
}

/**
 * The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1); undefined for an
 * algorithm we do not implement. Only qop=auth (no auth-int: no body hashing).
 */
export function digestResponse(p: DigestParams): string | undefined {
  const algName = (p.algorithm ?? 'MD5').toLowerCase()
  const alg = HASH[algName]
  if (alg == null) return undefined
  let ha1 = h(alg, `${p.username}:${p.realm}:${p.password}`)
  if (algName.endsWith('-sess')) ha1 = h(alg, `${ha1}:${p.nonce}:${p.cnonce ?? ''}`)
  const ha2 = h(alg, `${p.method}:${p.uri}`)
  if (p.qop == null) return h(alg, `${ha1}:${p.nonce}:${ha2}`)
  return h(alg, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`)
}

/**
 * Parse a credentials value `Digest k=v, k="v", ...` (RFC 2617 §3.2.2, RFC 3261
 * §25.1 digest-response). Returns undefined when the scheme is not Digest or
 * the parameter list is malformed. Names are lower-cased.
 */
export function parseDigestCredentials(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+/i.exec(value)
  if (m == null) return undefined
  const out = new Map<string, string>()
  const s = value
  let i = m[0].length
  while (i < s.length) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++
    if (i >= s.length) break
    const nameStart = i
    while (i < s.length && /[A-Za-z0-9_-]/.test(s[i]!)) i++
    const name = s.slice(nameStart, i).toLowerCase()
    while (i < s.length && /\s/.test(s[i]!)) i++
    if (name === '' || s[i] !== '=') return undefined
    i++
    while (i < s.length && /\s/.test(s[i]!)) i++
    let v = ''
    if (s[i] === '"') {
      i++
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++
        v += s[i]
        i++
      }
      if (s[i] !== '"') return undefined
      i++
    } else {
      const vs = i
      while (i < s.length && !/[\s,]/.test(s[i]!)) i++
      v = s.slice(vs, i)
    }
    if (out.has(name)) return undefined // RFC 7616 §3.4: each directive at most once
    out.set(name, v)
  }
  return out
}

export type DigestVerdict =
  /** Good credentials. */
  | { kind: 'ok'; username: string }
  /** No Digest credentials for our realm: challenge. */
  | { kind: 'missing' }
  /** The client knows the password but the nonce expired: challenge with stale=true. */
  | { kind: 'stale' }
  /** Wrong user, password, nonce or syntax. */
  | { kind: 'bad'; why: string }

export interface DigestAuthenticatorInit {
  realm: string
  nonceTtlMs?: number
  algorithms?: readonly DigestAlgorithm[]
  /** HMAC key for nonces; random per process by default. */
  secret?: Uint8Array
  now?: () => number
}

export class DigestAuthenticator {
  readonly realm: string
  private readonly secret: Uint8Array
  private readonly ttl: number
  private readonly algorithms: readonly DigestAlgorithm[]
  private readonly now: () => number

  constructor(init: DigestAuthenticatorInit) {
    this.realm = init.realm
    this.secret = init.secret ?? randomBytes(32)
    this.ttl = init.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS
    this.algorithms = init.algorithms ?? DEFAULT_ALGORITHMS
    this.now = init.now ?? Date.now
  }

  /** A fresh stateless nonce. */
  nonce(at: number = this.now()): string {
    const ts = Buffer.alloc(8)
    ts.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(at))))
    return Buffer.concat([ts, this.mac(ts)]).toString('base64url')
  }

  /**
   * The challenge header values, one per algorithm (RFC 8760 §2.4), for
   * WWW-Authenticate (401, REGISTER) or Proxy-Authenticate (407) (RFC 3261 §22.1-§22.3).
   */
  challenge(stale = false): string[] {
    const nonce = this.nonce()
    return this.algorithms.map(
      (alg) =>
        `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"` +
        (stale ? ', stale=true' : ''),
    )
  }

  /**
   * Check the credentials in `headerValues` (every Authorization or
   * Proxy-Authorization field of the request) for `method` against the expected
   * user and password. Credentials for other realms are ignored (§22.4).
   */
  verify(
    method: string,
    headerValues: readonly string[],
    username: string,
    password: string,
  ): DigestVerdict {
    let creds: Map<string, string> | undefined
    let malformed = false
    for (const v of headerValues) {
      const c = parseDigestCredentials(v)
      if (c == null) {
        if (/^\s*Digest\b/i.test(v)) malformed = true
        continue
      }
      if (c.get('realm') === this.realm) {
        creds = c
        break
      }
    }
    if (creds == null)
      return malformed ? { kind: 'bad', why: 'malformed credentials' } : { kind: 'missing' }
    const get = (k: string): string | undefined => creds.get(k)
    const user = get('username')
    const nonce = get('nonce')
    const uri = get('uri')
    const response = get('response')
    if (user == null || nonce == null || uri == null || response == null)
      return { kind: 'bad', why: 'incomplete credentials' }
    const alg = get('algorithm') ?? 'MD5'
    if (!this.algorithms.some((a) => a.toLowerCase() === alg.toLowerCase()))
      return { kind: 'bad', why: `algorithm ${alg} was not offered` }
    const qop = get('qop')
    if (qop != null && qop.toLowerCase() !== 'auth') return { kind: 'bad', why: `qop ${qop}` }
    if (qop != null && (get('nc') == null || get('cnonce') == null))
      return { kind: 'bad', why: 'qop without nc/cnonce' }
    const age = this.nonceAge(nonce)
    if (age == null) return { kind: 'bad', why: 'nonce not issued by us' }
    if (user !== username) return { kind: 'bad', why: `unknown user ${user.slice(0, 64)}` }
    const expected = digestResponse({
      username: user,
      realm: this.realm,
      password,
      method,
      uri,
      nonce,
      algorithm: alg,
      ...(qop != null ? { qop, nc: get('nc')!, cnonce: get('cnonce')! } : {}),
    })
    if (expected == null || !safeEqualHex(expected, response.toLowerCase()))
      return { kind: 'bad', why: 'wrong password' }
    // Checked last: only a client that knows the password is told "stale" (§3.2.1).
    if (age > this.ttl || age < -60_000) return { kind: 'stale' }
    return { kind: 'ok', username: user }
  }

  /** Milliseconds since the nonce was issued, or undefined if its MAC does not check. */
  private nonceAge(nonce: string): number | undefined {
    let raw: Buffer
    try {
      raw = Buffer.from(nonce, 'base64url')
    } catch {
      return undefined
    }
    if (raw.length !== 8 + 16) return undefined
    const ts = raw.subarray(0, 8)
    if (!timingSafeEqual(raw.subarray(8), this.mac(ts))) return undefined
    return this.now() - Number(ts.readBigUInt64BE())
  }

  private mac(ts: Uint8Array): Buffer {
    return createHmac('sha256', this.secret)
      .update(ts)
      .update(this.realm, 'utf8')
      .digest()
      .subarray(0, 16)
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}
