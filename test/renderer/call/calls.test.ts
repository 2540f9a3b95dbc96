/** How a finished call is logged and explained to the user. */
import { describe, expect, it } from 'vitest'
import { describeCallEnd, describeMediaError } from '../../../src/renderer/call/call-messages.js'
import { callRecord, mergeCallHistory } from '../../../src/renderer/call/call-record.js'
import { finalResponse, remoteCallEnd } from '../../../src/renderer/sip/call-end.js'
import type { CallRecordJson } from '../../../src/shared/api/contract.js'
import { CallRecordJsonSchema } from '../../../src/shared/api/contract.js'

const T0 = Date.parse('2025-01-01T10:00:00.000Z')

describe('call record', () => {
  it('is a valid callLog input, with answered calls counted as answered', () => {
    const rec = callRecord({
      id: 'abc@host',
      peer: 'bob',
      direction: 'out',
      end: { outcome: 'failed', by: 'remote', reason: 'media lost' },
      startedAt: T0,
      answeredAt: T0 + 3000,
      endedAt: T0 + 63_000,
      path: 'relay',
    })
    expect(CallRecordJsonSchema.strict().parse(rec)).toEqual({
      id: 'abc@host',
      peer: 'bob',
      direction: 'out',
      outcome: 'answered',
      startedAt: '2025-01-01T10:00:00.000Z',
      answeredAt: '2025-01-01T10:00:03.000Z',
      endedAt: '2025-01-01T10:01:03.000Z',
      path: 'relay',
    })
  })

  it('keeps the outcome of unanswered calls and skips calls without a peer', () => {
    const base = {
      id: 'x',
      direction: 'in' as const,
      startedAt: T0,
      answeredAt: undefined,
      endedAt: T0,
      path: 'unknown' as const,
    }
    expect(
      callRecord({ ...base, peer: 'bob', end: { outcome: 'missed', by: 'remote', reason: '' } })
        ?.outcome,
    ).toBe('missed')
    expect(
      callRecord({ ...base, peer: '', end: { outcome: 'missed', by: 'remote', reason: '' } }),
    ).toBeUndefined()
  })

  it('merges the node history with this session, newest first, node copy winning', () => {
    const rec = (
      id: string,
      startedAt: string,
      path: CallRecordJson['path'] = 'direct',
    ): CallRecordJson => ({
      id,
      peer: 'bob',
      direction: 'out',
      outcome: 'answered',
      startedAt,
      answeredAt: startedAt,
      endedAt: startedAt,
      path,
    })
    const merged = mergeCallHistory(
      [rec('a', '2025-01-01T10:00:00Z', 'relay'), rec('b', '2025-01-01T09:00:00Z')],
      [rec('a', '2025-01-01T10:00:00Z', 'unknown'), rec('c', '2025-01-01T11:00:00Z')],
    )
    expect(merged.map((r) => [r.id, r.path])).toEqual([
      ['c', 'direct'],
      ['a', 'relay'],
      ['b', 'direct'],
    ])
  })

  it('keeps an anchor this session saw when the node copy lacks one', () => {
    const rec: CallRecordJson = {
      id: 'a',
      peer: 'bob',
      direction: 'in',
      outcome: 'answered',
      startedAt: '2025-01-01T10:00:00Z',
      answeredAt: '2025-01-01T10:00:00Z',
      endedAt: '2025-01-01T10:01:00Z',
      path: 'direct',
    }
    const merged = mergeCallHistory([rec], [{ ...rec, path: 'unknown', anchor: 'phone' }])
    expect(merged).toEqual([{ ...rec, anchor: 'phone' }])
  })
})

