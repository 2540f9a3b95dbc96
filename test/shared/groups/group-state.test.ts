/**
 * The membership log (group-log.ts, group-state.ts): canonical entries, who
 * may change what, and the deterministic choice between diverged logs.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { encode } from 'cborg'
import { fromString } from 'uint8arrays'
import {
  InvalidGroupEntryError,
  decodeGroupEntry,
  encodeGroupEntry,
  signGroupEntry,
} from '../../../src/shared/groups/group-log.js'
import type { GroupEntry, UnsignedGroupEntry } from '../../../src/shared/groups/group-log.js'
import {
  InvalidGroupChangeError,
  adminNames,
  applyEntry,
  chooseLog,
  memberNames,
  replay,
} from '../../../src/shared/groups/group-state.js'
import type { GroupState } from '../../../src/shared/groups/group-state.js'

const names = ['ann', 'ben', 'cat', 'dan', 'eve'] as const
type Name = (typeof names)[number]
const keys = {} as Record<Name, Ed25519PrivateKey>

beforeAll(async () => {
  for (const n of names) keys[n] = await generateKeyPair('Ed25519')
})

const member = (n: Name) => ({ name: n, key: keys[n].publicKey.raw })

async function genesis(): Promise<GroupEntry> {
  return signGroupEntry(
    {
      index: 0,
      group: new Uint8Array(16).fill(7),
      prev: new Uint8Array(0),
      author: 'ann',
      time: 1,
      op: 'create',
      name: 'Hikers',
      members: [member('ann'), member('ben'), member('cat')],
    },
    keys.ann,
  )
}

/** The next entry after `s`, by `author` (signed with `signer`, default the author's key). */
async function next(
  s: GroupState,
  author: Name,
  change: Pick<UnsignedGroupEntry, 'op' | 'name' | 'members' | 'user'>,
  signer: Name = author,
): Promise<GroupEntry> {
  return signGroupEntry(
    {
      index: s.version,
      group: fromString(s.id, 'base16'),
      prev: s.head,
      author,
      time: 2,
      ...change,
    },
    keys[signer],
  )
}

describe('group log entries', () => {
  it('round-trip in one canonical form and refuse anything else', async () => {
    const g = await genesis()
    const bytes = encodeGroupEntry(g)
    expect(decodeGroupEntry(bytes)).toEqual(g)
    // Same map, longer integer encoding: not canonical.
    const w = { ...(await import('cborg')).decode(bytes), x: 1 }
    expect(() => decodeGroupEntry(encode(w))).toThrow(InvalidGroupEntryError)
    expect(() => decodeGroupEntry(new Uint8Array([0xff]))).toThrow(InvalidGroupEntryError)
    expect(() => decodeGroupEntry(new Uint8Array(5000))).toThrow(/over 4096/)
  })

  it('replay a create into members, admins and a group ID bound to the genesis', async () => {
    const g = await genesis()
    const s = replay([g])
    expect(s.id).toMatch(/^[0-9a-f]{32}$/)
    expect(memberNames(s)).toEqual(['ann', 'ben', 'cat'])
    expect(adminNames(s)).toEqual(['ann'])
    expect(s.creator).toBe('ann')
    // Another genesis (another nonce) is another group.
    const other = await signGroupEntry({ ...g, group: new Uint8Array(16).fill(8) }, keys.ann)
    expect(replay([other]).id).not.toBe(s.id)
  })
})

