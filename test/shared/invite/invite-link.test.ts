import { describe, expect, it } from 'vitest'
import { decode, encode } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { fromString, toString } from 'uint8arrays'
import {
  createInviteLink,
  decodeInviteLink,
  isInviteLink,
  openInviteLink,
} from '../../../src/shared/invite/invite-link.js'
import { InvalidInviteError } from '../../../src/shared/invite/invite-errors.js'
import { fingerprint } from '../../../src/shared/records/contact-record.js'

const SN = [
  '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzh9ELiSwAQdDqXbMU9MALyM4ZYHhRZbdbyEAmGh5sTC',
  '/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
]
const NOW = 1_800_000_000_000

async function make(supernodes = SN) {
  const key = await generateKeyPair('Ed25519')
  const link = await createInviteLink({ name: 'alice', accountKey: key, supernodes, now: NOW })
  return { key, link }
}

async function refusal(link: string): Promise<InvalidInviteError> {
  const err = await openInviteLink(link, NOW).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(InvalidInviteError)
  return err as InvalidInviteError
}

/** Re-encode the payload with one field changed, keeping the old signature. */
function withField(link: string, key: string, value: unknown): string {
  const m = /\?invite=([^#]+)#/.exec(link)!
  const w = decode(fromString(m[1]!, 'base64url')) as Record<string, unknown>
  w[key] = value
  return link.replace(m[1]!, toString(encode(w), 'base64url'))
}

function flip(s: string, i: number): string {
  const c = s[i]!
  const next = c === 'a' ? 'b' : c === 'A' ? 'B' : c === '2' ? '3' : c === '-' ? '_' : 'a'
  return s.slice(0, i) + next + s.slice(i + 1)
}

describe('invite links', () => {
  it('round-trips: user, fingerprint, supernodes and expiry', async () => {
    const { key, link } = await make()
    expect(link).toMatch(/^kaiwa:alice\?invite=[A-Za-z0-9_-]+#[a-z2-7]{4}(-[a-z2-7]{4}){3}$/)
    expect(isInviteLink(link)).toBe(true)
    const invite = await openInviteLink(link, NOW)
    expect(invite.name).toBe('alice')
    expect(invite.fingerprint).toBe(fingerprint(key.publicKey.raw))
    expect(invite.supernodes).toEqual(SN)
    expect(invite.expiresAt).toBe(NOW + 7 * 24 * 3600_000)
  })

  it('a plain contact link is not an invite', async () => {
    expect(isInviteLink('kaiwa:alice#abcd-efgh-ijkl-mnop')).toBe(false)
    expect((await refusal('kaiwa:alice#abcd-efgh-ijkl-mnop')).reason).toBe('not_invite')
  })

  it('keeps at most four supernodes and refuses none or ones without /p2p/', async () => {
    const many = Array.from({ length: 6 }, () => SN[0]!)
    expect((await openInviteLink((await make(many)).link, NOW)).supernodes).toHaveLength(4)
    await expect(make([])).rejects.toThrow(InvalidInviteError)
    await expect(make(['/ip4/127.0.0.1/tcp/4001'])).rejects.toThrow(/p2p/)
  })

  it('refuses an expired invite', async () => {
    const { link } = await make()
    const err = await openInviteLink(link, NOW + 8 * 24 * 3600_000).catch((e: unknown) => e)
    expect((err as InvalidInviteError).reason).toBe('expired')
  })

  it('refuses a change of one character anywhere in the link', async () => {
    const { link } = await make()
    const start = 'kaiwa:'.length
    for (let i = start; i < link.length; i++) {
      if (link[i] === '?' || link[i] === '#' || link[i] === '=') continue
      const tampered = flip(link, i)
      if (tampered === link) continue
      await expect(openInviteLink(tampered, NOW), `position ${i}`).rejects.toThrow(
        InvalidInviteError,
      )
    }
  })

  it('refuses every signed field changed under the old signature', async () => {
    const { link } = await make()
    const other = await generateKeyPair('Ed25519')
    const cases: Array<[string, unknown]> = [
      ['v', 2],
      ['n', 'bob'],
      ['k', other.publicKey.raw],
      ['a', [SN[1]]],
      ['e', NOW + 365 * 24 * 3600_000],
      ['s', new Uint8Array(64)],
    ]
    for (const [field, value] of cases) {
      let tampered = withField(link, field, value)
      // Make the outer parts agree, so only the signature can catch it.
      if (field === 'n') tampered = tampered.replace('kaiwa:alice?', 'kaiwa:bob?')
      if (field === 'k') tampered = tampered.replace(/#.*$/, `#${fingerprint(other.publicKey.raw)}`)
      const err = await refusal(tampered)
      expect(['signature', 'malformed'], field).toContain(err.reason)
    }
  })

  it('refuses a different name or fingerprint outside the payload', async () => {
    const { link } = await make()
    expect((await refusal(link.replace('kaiwa:alice?', 'kaiwa:bob?'))).reason).toBe('name')
    expect((await refusal(link.replace(/#.*$/, '#abcd-efgh-ijkl-mnop'))).reason).toBe('fingerprint')
  })

  it('refuses extra fields and damaged data with a clear message', async () => {
    const { link } = await make()
    expect((await refusal(withField(link, 'x', 1))).reason).toBe('malformed')
    expect((await refusal(link.replace(/invite=[^#]+/, 'invite=AAAA'))).message).toMatch(
      /invalid invite link/,
    )
    expect(() => decodeInviteLink('kaiwa:alice?invite=#x')).toThrow(InvalidInviteError)
  })
})
