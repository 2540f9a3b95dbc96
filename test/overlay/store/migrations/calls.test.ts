/**
 * calls v1 → v2: call records the old CallLog stored as the API's bare JSON
 * are rewritten in the versioned envelope and listed newest first as before.
 * calls v2 → v3: the media anchor, null for older entries (no call was logged
 * with it before); a log written by a newer build is refused untouched.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CallRecordJson } from '../../../../src/shared/api/contract.js'
import { CallLog } from '../../../../src/overlay/store/call-log.js'
import {
  callsCollection,
  callsV1ToV2,
  callsV2ToV3,
} from '../../../../src/overlay/store/migrations/calls.js'
import { migrateAll } from '../../../../src/overlay/store/migrate-all.js'
import { StorageVersionError } from '../../../../src/overlay/store/storage-errors.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { getJson, getRaw, keysUnder, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

const call = (id: string, startedAt: string): CallRecordJson => ({
  id,
  peer: 'bob',
  direction: 'out',
  outcome: 'answered',
  startedAt,
  answeredAt: startedAt,
  endedAt: startedAt,
  path: 'direct',
})
const sortKey = (startedAt: string, id: string): string =>
  `/kaiwa/calls/${String(Date.parse(startedAt)).padStart(15, '0')}-${id}`
/** What v3 adds to every older entry: the anchor was not logged then. */
const NO_ANCHOR = { anchor: null }

describe('calls migration 1 -> 2', () => {
  it('takes a v1 entry to the v2 value and rejects one that is not a call', () => {
    expect([callsV1ToV2.from, callsV1ToV2.to]).toEqual([1, 2])
    const c = call('c1', '2024-05-01T10:00:00.000Z')
    expect(callsV1ToV2.migrate(JSON.parse(JSON.stringify(c)))).toEqual(c)
    expect(() => callsV1ToV2.migrate({ ...c, outcome: 'exploded' })).toThrow()
  })

  it('rewrites what the old CallLog stored and lists it newest first', async () => {
    const a = call('c1', '2024-05-01T10:00:00.000Z')
    const b = call('c2', '2024-05-02T10:00:00.000Z')
    await putRaw(store.ds, sortKey(a.startedAt, a.id), JSON.stringify(a))
    await putRaw(store.ds, sortKey(b.startedAt, b.id), JSON.stringify(b))

    expect(await openCollection(store.ds, callsCollection)).toMatchObject({
      from: 1,
      to: 3,
      migrated: 2,
    })
    expect(await getJson(store.ds, sortKey(a.startedAt, a.id))).toEqual({
      $v: 3,
      data: { ...a, ...NO_ANCHOR },
    })

    const log = new CallLog(store.ds)
    expect(await log.list()).toEqual([b, a])
    await log.add(call('c3', '2024-05-03T10:00:00.000Z'))
    expect((await log.list()).map((c) => c.id)).toEqual(['c3', 'c2', 'c1'])
  })
})

const V2 = call('c1', '2024-05-01T10:00:00.000Z')
const V2_KEY = sortKey(V2.startedAt, V2.id)

describe('calls migration 2 -> 3', () => {
  it('adds the anchor as null: no call was logged with its anchor before v3', () => {
    expect([callsV2ToV3.from, callsV2ToV3.to]).toEqual([2, 3])
    expect(callsV2ToV3.migrate(V2)).toEqual({ ...V2, ...NO_ANCHOR })
  })

  it('refuses a v2 entry that does not fit the v2 schema (it is quarantined)', () => {
    const { path: _dropped, ...noPath } = V2
    expect(() => callsV2ToV3.migrate(noPath)).toThrow()
  })

  it('migrates exact v2 bytes on disk and lists them unchanged through the store', async () => {
    await putRaw(store.ds, V2_KEY, JSON.stringify({ $v: 2, data: V2 }))
    // What a v2 build recorded once its migration finished.
    await putRaw(store.ds, '/kaiwa/schema/calls', '{"version":2,"complete":true}')
    const reports = await migrateAll(store.ds)
    expect(reports.find((r) => r.collection === 'calls')).toMatchObject({
      from: 2,
      to: 3,
      migrated: 1,
      quarantined: 0,
    })
    expect(await getJson(store.ds, V2_KEY)).toEqual({ $v: 3, data: { ...V2, ...NO_ANCHOR } })
    // A restart: a new datastore object on the same directory.
    const log = new CallLog(await store.reopen())
    expect(await log.list()).toEqual([V2])
  })

  it('stores and hands out the anchor of a call to a SIP phone; an end-to-end call has none', async () => {
    const log = new CallLog(store.ds)
    const anchored: CallRecordJson = { ...call('c2', '2024-05-02T10:00:00.000Z'), anchor: 'phone' }
    const e2e = call('c3', '2024-05-03T10:00:00.000Z')
    await log.add(anchored)
    await log.add(e2e)
    expect(await getJson(store.ds, sortKey(anchored.startedAt, anchored.id))).toEqual({
      $v: 3,
      data: anchored,
    })
    expect(await getJson(store.ds, sortKey(e2e.startedAt, e2e.id))).toEqual({
      $v: 3,
      data: { ...e2e, ...NO_ANCHOR },
    })
    const listed = await new CallLog(await store.reopen()).list()
    expect(listed).toEqual([e2e, anchored])
    expect(listed[0]).not.toHaveProperty('anchor')
  })

  it('keeps a call from an unverified caller, whose thread name is longer than v2 allowed', async () => {
    // The longest user ID (32) with its key: 69 characters, the API allows 80.
    const peer = `${'a'.repeat(32)} (unverified key abcd-efgh-ijkl-mnop)`
    expect(peer).toHaveLength(69)
    const log = new CallLog(store.ds)
    await log.add({ ...call('c4', '2024-05-04T10:00:00.000Z'), peer })
    expect((await log.list()).map((c) => c.peer)).toEqual([peer])
  })
})

describe('a calls log from a newer build', () => {
  it('is refused with nothing changed when its version record is newer', async () => {
    const future = '{"$v":4,"data":{"id":"c1","whatever":"the future holds"}}'
    await putRaw(store.ds, '/kaiwa/schema/calls', '{"version":4,"complete":true}')
    await putRaw(store.ds, V2_KEY, future)
    const err: unknown = await new CallLog(store.ds).list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StorageVersionError)
    expect((err as Error).message).toMatch(/calls data .* version 4, written by a newer Kaiwa/)
    await expect(migrateAll(store.ds)).rejects.toThrow(StorageVersionError)
    expect(await getRaw(store.ds, V2_KEY)).toBe(future)
    expect(await getJson(store.ds, '/kaiwa/schema/calls')).toEqual({ version: 4, complete: true })
    expect(await keysUnder(store.ds, '/kaiwa/quarantine')).toEqual([])
  })

  it('is refused for a single newer entry, which is not quarantined as damaged', async () => {
    const future = JSON.stringify({ $v: 4, data: { ...V2, anchor: 'satellite' } })
    await putRaw(store.ds, V2_KEY, future)
    await expect(new CallLog(store.ds).list()).rejects.toThrow(StorageVersionError)
    expect(await getRaw(store.ds, V2_KEY)).toBe(future)
    expect(await keysUnder(store.ds, '/kaiwa/quarantine')).toEqual([])
  })
})
