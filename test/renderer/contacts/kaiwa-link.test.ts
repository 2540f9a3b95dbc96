/** `kaiwa:` links: parsing what people paste or type, and printing our own. */
import { describe, expect, it } from 'vitest'
import { formatKaiwaLink, parseKaiwaLink } from '../../../src/renderer/contacts/kaiwa-link.js'
import { qrPath } from '../../../src/renderer/contacts/qr.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createInviteLink } from '../../../src/shared/invite/invite-link.js'
import { fingerprint } from '../../../src/shared/records/contact-record.js'

const FP = 'abcd-efgh-ijkl-mn23'

describe('parseKaiwaLink', () => {
  it.each([
    ['alice', { name: 'alice' }],
    ['  Alice  ', { name: 'alice' }],
    ['kaiwa:alice', { name: 'alice' }],
    ['KAIWA:alice', { name: 'alice' }],
    ['kaiwa://alice/', { name: 'alice' }],
    [`kaiwa:alice#${FP}`, { name: 'alice', fingerprint: FP }],
    [`kaiwa:alice#${FP.toUpperCase()}`, { name: 'alice', fingerprint: FP }],
    [`alice#${FP}`, { name: 'alice', fingerprint: FP }],
    ['kaiwa:alice#', { name: 'alice' }],
    ['kaiwa:bob.smith_2', { name: 'bob.smith_2' }],
    ['ｂｏｂ', { name: 'bob' }],
  ])('%s', (input, link) => {
    expect(parseKaiwaLink(input)).toEqual({ ok: true, link })
  })

  it.each([
    ['', 'user_id'],
    ['kaiwa:', 'user_id'],
    ['al', 'user_id'],
    ['-alice', 'user_id'],
    ['kaiwa:alice smith', 'user_id'],
    ['kaiwa:alice@example.com', 'user_id'],
    [`kaiwa:alice#not a fingerprint`, 'fingerprint'],
    ['kaiwa:alice#abcd', 'fingerprint'],
    ['kaiwa:alice#abc1-defg', 'fingerprint'], // '1' is not base32
  ])('refuses %j (%s)', (input, error) => {
    expect(parseKaiwaLink(input)).toEqual({ ok: false, error })
  })

  it('round-trips what formatKaiwaLink prints', () => {
    for (const link of [{ name: 'alice' }, { name: 'carol-x', fingerprint: FP }]) {
      expect(parseKaiwaLink(formatKaiwaLink(link))).toEqual({ ok: true, link })
    }
    expect(formatKaiwaLink({ name: 'alice', fingerprint: FP })).toBe(`kaiwa:alice#${FP}`)
  })
})

describe('qrPath', () => {
  it('draws a square code with a quiet zone, dark modules only inside it', () => {
    const { size, d } = qrPath(`kaiwa:alice#${FP}`)
    // 31 bytes need version 3 (29 modules) at level M; plus 4 modules of quiet zone each side.
    expect(size).toBe(29 + 8)
    const rects = [...d.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)]
    expect(rects.length).toBeGreaterThan(50)
    for (const [, x, y, w] of rects) {
      expect(Number(x)).toBeGreaterThanOrEqual(4)
      expect(Number(y)).toBeGreaterThanOrEqual(4)
      expect(Number(x) + Number(w)).toBeLessThanOrEqual(size - 4)
    }
    // The top-left finder pattern: a full 7-module run on its first row.
    expect(d.startsWith('M4 4h7v1h-7z')).toBe(true)
  })
})

describe('invite links as contact links', () => {
  const SN = '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWGzh9ELiSwAQdDqXbMU9MALyM4ZYHhRZbdbyEAmGh5sTC'

  it('reads an invite as its user and fingerprint, and fits a QR code with 4 supernodes', async () => {
    const key = await generateKeyPair('Ed25519')
    const link = await createInviteLink({
      name: 'alice',
      accountKey: key,
      supernodes: [
        SN,
        SN.replace('4001', '4002'),
        SN.replace('4001', '4003'),
        SN.replace('4001', '4004'),
      ],
      now: Date.now(),
    })
    expect(parseKaiwaLink(link)).toEqual({
      ok: true,
      link: { name: 'alice', fingerprint: fingerprint(key.publicKey.raw) },
    })
    expect(qrPath(link).size).toBeGreaterThan(29 + 8)
  })
})
