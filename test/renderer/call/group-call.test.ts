/**
 * The group-call controller (group-call.ts) over scripted calls: a
 * one-to-one call becomes a group by Add to call (roster INFO to the peer,
 * an INVITE with the conference to the newcomer), by a roster update, or by
 * answering an invitation (the newcomer then INVITEs the others); members
 * are auto-accepted only when verified and on the roster, others wait or are
 * refused; glare; leaving; Mute for every pair; the video size limit.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SenderState } from '../../../src/shared/identity/verification-state.js'
import { createStore } from '../../../src/renderer/base/store.js'
import { createGroupCallController } from '../../../src/renderer/call/group-call.js'
import type { CallsState } from '../../../src/renderer/call/call-controller.js'
import type { KaiwaCallConference } from '../../../src/renderer/sip/call-conference.js'
import type { CallPhase } from '../../../src/renderer/sip/call-session.js'
import { parseConference } from '../../../src/renderer/sip/conference-id.js'
import type { Conference } from '../../../src/renderer/sip/conference-id.js'
import type { KaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import { ScriptedCall } from './scripted-call.js'

const ID = '3f9c0a7e5b1d44c8a2e6f0b9d3c7a1e4'
const verified: SenderState = {
  state: 'verified',
  fingerprint: 'abcd-efgh-ijkl-mnop',
  conflict: false,
}

class FakeConference implements KaiwaCallConference {
  sent: Conference[] = []
  private listeners = new Set<(c: Conference) => void>()
  constructor(readonly invite: Conference | undefined) {}
  sendRoster = (c: Conference) => {
    this.sent.push(c)
    return Promise.resolve()
  }
  onRoster(l: (c: Conference) => void) {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
  emit(c: Conference) {
    for (const l of [...this.listeners]) l(c)
  }
}

class Call extends ScriptedCall {
  answered = false
  declined: boolean | undefined
  hungUp = false
  readonly conference: FakeConference
  readonly verification: SenderState | undefined
  constructor(
    peer: string,
    direction: 'in' | 'out',
    phase: CallPhase,
    invite?: Conference,
    verification?: SenderState | null,
  ) {
    super(`${peer}-${Math.random()}`, peer, direction, phase)
    this.verification =
      verification === null
        ? undefined
        : (verification ?? (direction === 'in' ? verified : undefined))
    this.conference = new FakeConference(invite)
  }
  set(phase: CallPhase) {
    this.emit(phase)
  }
  override answer = vi.fn(async () => {
    this.answered = true
    this.set('active')
  })
  override decline = vi.fn(async (busy?: boolean) => {
    this.declined = busy === true
    this.set('ended')
  })
  override hangup = vi.fn(async () => {
    this.hungUp = true
    this.set('ended')
  })
}

function setup(self: string, current?: Call) {
  const placed: Array<{ call: Call; headers: string[] }> = []
  const calls = {
    store: createStore<CallsState>({
      current: undefined,
      notice: undefined,
      history: [],
      historyError: undefined,
    }),
    cur: current as Call | undefined,
    current: () => calls.cur,
    release: vi.fn(() => {
      const c = calls.cur
      calls.cur = undefined
      calls.store.patch({})
      return c
    }),
    /** The call controller's store changed (its call changed phase). */
    changed: () => calls.store.set((s) => ({ ...s })),
  }
  const platform = {
    callStarting: vi.fn(() => Promise.resolve()),
    callEnded: vi.fn(),
    cameraStarting: vi.fn(() => Promise.resolve()),
    cameraStopped: vi.fn(),
  }
  const ua = {
    aor: `sip:${self}@kaiwa`,
    call: (peer: string, _media: unknown, headers?: string[]) => {
      const c = new Call(peer, 'out', 'dialing')
      placed.push({ call: c, headers: headers ?? [] })
      return c
    },
  } as unknown as KaiwaUserAgent
  const g = createGroupCallController({
    calls,
    platform,
    media: () => Promise.resolve({ iceServers: [], audio: {} }),
    camera: () => Promise.reject(new Error('no camera in this test')),
    makeAudio: () => ({
      attach: vi.fn(),
      detach: vi.fn(),
      setSink: () => Promise.resolve(),
      sinkSupported: false,
    }),
    log: () => {},
    rosterWaitMs: 200,
    statsEveryMs: 60_000,
  })
  g.attach(ua)
  calls.changed()
  return { g, calls, platform, placed }
}

