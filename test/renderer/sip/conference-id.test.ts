/**
 * The X-Kaiwa-Conference header of group calls: fresh IDs are 128 random
 * bits, members are user IDs, and anything malformed or oversized parses to
 * nothing (the INVITE is then an ordinary call that rings, never auto-accepted).
 */
import { describe, expect, it } from 'vitest'
import {
  conferenceHeaderLine,
  formatConference,
  isConferenceId,
  newConferenceId,
  parseConference,
} from '../../../src/renderer/sip/conference-id.js'

const ID = '3f9c0a7e5b1d44c8a2e6f0b9d3c7a1e4'

describe('conference IDs and the X-Kaiwa-Conference header', () => {
  it('makes 32 hex digit IDs from the CSPRNG, different every time', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newConferenceId()))
    expect(ids.size).toBe(50)
    for (const id of ids) expect(isConferenceId(id)).toBe(true)
    expect(newConferenceId((b) => b.fill(0xab))).toBe('ab'.repeat(16))
  })

  it('round-trips, with members sorted and deduplicated', () => {
    const v = formatConference({ id: ID, members: ['carol', 'alice', 'bob', 'alice'] })
    expect(v).toBe(`${ID}; members=alice,bob,carol`)
    expect(parseConference(v)).toEqual({ id: ID, members: ['alice', 'bob', 'carol'] })
    expect(conferenceHeaderLine({ id: ID, members: ['bob'] })).toBe(
      `X-Kaiwa-Conference: ${ID}; members=bob`,
    )
    expect(parseConference(`  ${ID};members=bob,alice  `)).toEqual({
      id: ID,
      members: ['alice', 'bob'],
    })
  })

  it('refuses to write a bad ID or member', () => {
    expect(() => formatConference({ id: 'abc', members: ['bob'] })).toThrow(/conference ID/)
    expect(() => formatConference({ id: ID, members: ['Bob!'] })).toThrow(/user ID/)
  })

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['short ID', 'abcd; members=alice'],
    ['upper-case ID', `${ID.toUpperCase()}; members=alice`],
    ['no members', `${ID}`],
    ['empty members', `${ID}; members=`],
    ['a member that is not a user ID', `${ID}; members=alice,<script>`],
    ['an empty member', `${ID}; members=alice,,bob`],
    ['six members', `${ID}; members=aaa,bbb,ccc,ddd,eee,fff`],
    ['a stray parameter', `${ID}; members=alice; admin=yes`],
    ['a header injection', `${ID}; members=alice\r\nX-Evil: 1`],
  ])('parses %s to nothing', (_what, value) => {
    expect(parseConference(value)).toBeUndefined()
  })
})