describe('call end messages', () => {
  const out = (status: number | undefined, outcome: 'failed' | 'declined' = 'failed') =>
    describeCallEnd(
      { outcome, by: 'remote', reason: 'x', ...(status ? { status } : {}) },
      'bob',
      'out',
    )

  it('explains failed outgoing calls and what to do next', () => {
    expect(out(486, 'declined')).toBe('bob is busy. Try again later, or send a message.')
    expect(out(603, 'declined')).toBe('bob declined the call. Try again later, or send a message.')
    expect(out(480)).toMatch(/offline. Send a message instead/)
    expect(out(404)).toMatch(/no user "bob"/)
    expect(out(408)).toMatch(/Check your network/)
    expect(out(undefined)).toBe('bob did not answer. Try again later, or send a message.')
    expect(out(500)).toBe('The call to bob failed (500 x). Try again.')
    expect(out(503)).toMatch(/^No path to bob right now.*Try again in a minute/)
  })

  it('says a phone with no common audio format is about its settings, not about updating Kaiwa', () => {
    for (const status of [488, 606]) {
      const text = out(status)
      expect(text).toBe(
        "bob's phone can't use this call's audio format. Ask bob to turn on Opus or G.711 (PCMU/PCMA) in that phone's settings, or to answer in the Kaiwa app.",
      )
      expect(text).not.toMatch(/update Kaiwa/)
    }
    const why = describeCallEnd(
      {
        outcome: 'failed',
        by: 'remote',
        status: 488,
        reason: 'Not Acceptable Here',
        reasonText: 'phone offers G.729 only',
      },
      'bob',
      'out',
    )
    expect(why).toMatch(
      /^bob's phone can't use this call's audio format \(phone offers G\.729 only\)\. Ask bob/,
    )
  })

  it('shows the Reason text (RFC 3326) in place of the bare phrase', () => {
    expect(
      describeCallEnd(
        {
          outcome: 'failed',
          by: 'remote',
          status: 500,
          reason: 'Server Error',
          reasonText: 'anchor out of ports',
        },
        'bob',
        'out',
      ),
    ).toBe('The call to bob failed (500 anchor out of ports). Try again.')
  })

  it('never calls an answered call that failed "missed"', () => {
    const error = Object.assign(new Error('SDP without DTLS fingerprint'), {
      name: 'InvalidAccessError',
    })
    const text = describeCallEnd(
      { outcome: 'failed', by: 'local', reason: 'x', error },
      'bob',
      'in',
    )
    expect(text).toMatch(
      /^The call from bob could not be connected \(SDP without DTLS fingerprint\)\. Ask bob to call again/,
    )
    const mic = Object.assign(new Error('x'), { name: 'NotAllowedError' })
    expect(
      describeCallEnd({ outcome: 'failed', by: 'local', reason: 'x', error: mic }, 'bob', 'in'),
    ).toMatch(/Allow microphone access/)
  })

  it('is silent for normal hang-ups and own cancels, and reports missed calls', () => {
    expect(
      describeCallEnd({ outcome: 'answered', by: 'remote', reason: '' }, 'bob', 'out'),
    ).toBeUndefined()
    expect(
      describeCallEnd({ outcome: 'cancelled', by: 'local', reason: '' }, 'bob', 'out'),
    ).toBeUndefined()
    expect(describeCallEnd({ outcome: 'missed', by: 'remote', reason: '' }, 'bob', 'in')).toBe(
      'Missed call from bob.',
    )
    expect(
      describeCallEnd({ outcome: 'declined', by: 'local', reason: '' }, 'bob', 'in'),
    ).toBeUndefined()
  })

  it('reads the final response and its Reason into the call end', () => {
    const r = finalResponse(488, 'Not Acceptable Here', [
      'Q.850;cause=65, SIP ;cause=488 ;text="no common codec"',
    ])
    expect(r).toEqual({ status: 488, reason: 'Not Acceptable Here', reasonText: 'no common codec' })
    expect(finalResponse(undefined, undefined, [])).toEqual({ status: 0, reason: '' })
    const facts = { direction: 'out' as const, answered: false, remoteCancelled: false }
    expect(remoteCallEnd({ ...facts, finalResponse: r })).toEqual({
      outcome: 'failed',
      by: 'remote',
      status: 488,
      reason: 'Not Acceptable Here',
      reasonText: 'no common codec',
    })
    expect(
      remoteCallEnd({ ...facts, finalResponse: { status: 603, reason: 'Decline' } }).outcome,
    ).toBe('declined')
    expect(
      remoteCallEnd({ ...facts, direction: 'in', remoteCancelled: true, finalResponse: undefined }),
    ).toEqual({ outcome: 'missed', by: 'remote', reason: 'Cancelled' })
  })

  it('turns microphone errors into instructions', () => {
    const err = (name: string) => Object.assign(new Error('x'), { name })
    expect(describeMediaError(err('NotAllowedError'))).toMatch(/Allow microphone access/)
    expect(describeMediaError(err('NotFoundError'))).toMatch(/No microphone found/)
    expect(describeMediaError(err('NotReadableError'))).toMatch(/in use by another application/)
  })
})
