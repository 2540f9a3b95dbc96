/**
 * Long-term credential checks for the TURN server (RFC 8489 §9.2.4) with stateless nonces:
 * NONCE = hex(expiry ms) "-" base64url(HMAC-SHA256(nonceKey, expiry))[0..22]. A nonce with a bad
 * MAC or a past expiry is "no longer valid" and gets 438 Stale Nonce with a fresh one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { longTermKey } from './stun-message.js'
import type { DecodedStunMessage } from './stun-message.js'
import { checkTurnUsername, turnPassword } from './turn-credentials.js'
import { find } from './turn-helpers.js'

export type AuthResult =
  | { ok: true; username: string; key: Uint8Array }
  /** 400: MESSAGE-INTEGRITY without USERNAME/REALM/NONCE; 401: no MI, unknown user or bad MI. */
  | { ok: false; code: 400 | 401 | 438 }

export class NonceIssuer {
  /**
   * `key`: the HMAC key; the relay threads of one server share it (turn-cluster.ts), so a nonce
   * any of them issued is valid at all of them. Default: a random key of this issuer's own.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly key: Uint8Array = randomBytes(32),
  ) {}

  issue(now: number): string {
    const exp = (now + this.ttlMs).toString(16)
    return `${exp}-${this.mac(exp)}`
  }

  /** 'ok', or 'stale' for any nonce that is not one of ours or has expired. */
  check(nonce: string, now: number): 'ok' | 'stale' {
    // The MAC is base64url and may itself contain '-'; the hex expiry never does.
    const dash = nonce.indexOf('-')
    const exp = nonce.slice(0, Math.max(dash, 0))
    const mac = nonce.slice(dash + 1)
    if (dash < 1 || !/^[0-9a-f]+$/.test(exp)) return 'stale'
    const want = Buffer.from(this.mac(exp))
    const got = Buffer.from(mac)
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'stale'
    return parseInt(exp, 16) > now ? 'ok' : 'stale'
  }

  private mac(exp: string): string {
    return createHmac('sha256', this.key).update(exp).digest('base64url').slice(0, 22)
  }
}

const text = (msg: DecodedStunMessage, name: 'USERNAME' | 'REALM' | 'NONCE') =>
  find(msg, name)?.value

/**
 * RFC 8489 §9.2.4 in order: no MESSAGE-INTEGRITY → 401; MI without USERNAME, REALM or NONCE →
 * 400; NONCE not valid → 438; USERNAME not valid (unparseable/expired REST username, or wrong
 * realm) → 401; MI does not verify → 401. `verify` checks the MAC with the derived key.
 */
export function authenticate(
  msg: DecodedStunMessage,
  verify: (key: Uint8Array) => boolean,
  opts: { secret: string | Uint8Array; realm: string; nonces: NonceIssuer; now: number },
): AuthResult {
  if (!msg.integrity) return { ok: false, code: 401 }
  const username = text(msg, 'USERNAME')
  const realm = text(msg, 'REALM')
  const nonce = text(msg, 'NONCE')
  if (username === undefined || realm === undefined || nonce === undefined) {
    return { ok: false, code: 400 }
  }
  if (opts.nonces.check(nonce, opts.now) !== 'ok') return { ok: false, code: 438 }
  if (realm !== opts.realm || !checkTurnUsername(username, opts.now).valid) {
    return { ok: false, code: 401 }
  }
  const key = longTermKey(username, realm, turnPassword(opts.secret, username))
  return verify(key) ? { ok: true, username, key } : { ok: false, code: 401 }
}
