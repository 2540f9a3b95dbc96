/** Chat logic: what a sent message shows, and merging the node's history with local sends. */
import { describe, expect, it } from 'vitest'
import type { StoredMessageJson } from '../../../src/shared/api/contract.js'
import { outcomeOfApiError, outcomeOfStatus } from '../../../src/renderer/chat/send-outcome.js'
import {
  mergeThread,
  settledLocal,
  upsertMessage,
} from '../../../src/renderer/chat/thread-merge.js'
import { peerUser } from '../../../src/shared/sip/overlay-uri.js'
import type { LocalMessage } from '../../../src/renderer/chat/thread-merge.js'

const node = (
  id: string,
  text: string,
  date: string,
  direction: 'in' | 'out' = 'out',
): StoredMessageJson => ({
  id,
  direction,
  peer: 'sip:bob@kaiwa',
  from: direction === 'out' ? 'sip:alice@kaiwa' : 'sip:bob@kaiwa',
  to: direction === 'out' ? 'sip:bob@kaiwa' : 'sip:alice@kaiwa',
  date,
  contentType: 'text/plain',
  text,
  status: direction === 'out' ? 'delivered' : 'received',
  code: 200,
})

const local = (
  localId: string,
  text: string,
  date: string,
  status: LocalMessage['status'],
): LocalMessage => ({
  localId,
  peer: 'bob',
  text,
  date,
  status,
})

describe('send outcome', () => {
  it('says what happened and what to do next', () => {
    expect(outcomeOfStatus(200, 'bob')).toEqual({ status: 'delivered' })
    expect(outcomeOfStatus(202, 'bob')).toEqual({
      status: 'stored',
      note: 'bob is offline; the message will be delivered when bob is back.',
    })
    expect(outcomeOfStatus(404, 'bob')).toMatchObject({
      status: 'failed',
      note: expect.stringContaining('no user "bob"'),
    })
    expect(outcomeOfStatus(480, 'bob').note).toMatch(/unreachable.*Try again later/)
    expect(outcomeOfStatus(408, 'bob').note).toMatch(/in time/)
    expect(outcomeOfStatus(500, 'bob', 'Server Error').note).toBe(
      'Not sent (500 Server Error). Try again.',
    )
  })

  it('maps the API errors of a message the node sent itself', () => {
    expect(outcomeOfApiError('not_found', 'bob', '').status).toBe('failed')
    expect(outcomeOfApiError('unavailable', 'bob', '').note).toMatch(/unreachable/)
    expect(outcomeOfApiError('timeout', 'bob', '').note).toMatch(/in time/)
    expect(outcomeOfApiError('internal', 'bob', 'boom').note).toBe('Not sent: boom. Try again.')
  })
})

describe('thread merge', () => {
  const history = [
    node('1', 'hello', '2025-01-01T10:00:00.000Z', 'in'),
    node('2', 'hi bob', '2025-01-01T10:00:05.000Z'),
  ]

  it('drops a settled local message once the node lists it, keeps sending ones', () => {
    const l = [
      local('a', 'hi bob', '2025-01-01T10:00:04.500Z', 'delivered'),
      local('b', 'hi bob', '2025-01-01T10:00:06.000Z', 'sending'),
      local('c', 'not on the node', '2025-01-01T10:00:07.000Z', 'failed'),
    ]
    expect(settledLocal(history, l).map((m) => m.localId)).toEqual(['b', 'c'])
  })

  it('matches each node message to one local message only', () => {
    const l = [
      local('a', 'hi bob', '2025-01-01T10:00:04.000Z', 'delivered'),
      local('b', 'hi bob', '2025-01-01T10:00:05.000Z', 'delivered'),
    ]
    expect(settledLocal(history, l).map((m) => m.localId)).toEqual(['b'])
  })

  it('does not match the same text sent long ago', () => {
    const l = [local('a', 'hi bob', '2025-01-01T11:00:00.000Z', 'stored')]
    expect(settledLocal(history, l)).toHaveLength(1)
  })

  it('shows everything oldest first', () => {
    const l = [local('z', 'later', '2025-01-01T10:00:10.000Z', 'sending')]
    expect(mergeThread(history, l).map((m) => m.message.text)).toEqual(['hello', 'hi bob', 'later'])
  })

  it('upserts events by id', () => {
    const changed = { ...history[1]!, status: 'stored' as const }
    const next = upsertMessage(history, changed)
    expect(next).toHaveLength(2)
    expect(next[1]!.status).toBe('stored')
    expect(upsertMessage(history, node('3', 'new', '2025-01-01T09:00:00.000Z', 'in'))[0]!.id).toBe(
      '3',
    )
  })

  it('reads user IDs from history peers', () => {
    expect(peerUser('sip:Bob@kaiwa')).toBe('bob')
    expect(peerUser('<sip:bob@kaiwa;gr=x>')).toBe('bob')
    expect(peerUser('bob')).toBe('bob')
  })
})
