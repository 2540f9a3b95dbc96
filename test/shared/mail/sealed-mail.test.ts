/**
 * Sealed offline mail: encryption to the recipient's account key, the sender's
 * signature (checkable by supernodes without the recipient key), strict
 * canonical encoding and the size cap.
 */
import { describe, expect, it } from 'vitest'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  InvalidMailError,
  MAX_MAIL_BYTES,
  MailDecryptError,
  MailSignatureError,
  MailTooLargeError,
  decodeMail,
  encodeMail,
  openMail,
  openVerifiedMail,
  sealMail,
  verifyMailSignature,
  type MailEnvelope,
  type MailPlaintext,
} from '../../../src/shared/mail/sealed-mail.js'

const NOW = 1_700_000_000_000
const enc = new TextEncoder()

const plaintext = (body = 'hello bob'): MailPlaintext => ({
  from: 'alice',
  fromUri: 'sip:alice@kaiwa.invalid',
  date: new Date(NOW).toUTCString(),
  contentType: 'text/plain;charset=utf-8',
  body: enc.encode(body),
})

async function fixture() {
  const alice = await generateKeyPair('Ed25519')
  const bob = await generateKeyPair('Ed25519')
  const env = await sealMail({
    to: 'bob',
    recipientKey: bob.publicKey.raw,
    senderPrivateKey: alice,
    plaintext: plaintext(),
    createdAt: NOW,
  })
  return { alice, bob, env, bytes: encodeMail(env) }
}

const flip = (b: Uint8Array, i = 0): Uint8Array => {
  const c = new Uint8Array(b)
  c[i]! ^= 1
  return c
}

describe('sealMail / openMail', () => {
  it('round-trips with real keys', async () => {
    const { bob, env, bytes, alice } = await fixture()
    expect(env.v).toBe(1)
    expect(env.id).toHaveLength(16)
    expect(env.nonce).toHaveLength(24)
    expect(env.senderKey).toEqual(alice.publicKey.raw)
    expect(env.createdAt).toBe(NOW)
    const back = decodeMail(bytes)
    expect(back).toEqual(env)
    expect(await verifyMailSignature(back)).toBe(true)
    expect(openMail(back, bob)).toEqual(plaintext())
    expect(await openVerifiedMail(back, bob)).toEqual(plaintext())
  })

  it('uses a fresh ephemeral key, nonce and id each time', async () => {
    const { alice, bob, env } = await fixture()
    const again = await sealMail({
      to: 'bob',
      recipientKey: bob.publicKey.raw,
      senderPrivateKey: alice,
      plaintext: plaintext(),
      createdAt: NOW,
    })
    expect(again.epk).not.toEqual(env.epk)
    expect(again.nonce).not.toEqual(env.nonce)
    expect(again.id).not.toEqual(env.id)
    expect(again.ct).not.toEqual(env.ct)
  })

  it('fails for the wrong recipient, even with a forged recipientKey', async () => {
    const { env } = await fixture()
    const carol = await generateKeyPair('Ed25519')
    expect(() => openMail(env, carol)).toThrow(MailDecryptError)
    // Carol relabels the envelope as hers: the header is AAD, so decryption fails.
    const relabelled = { ...env, recipientKey: carol.publicKey.raw }
    expect(() => openMail(relabelled, carol)).toThrow(MailDecryptError)
  })

  it.each(['ct', 'nonce', 'epk', 'id', 'senderKey'] as const)(
    'detects a tampered %s',
    async (field) => {
      const { bob, env } = await fixture()
      const bad = { ...env, [field]: flip(env[field]) }
      expect(await verifyMailSignature(bad)).toBe(false)
      expect(() => openMail(bad, bob)).toThrow(MailDecryptError)
    },
  )

  it('detects a tampered to / createdAt (header is authenticated)', async () => {
    const { bob, env } = await fixture()
    for (const bad of [
      { ...env, to: 'bobby' },
      { ...env, createdAt: NOW + 1 },
    ]) {
      expect(await verifyMailSignature(bad)).toBe(false)
      expect(() => openMail(bad, bob)).toThrow(MailDecryptError)
    }
  })

  it('a re-signed envelope under another sender key still fails to open', async () => {
    const { bob, env } = await fixture()
    const mallory = await generateKeyPair('Ed25519')
    const { sig: _sig, ...rest } = env
    const stolen = await sealMail({
      to: 'bob',
      recipientKey: bob.publicKey.raw,
      senderPrivateKey: mallory,
      plaintext: plaintext('x'),
    })
    // Mallory keeps Alice's ciphertext but claims to be the sender.
    const forged: MailEnvelope = { ...rest, senderKey: stolen.senderKey, sig: stolen.sig }
    expect(await verifyMailSignature(forged)).toBe(false)
    expect(() => openMail(forged, bob)).toThrow(MailDecryptError)
  })

  it('detects a tampered signature', async () => {
    const { bob, env } = await fixture()
    const bad = { ...env, sig: flip(env.sig, 10) }
    expect(await verifyMailSignature(bad)).toBe(false)
    await expect(openVerifiedMail(bad, bob)).rejects.toThrow(MailSignatureError)
  })

  it('the signature is verifiable without any private key', async () => {
    const { bytes } = await fixture()
    // A supernode only has the bytes.
    expect(await verifyMailSignature(decodeMail(bytes))).toBe(true)
  })

  it('rejects an invalid recipient user ID or key', async () => {
    const alice = await generateKeyPair('Ed25519')
    const bob = await generateKeyPair('Ed25519')
    await expect(
      sealMail({
        to: 'Bob!',
        recipientKey: bob.publicKey.raw,
        senderPrivateKey: alice,
        plaintext: plaintext(),
      }),
    ).rejects.toThrow(InvalidMailError)
    await expect(
      sealMail({
        to: 'bob',
        recipientKey: new Uint8Array(31),
        senderPrivateKey: alice,
        plaintext: plaintext(),
      }),
    ).rejects.toThrow(InvalidMailError)
  })
})

