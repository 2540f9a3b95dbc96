/**
 * The call controller with the session faked: a call refused before it rang
 * (an offer this app cannot use) is told and logged, and the far end's media
 * anchor reaches the call view, the node's call log and, from there, the
 * history of a later session (calls-tab.test.tsx renders it).
 */
import { describe, expect, it } from 'vitest'
import type { CallRecordJson } from '../../../src/shared/api/contract.js'
import type { CallEnd } from '../../../src/renderer/sip/call-session.js'
import { FakeCall, nodeCall, setupCalls as setup, tick } from './call-controller-fakes.js'

describe('call controller: anchored and refused calls', () => {
  it('tells the user about a call refused before it rang, notifies, and logs it as failed', async () => {
    const { calls, deliver, notify, logged } = setup(false)
    const end: CallEnd = {
      outcome: 'failed',
      by: 'local',
      status: 488,
      reason: 'Not Acceptable Here',
      offerProblem: { kind: 'not-encrypted', text: 'no DTLS-SRTP fingerprint (plain RTP/AVP)' },
    }
    deliver(new FakeCall('c1', 'alice', 'ended', end, undefined))
    await tick()
    const state = calls.store.get()
    expect(state.current).toBeUndefined()
    expect(state.notice?.tone).toBe('error')
    expect(state.notice?.text).toBe(
      'alice called from a SIP phone whose audio this app cannot receive (no DTLS-SRTP fingerprint (plain RTP/AVP)). Ask alice to call from the Kaiwa app, or to update the Kaiwa node that phone uses so it can connect phone calls.',
    )
    expect(notify).toHaveBeenCalledWith('Missed call', state.notice?.text)
    expect(logged.map((r) => [r.peer, r.direction, r.outcome])).toEqual([['alice', 'in', 'failed']])
  })

  it('shows where encryption ends on an anchored call, and the node logs the anchor with it', async () => {
    const { calls, deliver, logged } = setup(true)
    const c = new FakeCall('c2', 'alice', 'incoming', undefined, 'phone')
    deliver(c)
    expect(calls.store.get().current).toMatchObject({ peer: 'alice', anchor: 'phone' })
    c.emit('active')
    c.emit('ended', { outcome: 'answered', by: 'remote', reason: 'Hung up' })
    await tick()
    expect(logged.map((r) => [r.id, r.anchor])).toEqual([['c2', 'phone']])
    expect(calls.store.get().history.map((h) => [h.id, h.outcome, h.anchor])).toEqual([
      ['c2', 'answered', 'phone'],
    ])
    expect(calls.store.get().notice).toBeUndefined()
  })

  it('logs an end-to-end call without an anchor field', async () => {
    const { deliver, logged } = setup(true)
    const c = new FakeCall('c4', 'bob', 'incoming', undefined, undefined)
    deliver(c)
    c.emit('ended', { outcome: 'missed', by: 'remote', reason: '' })
    await tick()
    expect(logged.map((r) => [r.id, r.outcome])).toEqual([['c4', 'missed']])
    expect(logged[0]).not.toHaveProperty('anchor')
  })

  it('leaves end-to-end calls without an anchor', () => {
    const { calls, deliver } = setup(true)
    deliver(new FakeCall('c3', 'bob', 'incoming', undefined, undefined))
    expect(calls.store.get().current).not.toHaveProperty('anchor')
  })
})

describe('call history from the node', () => {
  it('keeps the anchor of a call a previous session logged, and none for an end-to-end one', async () => {
    // What the node lists after a restart: nothing of it is in this session's memory.
    const nodeLog: CallRecordJson[] = [
      { ...nodeCall('old-anchored', 'alice', '2025-01-02T10:00:00.000Z'), anchor: 'phone' },
      nodeCall('old-e2e', 'bob', '2025-01-01T10:00:00.000Z'),
    ]
    const { calls } = setup(true, nodeLog)
    await calls.refreshHistory()
    expect(calls.store.get().history.map((h) => [h.id, h.anchor])).toEqual([
      ['old-anchored', 'phone'],
      ['old-e2e', undefined],
    ])
  })

  it('lists the anchor after a restart for a call this app logged before it', async () => {
    const nodeLog: CallRecordJson[] = []
    const first = setup(true, nodeLog)
    const c = new FakeCall('c5', 'alice', 'incoming', undefined, 'phone')
    first.deliver(c)
    c.emit('active')
    c.emit('ended', { outcome: 'answered', by: 'remote', reason: 'Hung up' })
    await tick()

    const later = setup(true, nodeLog)
    await later.calls.refreshHistory()
    expect(later.calls.store.get().history.map((h) => [h.id, h.anchor])).toEqual([['c5', 'phone']])
  })
})
