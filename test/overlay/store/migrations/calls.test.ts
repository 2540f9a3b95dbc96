/**
 * calls v1 → v2: call records the old CallLog stored as the API's bare JSON
 * are rewritten in the versioned envelope and listed newest first as before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CallLog } from '../../../../src/overlay/store/call-log.js'
import { callsCollection, callsMigrations } from '../../../../src/overlay/store/migrations/calls.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { getJson, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

const call = (id: string, startedAt: string) => ({
  id,
  peer: 'bob',
  direction: 'out' as const,
  outcome: 'answered' as const,
  startedAt,
  answeredAt: startedAt,
  endedAt: startedAt,
  path: 'direct' as const,
})
const sortKey = (startedAt: string, id: string): string =>
  `/kaiwa/calls/${String(Date.parse(startedAt)).padStart(15, '0')}-${id}`

describe('calls migration 1 -> 2', () => {
  it('takes a v1 entry to the v2 value and rejects one that is not a call', () => {
    const [m] = callsMigrations
    expect([m.from, m.to]).toEqual([1, 2])
    const c = call('c1', '2024-05-01T10:00:00.000Z')
    expect(m.migrate(JSON.parse(JSON.stringify(c)))).toEqual(c)
    expect(() => m.migrate({ ...c, outcome: 'exploded' })).toThrow()
  })

  it('rewrites what the old CallLog stored and lists it newest first', async () => {
    const a = call('c1', '2024-05-01T10:00:00.000Z')
    const b = call('c2', '2024-05-02T10:00:00.000Z')
    await putRaw(store.ds, sortKey(a.startedAt, a.id), JSON.stringify(a))
    await putRaw(store.ds, sortKey(b.startedAt, b.id), JSON.stringify(b))

    expect(await openCollection(store.ds, callsCollection)).toMatchObject({ from: 1, migrated: 2 })
    expect(await getJson(store.ds, sortKey(a.startedAt, a.id))).toEqual({ $v: 2, data: a })

    const log = new CallLog(store.ds)
    expect(await log.list()).toEqual([b, a])
    await log.add(call('c3', '2024-05-03T10:00:00.000Z'))
    expect((await log.list()).map((c) => c.id)).toEqual(['c3', 'c2', 'c1'])
  })
})
