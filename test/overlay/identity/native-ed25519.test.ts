/**
 * The native signer and verifier (native-ed25519.ts) must be drop-in: the
 * frozen identity vector gives the same Identity bytes, signatures are the
 * libp2p key's bytes (Ed25519 is deterministic, RFC 8032 §5.1.6), and the
 * verifier refuses exactly what libp2p's refuses.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createIdentityHeader } from '../../../src/shared/identity/sip-identity.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { nativeSigningKey, nativeVerifier } from '../../../src/overlay/identity/native-ed25519.js'
import { keyFromSeed } from '../../shared/identity/fixtures.js'

const vector = JSON.parse(
  readFileSync(new URL('../../shared/identity/identity-vector.json', import.meta.url), 'utf8'),
) as { seed: string; now: number; request: string; identity: string }

function vectorRequest(): SipRequest {
  const p = parseSipMessage(new TextEncoder().encode(vector.request), { transport: 'stream' })
  if (!p.ok || p.message.kind !== 'request') throw new Error('vector request must parse')
  return p.message
}

describe('native Ed25519', () => {
  it('signs the identity vector to the same bytes', async () => {
    const key = await keyFromSeed(vector.seed)
    const identity = await createIdentityHeader(vectorRequest(), {
      accountKey: nativeSigningKey(key),
      name: 'alice',
      now: vector.now,
    })
    expect(identity).toBe(vector.identity)
  })

  it('gives the libp2p key’s signatures and verifies them', async () => {
    const verifyNative = nativeVerifier()
    for (let i = 0; i < 5; i++) {
      const key = await generateKeyPair('Ed25519')
      const data = crypto.getRandomValues(new Uint8Array(100 + i))
      const sig = await nativeSigningKey(key).sign(data)
      expect(sig).toEqual(new Uint8Array(await key.sign(data)))
      expect(await verifyNative(key.publicKey.raw, data, sig)).toBe(true)
      const tampered = sig.slice()
      tampered[0]! ^= 1
      expect(await verifyNative(key.publicKey.raw, data, tampered)).toBe(false)
      expect(await key.publicKey.verify(data, tampered)).toBe(false)
    }
  })

  it('refuses malformed keys and signatures without throwing', async () => {
    const verifyNative = nativeVerifier(2)
    const data = new Uint8Array([1, 2, 3])
    expect(await verifyNative(new Uint8Array(31), data, new Uint8Array(64))).toBe(false)
    expect(await verifyNative(new Uint8Array(32), data, new Uint8Array(63))).toBe(false)
    expect(await verifyNative(new Uint8Array(32).fill(0xff), data, new Uint8Array(64))).toBe(false)
    // More keys than the cache holds: still correct.
    for (let i = 0; i < 4; i++) {
      const key = await generateKeyPair('Ed25519')
      const sig = new Uint8Array(await key.sign(data))
      expect(await verifyNative(key.publicKey.raw, data, sig)).toBe(true)
    }
  })
})