describe('mail encoding', () => {
  it('is deterministic: encode(decode(bytes)) is byte-identical', async () => {
    const { env, bytes } = await fixture()
    expect(encodeMail(decodeMail(bytes))).toEqual(bytes)
    expect(encodeMail({ ...env })).toEqual(bytes)
  })

  it('ignores stray properties when encoding', async () => {
    const { env, bytes } = await fixture()
    expect(encodeMail({ ...env, extra: 1 } as unknown as MailEnvelope)).toEqual(bytes)
  })

  it('rejects non-canonical CBOR, unknown and missing fields', async () => {
    const { bytes } = await fixture()
    const wire = cborDecode(bytes) as Record<string, unknown>
    // Same map, keys in reverse order: valid CBOR, not canonical.
    const reversed = Object.fromEntries(Object.entries(wire).reverse())
    const unsorted = cborEncode(reversed, { mapSorter: () => 0 })
    expect(() => decodeMail(unsorted)).toThrow(InvalidMailError)
    expect(() => decodeMail(cborEncode({ ...wire, x: 1 }))).toThrow(/unexpected field/)
    const { sig: _s, ...noSig } = wire
    expect(() => decodeMail(cborEncode(noSig))).toThrow(/missing field "sig"/)
    expect(() => decodeMail(cborEncode({ ...wire, v: 2 }))).toThrow(/version/)
    expect(() => decodeMail(cborEncode({ ...wire, nonce: new Uint8Array(12) }))).toThrow(/nonce/)
    expect(() => decodeMail(new Uint8Array([0xff, 0x00]))).toThrow(InvalidMailError)
    expect(() => decodeMail(cborEncode([1, 2, 3]))).toThrow(/not a CBOR map/)
  })

  it('rejects oversized mail when sealing and decoding', async () => {
    const alice = await generateKeyPair('Ed25519')
    const bob = await generateKeyPair('Ed25519')
    const big = { ...plaintext(), body: new Uint8Array(MAX_MAIL_BYTES) }
    await expect(
      sealMail({
        to: 'bob',
        recipientKey: bob.publicKey.raw,
        senderPrivateKey: alice,
        plaintext: big,
      }),
    ).rejects.toThrow(MailTooLargeError)
    expect(() => decodeMail(new Uint8Array(MAX_MAIL_BYTES + 1))).toThrow(MailTooLargeError)
    // Just under the cap is fine.
    const fits = { ...plaintext(), body: new Uint8Array(MAX_MAIL_BYTES - 1024) }
    const env = await sealMail({
      to: 'bob',
      recipientKey: bob.publicKey.raw,
      senderPrivateKey: alice,
      plaintext: fits,
    })
    expect(openMail(decodeMail(encodeMail(env)), bob).body).toHaveLength(MAX_MAIL_BYTES - 1024)
  })
})
