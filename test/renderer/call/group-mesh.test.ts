/**
 * The mesh rules of group calls (group-mesh.ts): who is auto-accepted (only
 * a verified member of the very conference we are in), who waits for a
 * roster update, glare between two members, whom a newcomer calls, and the
 * size limits.
 */
import { describe, expect, it } from 'vitest'
import type { SenderState } from '../../../src/shared/identity/verification-state.js'
import {
  addProblem,
  admit,
  mergeRoster,
  peersToInvite,
} from '../../../src/renderer/call/group-mesh.js'
import type { LegState, MeshState } from '../../../src/renderer/call/group-mesh.js'

const ID = '3f9c0a7e5b1d44c8a2e6f0b9d3c7a1e4'
const OTHER = '00000000000000000000000000000001'
const verified: SenderState = {
  state: 'verified',
  fingerprint: 'abcd-efgh-ijkl-mnop',
  conflict: false,
}
const fresh: SenderState = { ...verified, state: 'new' }
const mismatch: SenderState = { ...verified, state: 'mismatch' }

function mesh(self: string, members: string[], legs: Record<string, LegState> = {}): MeshState {
  return { id: ID, self, members: new Set([self, ...members]), legs: new Map(Object.entries(legs)) }
}
const conf = (members: string[], id = ID) => ({ id, members })

describe('admit: auto-accepting INVITEs of our conference', () => {
  it('accepts a verified member of our conference', () => {
    const m = mesh('bob', ['alice', 'carol'], { alice: 'active' })
    expect(admit(m, 'carol', conf(['alice', 'bob', 'carol']), verified)).toEqual({
      kind: 'accept',
      cancelOwn: false,
    })
    // A first contact (no pinned key) whose node-verified identity holds is a member too.
    expect(admit(m, 'carol', conf(['alice', 'bob', 'carol']), fresh).kind).toBe('accept')
  })

  it('leaves INVITEs of no conference, or of another one, to ring as ordinary calls', () => {
    expect(admit(undefined, 'carol', conf(['carol']), verified)).toEqual({ kind: 'not-ours' })
    const m = mesh('bob', ['alice', 'carol'])
    expect(admit(m, 'carol', undefined, verified)).toEqual({ kind: 'not-ours' })
    expect(admit(m, 'carol', conf(['alice', 'bob', 'carol'], OTHER), verified)).toEqual({
      kind: 'not-ours',
    })
  })

  it('never auto-accepts a sender its node did not verify, or whose key is not the pinned one', () => {
    const m = mesh('bob', ['alice', 'carol'])
    expect(admit(m, 'carol', conf(['carol']), undefined)).toMatchObject({
      kind: 'refuse',
      status: 403,
    })
    expect(admit(m, 'carol', conf(['carol']), mismatch)).toMatchObject({
      kind: 'refuse',
      status: 403,
    })
  })

  it('does not take the INVITE’s own member list on trust: a non-member waits for a roster update', () => {
    const m = mesh('bob', ['alice'])
    expect(admit(m, 'mallory', conf(['alice', 'bob', 'mallory']), verified)).toEqual({
      kind: 'wait',
    })
  })

  it('refuses an INVITE from ourselves and a second dialog with a member', () => {
    const m = mesh('bob', ['alice', 'carol'], { alice: 'active', carol: 'incoming' })
    expect(admit(m, 'bob', conf(['bob']), verified)).toMatchObject({ kind: 'refuse', status: 403 })
    expect(admit(m, 'alice', conf(['alice']), verified)).toMatchObject({
      kind: 'refuse',
      status: 486,
    })
    expect(admit(m, 'carol', conf(['carol']), verified)).toMatchObject({
      kind: 'refuse',
      status: 486,
    })
  })

  it('settles glare: the INVITE placed by the lower user ID wins on both sides', () => {
    // carol and dave INVITE each other at once.
    const atDave = mesh('dave', ['carol'], { carol: 'outgoing' })
    const atCarol = mesh('carol', ['dave'], { dave: 'outgoing' })
    expect(admit(atDave, 'carol', conf(['carol', 'dave']), verified)).toEqual({
      kind: 'accept',
      cancelOwn: true,
    })
    expect(admit(atCarol, 'dave', conf(['carol', 'dave']), verified)).toMatchObject({
      kind: 'refuse',
      status: 486,
    })
  })
})

describe('the newcomer, the roster and the limits', () => {
  it('a newcomer INVITEs every member but itself, its inviter and those it already has', () => {
    const m = mesh('dave', ['alice', 'bob', 'carol'], { alice: 'active', carol: 'outgoing' })
    expect(peersToInvite(m, 'alice')).toEqual(['bob'])
    expect(peersToInvite(mesh('carol', ['alice', 'bob'], { alice: 'active' }), 'alice')).toEqual([
      'bob',
    ])
  })

  it('merges a member’s roster update, additively, up to five people', () => {
    const members = new Set(['alice', 'bob'])
    expect([...mergeRoster(members, conf(['alice', 'bob', 'carol']), 'bob')].sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ])
    // An update naming six people is ignored whole.
    const big = mergeRoster(members, conf(['ccc', 'ddd', 'eee', 'fff']), 'bob')
    expect([...big].sort()).toEqual(['alice', 'bob'])
  })

  it('says why a contact cannot be added', () => {
    const members = new Set(['alice', 'bob'])
    expect(addProblem(members, 'alice', 'carol')).toBeUndefined()
    expect(addProblem(members, 'alice', 'alice')).toBe('self')
    expect(addProblem(members, 'alice', 'bob')).toBe('member')
    expect(addProblem(new Set(['a1a', 'b1b', 'c1c', 'd1d', 'e1e']), 'a1a', 'f1f')).toBe('full')
  })
})
