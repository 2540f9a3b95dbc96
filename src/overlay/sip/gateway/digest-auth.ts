/**
 * HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616,
 * RFC 8760): the gateway's proof that a request comes from the user's own
 * phone and not from another local process.
 *
 * - Algorithms MD5 and SHA-256 (and their -sess forms), qop=auth; a request
 *   without qop (RFC 2069 style) is accepted for old phones.
 * - One MD5 challenge by default: Debian's baresip 1.0.0 (libre 1.1) gives up
 *   (ENOSYS) on any challenge that is not MD5, even when an MD5 one is also
 *   offered, and many phones know nothing else. SHA-256 is there when asked
 *   for (`--sip-digest sha256|both`, see parseDigestOption).
 * - Nonces are stateless: base64url(timestamp ‖ epoch ‖ HMAC-SHA-256(secret,
 *   timestamp ‖ epoch ‖ realm)). The secret is kept in the node's datastore
 *   (nonce-key.ts), so a nonce issued before a restart still verifies; the
 *   epoch is new at each start. A nonce whose MAC checks but which is older
 *   than `nonceTtlMs`, or from an earlier epoch, is *stale* (RFC 7616 §3.3,
 *   §3.4; RFC 2617 §3.2.1): the client knew the password, so it is challenged
 *   again with `stale=true` and retries silently with no prompt. A nonce whose
 *   MAC does not check is forged or from another key: a plain challenge.
 * - The digest-uri is not compared with the Request-URI: phones and sipp differ
 *   in what they put there, and a replay would need a capture of loopback traffic.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { KaiwaError } from '../../../shared/errors.js'

export type DigestAlgorithm = 'SHA-256' | 'MD5' | 'SHA-256-sess' | 'MD5-sess'

export const DEFAULT_NONCE_TTL_MS = 5 * 60_000
const EPOCH_BYTES = 4
const MAC_BYTES = 16
/**
 * One MD5 challenge (RFC 2617; RFC 7616 §3.3 with qop=auth). The threat here
 * is another local process without the password, not an eavesdropper on
 * loopback (who could read the password file anyway), and a second,
 * SHA-256, challenge makes libre-based phones (baresip) fail outright.
 */
export const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5']

/** What `--sip-digest` and the setting accept. */
export type DigestOption = 'md5' | 'sha256' | 'both'
export const DIGEST_OPTIONS: readonly DigestOption[] = ['md5', 'sha256', 'both']

/** A `--sip-digest` value that is none of md5, sha256, both. */
export class DigestOptionError extends KaiwaError {
  constructor(readonly value: string) {
    super(
      `--sip-digest must be one of ${DIGEST_OPTIONS.join(', ')} (got ${JSON.stringify(value.slice(0, 40))})`,
      'invalid_input',
    )
    this.name = 'DigestOptionError'
  }
}

/**
 * The challenges for a `--sip-digest` value, in the order they are sent.
 * `both` puts MD5 first (RFC 8760 §2.4 lets the server order them): sipp and
 * most phones that read only the first challenge know only MD5, and a client
 * that prefers SHA-256 picks it from the list. libre (baresip) still fails on
 * `both` whatever the order (it stops at the first non-MD5 challenge it
 * meets, see the baresip test), which is why `md5` is the default.
 */
export function parseDigestOption(value: string): readonly DigestAlgorithm[] {
  switch (value.trim().toLowerCase()) {
    case 'md5':
      return ['MD5']
    case 'sha256':
    case 'sha-256':
      return ['SHA-256']
    case 'both':
      return ['MD5', 'SHA-256']
    default:
      throw new DigestOptionError(value)
  }
}

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
  /**
   * HMAC key for nonces (at least 16 bytes). Random per process by default;
   * the gateway passes the key kept in the datastore (nonce-key.ts) so nonces
   * from before a restart are recognised, and answered `stale=true`.
   */
  secret?: Uint8Array
  /** This start's epoch (4 bytes); random by default. Nonces of other epochs are stale. */
  epoch?: Uint8Array
  now?: () => number
}

export class DigestAuthenticator {
  readonly realm: string
  private readonly secret: Uint8Array
  private readonly epoch: Buffer
  private readonly ttl: number
  private readonly algorithms: readonly DigestAlgorithm[]
  private readonly now: () => number

  constructor(init: DigestAuthenticatorInit) {
    this.realm = init.realm
    this.secret = init.secret ?? randomBytes(32)
    if (this.secret.length < 16) throw new RangeError('a nonce key needs at least 16 bytes')
    this.epoch = Buffer.from(init.epoch ?? randomBytes(EPOCH_BYTES))
    if (this.epoch.length !== EPOCH_BYTES) throw new RangeError(`an epoch is ${EPOCH_BYTES} bytes`)
    this.ttl = init.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS
    this.algorithms = init.algorithms ?? DEFAULT_ALGORITHMS
    this.now = init.now ?? Date.now
  }

  /** A fresh stateless nonce: timestamp ‖ epoch ‖ MAC. */
  nonce(at: number = this.now()): string {
    const head = Buffer.alloc(8 + EPOCH_BYTES)
    head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(at))))
    this.epoch.copy(head, 8)
    return Buffer.concat([head, this.mac(head)]).toString('base64url')
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
    const issued = this.checkNonce(nonce)
    if (issued == null) return { kind: 'bad', why: 'nonce not issued by us' }
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
    // Checked last: only a client that knows the password is told "stale"
    // (RFC 7616 §3.3: the nonce was valid, "the client may wish to simply retry").
    const age = this.now() - issued.at
    if (!issued.thisEpoch || age > this.ttl || age < -60_000) return { kind: 'stale' }
    return { kind: 'ok', username: user }
  }

  /** When the nonce was issued and whether in this epoch; undefined if its MAC does not check. */
  private checkNonce(nonce: string): { at: number; thisEpoch: boolean } | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(nonce)) return undefined
    const raw = Buffer.from(nonce, 'base64url')
    const headLength = 8 + EPOCH_BYTES
    if (raw.length !== headLength + MAC_BYTES) return undefined
    const head = raw.subarray(0, headLength)
    if (!timingSafeEqual(raw.subarray(headLength), this.mac(head))) return undefined
    return {
      at: Number(head.readBigUInt64BE(0)),
      thisEpoch: head.subarray(8).equals(this.epoch),
    }
  }

  private mac(head: Uint8Array): Buffer {
    return createHmac('sha256', this.secret)
      .update(head)
      .update(this.realm, 'utf8')
      .digest()
      .subarray(0, MAC_BYTES)
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}
