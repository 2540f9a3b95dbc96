/**
 * Account sync's collections (devices, sync-index, sync-contacts,
 * sync-outbox) v1 → v2: bare-JSON entries are read through envelopeV2 and
 * rewritten; what does not fit the schema is quarantined; a newer version is
 * refused. The sync outbox keeps queued events in order across a reopen.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  devicesCollection,
  syncContactsCollection,
  syncIndexCollection,
  syncOutboxCollection,
} from '../../../../src/overlay/store/migrations/sync.js'
import { encodeSyncEvents } from '../../../../src/shared/sync/sync-wire.js'
import type { SyncEvent } from '../../../../src/shared/sync/sync-wire.js'
import { SyncOutboxStore } from '../../../../src/overlay/sync/sync-outbox-store.js'
import { STORED_COLLECTIONS, migrateAll } from '../../../../src/overlay/store/migrate-all.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { writeSchemaRecord } from '../../../../src/overlay/store/schema-version.js'
import { DeviceBook } from '../../../../src/overlay/sync/device-book.js'
import { SyncIndex } from '../../../../src/overlay/sync/sync-index.js'
import { getJson, keysUnder, openTempStore, putRaw, recordingLog } from '../level-store.js'
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
    const specs = [devicesCollection, syncIndexCollection, syncContactsCollection]
    for (const spec of [...specs, syncOutboxCollection]) {
      expect(STORED_COLLECTIONS).toContain(spec)
      // One shape for all: /kaiwa/<name>, v2, the envelope migration from v1.
      expect(spec).toMatchObject({ location: { prefix: `/kaiwa/${spec.name}` }, version: 2 })
      expect(spec.migrations.map((m) => [m.from, m.to])).toEqual([[1, 2]])
    }
    expect(specs.map((s) => s.name)).toEqual(['devices', 'sync-index', 'sync-contacts'])
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

  it('take a v1 outbox entry to v2, and load queued events in order after a reopen', async () => {
    const { lines, log } = recordingLog()
    const settings: SyncEvent = { k: 's', aa: 3, at: 9 }
    const contact: SyncEvent = { k: 'c', n: 'bob', fp: null, at: 8 }
    const b64 = (e: SyncEvent[]): string => Buffer.from(encodeSyncEvents(e)).toString('base64')
    const v1 = { id: '000000000000005-000001', target: '12D3KooWb', at: 5, events: b64([contact]) }
    await putRaw(store.ds, '/kaiwa/sync-outbox/000000000000005-000001', JSON.stringify(v1))
    // A v1 entry that fits the schema but whose events no longer decode.
    const junk = { ...v1, id: '000000000000006-000001', events: 'AAAA' }
    await putRaw(store.ds, '/kaiwa/sync-outbox/000000000000006-000001', JSON.stringify(junk))
    expect(await openCollection(store.ds, syncOutboxCollection)).toMatchObject({
      from: 1,
      to: 2,
      migrated: 2,
    })
    expect(await getJson(store.ds, '/kaiwa/sync-outbox/000000000000005-000001')).toEqual({
      $v: 2,
      data: v1,
    })
    const outbox = new SyncOutboxStore(store.ds, log)
    const id = outbox.nextId()
    expect(id > v1.id).toBe(true)
    await outbox.put({ id, target: '12D3KooWc', events: [settings] })
    // What a restarted node finds: oldest first; the undecodable entry is dropped.
    const again = new SyncOutboxStore(store.ds, log)
    expect(await again.load()).toEqual([
      { id: v1.id, target: '12D3KooWb', events: [contact] },
      { id, target: '12D3KooWc', events: [settings] },
    ])
    expect(lines.some((l) => l.includes('000000000000006-000001 is unreadable'))).toBe(true)
    expect(await keysUnder(store.ds, '/kaiwa/sync-outbox')).toHaveLength(2)
    await again.delete(v1.id)
    expect((await again.load()).map((e) => e.id)).toEqual([id])
  })

  it('refuse a collection written by a newer Kaiwa, changing nothing', async () => {
    await writeSchemaRecord(store.ds, 'devices', { version: 3, complete: true })
    await expect(migrateAll(store.ds)).rejects.toMatchObject({ name: 'StorageVersionError' })
  })
})