describe('who may change a group', () => {
  it('lets an admin add, promote, remove and rename, and any member leave', async () => {
    let s = replay([await genesis()])
    s = applyEntry(s, await next(s, 'ann', { op: 'add', members: [member('dan')] }))
    s = applyEntry(s, await next(s, 'ann', { op: 'admin', user: 'ben' }))
    s = applyEntry(s, await next(s, 'ben', { op: 'remove', user: 'dan' }))
    s = applyEntry(s, await next(s, 'ben', { op: 'rename', name: 'Climbers' }))
    s = applyEntry(s, await next(s, 'cat', { op: 'leave' }))
    expect(memberNames(s)).toEqual(['ann', 'ben'])
    expect(adminNames(s)).toEqual(['ann', 'ben'])
    expect(s.name).toBe('Climbers')
    expect(s.version).toBe(6)
  })

  it('refuses changes by non-admins, forged signatures, outsiders and juniors', async () => {
    const s = replay([await genesis()])
    const cases: Array<[GroupEntry, RegExp]> = [
      [await next(s, 'ben', { op: 'add', members: [member('eve')] }), /not an admin/],
      [await next(s, 'ann', { op: 'add', members: [member('eve')] }, 'eve'), /not signed by ann/],
      [await next(s, 'eve', { op: 'add', members: [member('eve')] }), /eve is not a member/],
      [await next(s, 'ann', { op: 'remove', user: 'ann' }), /leave the group instead/],
      [await next(s, 'ann', { op: 'add', members: [member('ben')] }), /already a member/],
    ]
    for (const [e, why] of cases) {
      expect(() => applyEntry(s, e)).toThrow(InvalidGroupChangeError)
      expect(() => applyEntry(s, e)).toThrow(why)
    }
    // An admin may not remove a more senior admin (nobody removes the creator).
    const withBen = applyEntry(s, await next(s, 'ann', { op: 'admin', user: 'ben' }))
    const coup = await next(withBen, 'ben', { op: 'remove', user: 'ann' })
    expect(() => applyEntry(withBen, coup)).toThrow(/senior/)
    // An entry that does not follow the head (a replay of an old one) is refused.
    const old = await next(s, 'ann', { op: 'rename', name: 'Old' })
    expect(() => applyEntry(withBen, old)).toThrow(/where 2 was due/)
  })
})

describe('diverged logs', () => {
  it('keep the longer of two logs where one extends the other', async () => {
    const g = await genesis()
    const s = replay([g])
    const a = await next(s, 'ann', { op: 'rename', name: 'A' })
    expect(chooseLog([g], [g, a])).toBe('b')
    expect(chooseLog([g, a], [g])).toBe('a')
    expect(chooseLog([g, a], [g, a])).toBe('same')
  })

  it('let the most senior author win concurrent changes, the same on every member', async () => {
    const g = await genesis()
    let s = replay([g])
    const promote = await next(s, 'ann', { op: 'admin', user: 'ben' })
    s = applyEntry(s, promote)
    const byAnn = await next(s, 'ann', { op: 'rename', name: 'By ann' })
    const byBen = await next(s, 'ben', { op: 'add', members: [member('eve')] })
    const A = [g, promote, byAnn]
    const B = [g, promote, byBen]
    expect(chooseLog(A, B)).toBe('a')
    expect(chooseLog(B, A)).toBe('b')
    // Even when ben's branch is longer.
    const sb = replay(B)
    const B2 = [...B, await next(sb, 'ben', { op: 'rename', name: 'By ben' })]
    expect(chooseLog(A, B2)).toBe('a')
  })

  it('keep a removal when the removed admin forks from before it', async () => {
    const g = await genesis()
    let s = replay([g])
    const promote = await next(s, 'ann', { op: 'admin', user: 'ben' })
    s = applyEntry(s, promote)
    const removeBen = await next(s, 'ann', { op: 'remove', user: 'ben' })
    // ben, removed, signs his own history from before it, as many entries as he likes.
    const forked = [g, promote, await next(s, 'ben', { op: 'remove', user: 'cat' })]
    forked.push(await next(replay(forked), 'ben', { op: 'add', members: [member('eve')] }))
    expect(chooseLog([g, promote, removeBen], forked)).toBe('a')
  })

  it('break ties between one author’s forks by hash, symmetrically', async () => {
    const g = await genesis()
    const s = replay([g])
    const x = await next(s, 'ann', { op: 'rename', name: 'X' })
    const y = await next(s, 'ann', { op: 'rename', name: 'Y' })
    const first = chooseLog([g, x], [g, y])
    expect(chooseLog([g, y], [g, x])).toBe(first === 'a' ? 'b' : 'a')
  })
})
