import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { checkInviteInput } from '../../../src/renderer/contacts/invite-input.js'
import { createInviteLink } from '../../../src/shared/invite/invite-link.js'

const SN = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzh9ELiSwAQdDqXbMU9MALyM4ZYHhRZbdbyEAmGh5sTC'

describe('checkInviteInput', async () => {
  const key = await generateKeyPair('Ed25519')
  const link = await createInviteLink({
    name: 'alice',
    accountKey: key,
    supernodes: [SN],
    now: Date.now(),
  })

  it('accepts an invite, also wrapped over lines with spaces', () => {
    expect(checkInviteInput(link)).toEqual({ ok: true, link, name: 'alice', supernodes: 1 })
    const wrapped = `  ${link.slice(0, 40)}\n${link.slice(40, 90)} \n${link.slice(90)}\n`
    expect(checkInviteInput(wrapped)).toEqual({ ok: true, link, name: 'alice', supernodes: 1 })
  })

  it('says what is wrong: empty, a plain contact link, a clipped or altered paste', () => {
    expect(checkInviteInput('  ')).toEqual({ ok: false, error: 'empty' })
    expect(checkInviteInput('kaiwa:alice#abcd-efgh-ijkl-mnop')).toEqual({
      ok: false,
      error: 'not_invite',
    })
    expect(checkInviteInput(link.slice(0, link.indexOf('#') - 5))).toMatchObject({ ok: false })
    expect(checkInviteInput(link.replace('kaiwa:alice', 'kaiwa:alicia'))).toEqual({
      ok: false,
      error: 'name',
    })
    expect(checkInviteInput(link.replace(/#.*/, '#aaaa-aaaa-aaaa-aaaa'))).toEqual({
      ok: false,
      error: 'fingerprint',
    })
  })
})