const conferenceOf = (headers: string[]) =>
  parseConference(headers.find((h) => h.startsWith('X-Kaiwa-Conference: '))?.slice(20))
const flush = () => new Promise((r) => setTimeout(r, 0))
const members = (g: ReturnType<typeof setup>['g']) =>
  g.store.get().group?.members.map((m) => `${m.peer}:${m.state}`)

afterEach(() => vi.useRealTimers())

describe('group calls: forming the mesh', () => {
  it('Add to call turns a one-to-one call into a group: roster INFO to the peer, INVITE to the newcomer', async () => {
    const bob = new Call('bob', 'out', 'active')
    const { g, calls, placed } = setup('alice', bob)
    await g.add('carol')
    expect(calls.release).toHaveBeenCalled()
    const conf = conferenceOf(placed[0]!.headers)!
    expect(placed[0]!.call.peer).toBe('carol')
    expect(conf.members).toEqual(['alice', 'bob', 'carol'])
    expect(bob.conference.sent.at(-1)).toEqual({ id: conf.id, members: ['alice', 'bob', 'carol'] })
    expect(members(g)).toEqual(['bob:connected', 'carol:calling'])
    // carol answers: she gets the roster too (it may have grown while she rang).
    placed[0]!.call.set('active')
    expect(members(g)).toEqual(['bob:connected', 'carol:connected'])
    expect(placed[0]!.call.conference.sent.at(-1)?.members).toEqual(['alice', 'bob', 'carol'])
    expect(g.store.get().group?.canAdd).toBe(true)
  })

  it('refuses to add a member twice, ourselves, or a sixth person', async () => {
    const { g, placed } = setup('alice', new Call('bob', 'out', 'active'))
    await g.add('bob')
    expect(g.store.get().notice).toBe('bob is already in this call.')
    await g.add('alice')
    expect(g.store.get().notice).toBe('You are already in this call.')
    for (const n of ['carol', 'dave', 'erin']) await g.add(n)
    await g.add('frank')
    expect(g.store.get().notice).toBe('A group call takes at most 5 people.')
    expect(placed.map((p) => p.call.peer)).toEqual(['carol', 'dave', 'erin'])
    expect(g.store.get().group?.canAdd).toBe(false)
  })

  it('a roster update on a one-to-one call makes it a group; the newcomer is auto-accepted', async () => {
    const alice = new Call('alice', 'in', 'active')
    const { g, calls } = setup('bob', alice)
    alice.conference.emit({ id: ID, members: ['alice', 'bob', 'carol'] })
    expect(calls.release).toHaveBeenCalled()
    expect(members(g)).toEqual(['alice:connected', 'carol:joining'])
    const carol = new Call('carol', 'in', 'incoming', {
      id: ID,
      members: ['alice', 'bob', 'carol'],
    })
    expect(g.claim(carol)).toBe(true)
    await flush()
    expect(carol.answered).toBe(true)
    expect(members(g)).toEqual(['alice:connected', 'carol:connected'])
  })

  it('an INVITE that arrives before the roster update waits for it, then is accepted', async () => {
    const alice = new Call('alice', 'in', 'active')
    const { g } = setup('bob', alice)
    alice.conference.emit({ id: ID, members: ['alice', 'bob'] })
    const carol = new Call('carol', 'in', 'incoming', {
      id: ID,
      members: ['alice', 'bob', 'carol'],
    })
    expect(g.claim(carol)).toBe(true)
    await flush()
    expect(carol.answered).toBe(false)
    expect(carol.declined).toBeUndefined()
    alice.conference.emit({ id: ID, members: ['alice', 'bob', 'carol'] })
    await flush()
    expect(carol.answered).toBe(true)
  })

  it('the newcomer answers the invitation, then INVITEs every other member', async () => {
    const invite = { id: ID, members: ['alice', 'bob', 'carol', 'dave'] }
    const alice = new Call('alice', 'in', 'incoming', invite)
    const { g, calls, placed } = setup('dave', alice)
    expect(g.claim(alice)).toBe(false) // not in a group yet: it rings as a call
    alice.set('active')
    calls.changed()
    expect(placed.map((p) => p.call.peer)).toEqual([])
    await flush()
    expect(placed.map((p) => p.call.peer)).toEqual(['bob', 'carol'])
    for (const p of placed) expect(conferenceOf(p.headers)).toEqual(invite)
    expect(members(g)).toEqual(['alice:connected', 'bob:calling', 'carol:calling'])
  })
})

