/**
 * Ed25519 signing and verifying with Node's native key objects, created once
 * per key.
 *
 * Why: @libp2p/crypto's Ed25519 keys re-import their JWK into a new native
 * key on every sign and verify. A node signs every request its UAs send and
 * verifies every request it receives (RFC 8224 §6.1, §6.2), and bench:sip
 * found the re-import alone costing as much as the signature itself. The
 * signatures are the same bytes (RFC 8032 Ed25519 is deterministic).
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { toString } from 'uint8arrays'
import type { IdentitySigningKey, SignatureVerifier } from '../../shared/identity/sip-identity.js'

const b64url = (bytes: Uint8Array): string => toString(bytes, 'base64url')

/**
 * `key` with a native signer. Not Ed25519 keys are returned unchanged (signing
 * then refuses them, as before).
 */
export function nativeSigningKey(key: PrivateKey): IdentitySigningKey {
  if (key.type !== 'Ed25519') return key
  // libp2p's raw Ed25519 private key is the 32-byte seed then the public key.
  const native = createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: b64url(key.raw.subarray(0, 32)),
      x: b64url(key.publicKey.raw),
    },
    format: 'jwk',
  })
  return {
    type: key.type,
    publicKey: key.publicKey,
    sign: (data) => new Uint8Array(sign(null, data, native)),
  }
}

/** A verifier that keeps the native public keys of the last `maxKeys` signers. */
export function nativeVerifier(maxKeys = 1024): SignatureVerifier {
  const keys = new Map<string, KeyObject>()
  return (publicKey, data, signature) => {
    try {
      if (publicKey.length !== 32 || signature.length !== 64) return false
      const id = b64url(publicKey)
      let native = keys.get(id)
      if (native == null) {
        native = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' })
        if (keys.size >= maxKeys) keys.clear()
        keys.set(id, native)
      }
      return verify(null, data, native, signature)
    } catch {
      return false
    }
  }
}
