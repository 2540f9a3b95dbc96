import { describe, expect, it } from 'vitest'
import { chooseInConflict } from '../../../src/main/api/ui-api.js'
import { NameConflictError } from '../../../src/shared/errors.js'

const conflict = {
  keys: [
    { fingerprint: 'aaaa-1111', publicKey: new Uint8Array(32), count: 3 },
    { fingerprint: 'bbbb-2222', publicKey: new Uint8Array(32).fill(1), count: 2 },
  ],
}

describe('adding a contact whose name is in conflict (docs/security.md)', () => {
  it('pins nothing and shows both fingerprints when the user brought none', () => {
    expect(() => chooseInConflict('alice', conflict)).toThrow(NameConflictError)
    expect(() => chooseInConflict('alice', conflict)).toThrow(/aaaa-1111 and bbbb-2222/)
  })

  it('pins the key the user brought in a name#fingerprint link, even the minority one', () => {
    expect(chooseInConflict('alice', conflict, 'BBBB-2222')).toBe('bbbb-2222')
  })

  it('refuses a fingerprint that neither side holds', () => {
    expect(() => chooseInConflict('alice', conflict, 'cccc-3333')).toThrow(NameConflictError)
  })
})
