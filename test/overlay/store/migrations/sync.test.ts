/**
 * Account sync's collections (devices, sync-index, sync-contacts) v1 → v2:
 * bare-JSON entries are read through envelopeV2 and rewritten; what does not
 * fit the schema is quarantined; a newer version is refused.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  devicesCollection,
  syncContactsCollection,
  syncIndexCollection,
} from '../../../../src/overlay/store/migrations/sync.js'
import { STORED_COLLECTIONS, migrateAll } from '../../../../src/overlay/store/migrate-all.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { writeSchemaRecord } from '../../../../src/overlay/store/schema-version.js'
import { DeviceBook } from '../../../../src/overlay/sync/device-book.js'
import { SyncIndex } from '../../../../src/overlay/sync/sync-index.js'
import { getJson, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

describe('account sync collections', () => {
  it('are opened by migrateAll', () => {
    for (const spec of [devicesCollection, syncIndexCollection, syncContactsCollection])
      expect(STORED_COLLECTIONS).toContain(spec)
  })

  it('take a v1 device to v2 and keep its removal', async () => {
    const [m] = devicesCollection.migrations
    expect([m!.from, m!.to]).toEqual([1, 2])
    const v1 = { peerId: '12D3KooWa', firstSeen: 1, lastSeen: 2, removedAt: 3 }
    expect(m!.migrate(v1)).toEqual(v1)
    expect(() => m!.migrate({ peerId: 'x' })).toThrow()
    await putRaw(store.ds, '/kaiwa/devices/12D3KooWa', JSON.stringify(v1))
    await putRaw(store.ds, '/kaiwa/devices/12D3KooWb', '{"peerId":7}')
    const report = await openCollection(store.ds, devicesCollection)
    expect(report).toMatchObject({ from: 1, to: 2, migrated: 1, quarantined: 1 })
    expect(await getJson(store.ds, '/kaiwa/devices/12D3KooWa')).toEqual({ $v: 2, data: v1 })
    const book = new DeviceBook(store.ds)
    expect(await book.isRemoved('12D3KooWa')).toBe(true)
    // A removed device is never "seen" again.
    expect(await book.saw('12D3KooWa')).toBe(false)
    expect(await book.saw('12D3KooWc')).toBe(true)
    expect(await book.saw('12D3KooWc')).toBe(false)
  })

  it('take v1 index entries and contact clocks to v2', async () => {
    await putRaw(
      store.ds,
      '/kaiwa/sync-index/l000001-aa',
      '{"syncId":"in:call-1@kaiwa","localId":"000001-aa"}',
    )
    await putRaw(store.ds, '/kaiwa/sync-contacts/bob', '{"at":5}')
    expect(await openCollection(store.ds, syncIndexCollection)).toMatchObject({ migrated: 1 })
    expect(await openCollection(store.ds, syncContactsCollection)).toMatchObject({ migrated: 1 })
    const index = new SyncIndex(store.ds)
    expect(await index.syncIdOf('000001-aa')).toBe('in:call-1@kaiwa')
    // The latest contact change wins; an older or equal one is ignored.
    expect(await index.newerContactChange('bob', 5)).toBe(false)
    expect(await index.newerContactChange('bob', 6)).toBe(true)
    await index.link('out:x/y z@kaiwa', '000002-bb')
    expect(await index.localIdOf('out:x/y z@kaiwa')).toBe('000002-bb')
    expect(await index.syncIdOf('000002-bb')).toBe('out:x/y z@kaiwa')
    expect(await index.syncIdOf('../../escape')).toBeUndefined()
  })

  it('refuse a collection written by a newer Kaiwa, changing nothing', async () => {
    await writeSchemaRecord(store.ds, 'devices', { version: 3, complete: true })
    await expect(migrateAll(store.ds)).rejects.toMatchObject({ name: 'StorageVersionError' })
  })
})
