/** TURN REST API credentials: username format, password derivation, expiry. */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import {
  DEFAULT_TURN_REALM,
  checkTurnUsername,
  issueTurnCredentials,
  turnPassword,
} from '../../../src/overlay/turn/turn-credentials.js'

const NOW = 1_700_000_000_000

describe('issueTurnCredentials', () => {
  it('builds "expiry:peerId" and base64(HMAC-SHA1(secret, username))', () => {
    const c = issueTurnCredentials('s3cret', '12D3KooWpeer', 3600, NOW)
    expect(c.username).toBe(`${NOW / 1000 + 3600}:12D3KooWpeer`)
    expect(c.expiresAt).toBe(NOW / 1000 + 3600)
    const want = createHmac('sha1', 's3cret').update(c.username).digest('base64')
    expect(c.password).toBe(want)
    expect(turnPassword('s3cret', c.username)).toBe(want)
    expect(c.realm).toBe(DEFAULT_TURN_REALM)
    expect(issueTurnCredentials('s3cret', 'p', 60, NOW, 'example.org').realm).toBe('example.org')
  })

  it('matches the password coturn derives for use-auth-secret (known answer)', () => {
    // printf '%s' '1700003600:alice' | openssl dgst -sha1 -hmac secret -binary | base64
    expect(turnPassword('secret', '1700003600:alice')).toBe('LLPLO4qjdVL2qZhwr3eImhn7J20=')
    expect(turnPassword('secret', '1700003600:alice')).not.toBe(
      turnPassword('other', '1700003600:alice'),
    )
  })

  it('rejects bad input with InvalidInputError', () => {
    expect(() => issueTurnCredentials('', 'p', 60, NOW)).toThrow(InvalidInputError)
    expect(() => issueTurnCredentials('s', 'a:b', 60, NOW)).toThrow(InvalidInputError)
    expect(() => issueTurnCredentials('s', '', 60, NOW)).toThrow(InvalidInputError)
    expect(() => issueTurnCredentials('s', 'p', 0, NOW)).toThrow(InvalidInputError)
    expect(() => issueTurnCredentials('s', 'p', 1.5, NOW)).toThrow(InvalidInputError)
    expect(() => issueTurnCredentials('s', 'x'.repeat(600), 60, NOW)).toThrow(InvalidInputError)
  })
})

describe('checkTurnUsername', () => {
  it('accepts unexpired usernames and returns the peer id', () => {
    const c = issueTurnCredentials('s', 'peer', 60, NOW)
    expect(checkTurnUsername(c.username, NOW)).toEqual({
      valid: true,
      peerId: 'peer',
      expiresAt: NOW / 1000 + 60,
    })
    expect(checkTurnUsername(c.username, NOW + 59_999).valid).toBe(true)
  })

  it('rejects expired and malformed usernames', () => {
    const c = issueTurnCredentials('s', 'peer', 60, NOW)
    expect(checkTurnUsername(c.username, NOW + 60_000)).toEqual({ valid: false, reason: 'expired' })
    for (const u of ['peer', ':peer', '123:', 'abc:peer', '']) {
      expect(checkTurnUsername(u, NOW)).toEqual({ valid: false, reason: 'malformed' })
    }
  })
})