describe('group calls: who gets in', () => {
  it('never auto-accepts an unverified sender, a non-member, or another conference', async () => {
    vi.useFakeTimers()
    const alice = new Call('alice', 'in', 'active')
    const { g } = setup('bob', alice)
    alice.conference.emit({ id: ID, members: ['alice', 'bob', 'carol'] })
    const unverified = new Call('carol', 'in', 'incoming', { id: ID, members: ['carol'] }, null)
    expect(g.claim(unverified)).toBe(true)
    expect(unverified.declined).toBe(false) // 603
    const other = new Call('erin', 'in', 'incoming', {
      id: '0'.repeat(32),
      members: ['erin', 'bob'],
    })
    expect(g.claim(other)).toBe(true)
    expect(other.declined).toBe(true) // 486: busy in a group call
    const plain = new Call('frank', 'in', 'incoming')
    expect(g.claim(plain)).toBe(true)
    expect(plain.declined).toBe(true)
    const mallory = new Call('mallory', 'in', 'incoming', { id: ID, members: ['mallory', 'bob'] })
    expect(g.claim(mallory)).toBe(true)
    expect(mallory.declined).toBeUndefined()
    await vi.advanceTimersByTimeAsync(250)
    expect(mallory.declined).toBe(false)
    expect(mallory.answered).toBe(false)
  })

  it('settles glare: the higher user ID cancels its own INVITE and takes the other', async () => {
    const invite = { id: ID, members: ['alice', 'carol', 'dave'] }
    const alice = new Call('alice', 'in', 'incoming', invite)
    const { g, calls, placed } = setup('dave', alice)
    alice.set('active')
    calls.changed()
    await flush()
    const own = placed.find((p) => p.call.peer === 'carol')!.call
    const theirs = new Call('carol', 'in', 'incoming', invite)
    expect(g.claim(theirs)).toBe(true)
    await flush()
    expect(own.hungUp).toBe(true)
    expect(theirs.answered).toBe(true)
    expect(members(g)).toEqual(['alice:connected', 'carol:connected'])
  })
})

describe('group calls: in the call', () => {
  it('Mute applies to every pair; a member hanging up leaves; the last one ends the call', async () => {
    const bob = new Call('bob', 'out', 'active')
    const { g, platform, placed } = setup('alice', bob)
    await g.add('carol')
    const carol = placed[0]!.call
    carol.set('active')
    g.toggleMute()
    expect([bob.muted, carol.muted]).toEqual([true, true])
    expect(g.store.get().group?.muted).toBe(true)
    carol.set('ended')
    expect(members(g)).toEqual(['bob:connected'])
    bob.set('ended')
    expect(g.store.get().group).toBeUndefined()
    expect(platform.callEnded).toHaveBeenCalledTimes(1)
  })

  it('Leave call hangs up every pair (a BYE each)', async () => {
    const bob = new Call('bob', 'out', 'active')
    const { g, placed } = setup('alice', bob)
    await g.add('carol')
    placed[0]!.call.set('active')
    await g.leave()
    expect([bob.hungUp, placed[0]!.call.hungUp]).toEqual([true, true])
    expect(g.store.get().group).toBeUndefined()
  })

  it('allows video up to four people', async () => {
    const { g } = setup('alice', new Call('bob', 'out', 'active'))
    await g.add('carol')
    await g.add('dave')
    expect(g.store.get().group?.videoAllowed).toBe(true)
    await g.add('erin')
    expect(g.store.get().group?.videoAllowed).toBe(false)
    await g.toggleCamera()
    expect(g.store.get().notice).toBe(
      'Video is for group calls of up to 4 people, so your camera is off.',
    )
  })
})
