/**
 * Short-lived TURN long-term credentials, the "TURN REST API" pattern
 * (draft-uberti-behave-turn-rest-00, also what coturn's `use-auth-secret` does):
 *
 *   username = `${expiryUnixSeconds}:${peerId}`
 *   password = base64(HMAC-SHA1(secret, username))
 *
 * The server only needs the shared secret: it recomputes the password from the username and
 * feeds it to the long-term credential mechanism of RFC 8489 §9.2 (key =
 * MD5(username ":" realm ":" password), see longTermKey in stun-message.ts).
 */
import { createHmac } from 'node:crypto'
import { InvalidInputError } from '../../shared/errors.js'

/** Default REALM (RFC 8489 §14.9) of the supernodes' TURN service. */
export const DEFAULT_TURN_REALM = 'kaiwa'

export interface TurnCredentials {
  username: string
  password: string
  realm: string
  /** Expiry in Unix seconds (the number before the ':' in `username`). */
  expiresAt: number
  ttlS: number
}

export type TurnUsernameCheck =
  | { valid: true; peerId: string; expiresAt: number }
  | { valid: false; reason: 'malformed' | 'expired' }

/** base64(HMAC-SHA1(secret, username)): the password the server derives for `username`. */
export function turnPassword(secret: string | Uint8Array, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64')
}

/**
 * Issue credentials for `peerId` valid for `ttlS` seconds from `now` (milliseconds, Date.now()
 * by default). The peer id must not contain ':' (the separator) and must fit USERNAME's 512-byte
 * limit (RFC 8489 §14.3) together with the expiry.
 */
export function issueTurnCredentials(
  secret: string | Uint8Array,
  peerId: string,
  ttlS: number,
  now: number = Date.now(),
  realm: string = DEFAULT_TURN_REALM,
): TurnCredentials {
  if (secret.length === 0) throw new InvalidInputError('TURN secret must not be empty')
  if (peerId.length === 0 || peerId.includes(':')) {
    throw new InvalidInputError('peer id must be non-empty and must not contain ":"')
  }
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new InvalidInputError(`bad TTL ${ttlS}`)
  const expiresAt = Math.floor(now / 1000) + ttlS
  const username = `${expiresAt}:${peerId}`
  if (Buffer.byteLength(username, 'utf8') > 512) throw new InvalidInputError('username too long')
  return { username, password: turnPassword(secret, username), realm, expiresAt, ttlS }
}

/**
 * Parse a REST-API username and check it has not expired at `now` (milliseconds). This does not
 * prove anything by itself: the password (MESSAGE-INTEGRITY) proves the holder knew the secret.
 */
export function checkTurnUsername(username: string, now: number = Date.now()): TurnUsernameCheck {
  const m = /^(\d{1,12}):(.+)$/s.exec(username)
  if (!m) return { valid: false, reason: 'malformed' }
  const expiresAt = Number(m[1])
  if (expiresAt * 1000 <= now) return { valid: false, reason: 'expired' }
  return { valid: true, peerId: m[2]!, expiresAt }
}
