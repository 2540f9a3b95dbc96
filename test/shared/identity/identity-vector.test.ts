/**
 * The worked example of docs/identity-token.md, frozen: a fixed key signing a
 * fixed request must give exactly these bytes, and an independent Ed25519
 * implementation (noble) must accept the JWS.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ed25519 } from '@noble/curves/ed25519.js'
import { fromString, toString } from 'uint8arrays'
import { ReplayCache } from '../../../src/shared/identity/replay-cache.js'
import {
  createIdentityHeader,
  verifyIdentityHeader,
} from '../../../src/shared/identity/sip-identity.js'
import { fingerprint } from '../../../src/shared/records/contact-record.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { keyFromSeed } from './fixtures.js'

interface Vector {
  seed: string
  publicKey: string
  kid: string
  now: number
  request: string
  header: string
  claims: string
  signature: string
  identity: string
}

const vector = JSON.parse(
  readFileSync(new URL('./identity-vector.json', import.meta.url), 'utf8'),
) as Vector

function parsedRequest(): SipRequest {
  const parsed = parseSipMessage(new TextEncoder().encode(vector.request), { transport: 'stream' })
  if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('vector request must parse')
  return parsed.message
}

const b64 = (s: string): string => toString(new TextEncoder().encode(s), 'base64url')

describe('identity test vector', () => {
  it('the fixed key and request give exactly the recorded Identity value', async () => {
    const key = await keyFromSeed(vector.seed)
    expect(toString(key.publicKey.raw, 'base16')).toBe(vector.publicKey)
    expect(fingerprint(key.publicKey.raw)).toBe(vector.kid)
    const value = await createIdentityHeader(parsedRequest(), {
      accountKey: key,
      name: 'alice',
      now: vector.now,
    })
    expect(value).toBe(vector.identity)
    expect(value).toBe(
      `${b64(vector.header)}.${b64(vector.claims)}.${vector.signature}` +
        `;info=<kaiwa:key:${vector.kid}>;alg=EdDSA;ppt=kaiwa`,
    )
  })

  it('verifies, and is a valid EdDSA JWS for an independent implementation', async () => {
    const req = parsedRequest()
    req.headers.set('Identity', vector.identity)
    const publicKey = fromString(vector.publicKey, 'base16')
    const r = await verifyIdentityHeader(req, {
      publicKeyFor: (name) => (name === 'alice' ? publicKey : undefined),
      now: vector.now + 30_000,
      replayCache: new ReplayCache(),
    })
    expect(r.ok).toBe(true)
    const input = new TextEncoder().encode(`${b64(vector.header)}.${b64(vector.claims)}`)
    const sig = fromString(vector.signature, 'base64url')
    expect(ed25519.verify(sig, input, publicKey)).toBe(true)
  })
})
