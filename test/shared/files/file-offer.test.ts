/** The signed file offer and the protocol's frames: round trips, forgeries and strictness. */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  FileOfferSignatureError,
  InvalidFileOfferError,
  decodeFileOffer,
  encodeFileOffer,
  safeFileName,
  signFileOffer,
  verifyFileOffer,
} from '../../../src/shared/files/file-offer.js'
import type { UnsignedFileOffer } from '../../../src/shared/files/file-offer.js'
import {
  FileFrameError,
  decodeFileFrame,
  encodeFileFrame,
} from '../../../src/shared/files/file-wire.js'

async function offer(over: Partial<UnsignedFileOffer> = {}) {
  const key = await generateKeyPair('Ed25519')
  const unsigned: UnsignedFileOffer = {
    v: 1,
    id: new Uint8Array(16).fill(1),
    from: 'alice',
    to: 'bob',
    senderKey: key.publicKey.raw,
    name: 'photo.png',
    mime: 'image/png',
    size: 3000,
    sha256: new Uint8Array(32).fill(2),
    chunkSize: 1024,
    chunks: new Uint8Array(3 * 32).fill(3),
    createdAt: 1_700_000_000_000,
    ...over,
  }
  return { key, signed: await signFileOffer(unsigned, key) }
}

describe('file offer', () => {
  it('round-trips and verifies under its sender key', async () => {
    const { signed } = await offer()
    const back = decodeFileOffer(encodeFileOffer(signed))
    expect(back).toEqual(signed)
    expect(await verifyFileOffer(back)).toBe(true)
  })

  it('does not verify once any field is changed', async () => {
    const { signed } = await offer()
    expect(await verifyFileOffer({ ...signed, size: 2999, chunks: signed.chunks })).toBe(false)
    expect(await verifyFileOffer({ ...signed, from: 'mallory' })).toBe(false)
    const other = await generateKeyPair('Ed25519')
    expect(await verifyFileOffer({ ...signed, senderKey: other.publicKey.raw })).toBe(false)
  })

  it('refuses a signing key that is not the named sender key', async () => {
    const { signed } = await offer()
    const other = await generateKeyPair('Ed25519')
    await expect(signFileOffer(signed, other)).rejects.toThrow(InvalidFileOfferError)
    expect(new FileOfferSignatureError().code).toBe('unauthorized')
  })

  it('refuses offers whose chunk hashes do not fit the size, and non-canonical bytes', async () => {
    await expect(offer({ chunks: new Uint8Array(2 * 32) })).rejects.toThrow(
      /chunks must be 96 bytes/,
    )
    const { signed } = await offer()
    expect(() => decodeFileOffer(new Uint8Array([0xa0]))).toThrow(/missing field/)
    // A non-minimal integer (size as a 4-byte int) is not the canonical form.
    const wire = encodeFileOffer(signed)
    const at = wire.findIndex((b, i) => b === 0x19 && wire[i + 1] === 0x0b && wire[i + 2] === 0xb8)
    const loose = new Uint8Array([
      ...wire.subarray(0, at),
      0x1a,
      0,
      0,
      0x0b,
      0xb8,
      ...wire.subarray(at + 3),
    ])
    expect(() => decodeFileOffer(loose)).toThrow(InvalidFileOfferError)
    const extra = encode({ ...signed, extra: 1 })
    expect(() => decodeFileOffer(extra)).toThrow(/unexpected field "extra"/)
  })

  it('makes safe file names', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd')
    expect(safeFileName('..\\..\\boot.ini')).toBe('boot.ini')
    expect(safeFileName('.bashrc')).toBe('bashrc')
    expect(safeFileName('a\u0000b<c>.txt')).toBe('a_b_c_.txt')
    expect(safeFileName('...')).toBe('file')
  })
})

describe('file frames', () => {
  it('round-trips each frame and refuses strays', () => {
    for (const f of [
      { t: 'wait' },
      { t: 'ack', i: 3 },
      { t: 'chunk', i: 0, data: new Uint8Array(5) },
      { t: 'refuse', code: 'too_large', message: 'no' },
    ] as const)
      expect(decodeFileFrame(encodeFileFrame(f))).toEqual(f)
    expect(() => decodeFileFrame(encode({ t: 'ack', i: -1 }))).toThrow(FileFrameError)
    expect(() => decodeFileFrame(encode({ t: 'ack', i: 1, x: 1 }))).toThrow(/field "x"/)
    expect(() => decodeFileFrame(encode({ t: 'refuse', code: 'nope', message: '' }))).toThrow()
    expect(() => decodeFileFrame(encode({ t: 'teleport' }))).toThrow(/unknown type/)
    expect(() => decodeFileFrame(new Uint8Array([0xff]))).toThrow(FileFrameError)
  })
})
