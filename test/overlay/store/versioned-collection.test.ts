/**
 * The versioned-collection mechanism itself: declarations are checked, a
 * downgrade is refused with nothing changed, and a migration cut short is
 * finished at the next open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Key } from 'interface-datastore'
import { z } from 'zod'
import { DataDirError } from '../../../src/overlay/store/data-dir.js'
import { ContactBook } from '../../../src/overlay/store/contact-book.js'
import { migrateAll, STORED_COLLECTIONS } from '../../../src/overlay/store/migrate-all.js'
import { claimSchemaVersion } from '../../../src/overlay/store/schema-version.js'
import {
  CollectionSpecError,
  StorageVersionError,
} from '../../../src/overlay/store/storage-errors.js'
import { openCollection, validateSpec } from '../../../src/overlay/store/versioned-collection.js'
import type { CollectionSpec } from '../../../src/overlay/store/versioned-collection.js'
import { getJson, getRaw, keysUnder, openTempStore, putRaw } from './level-store.js'
import type { TempStore } from './level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

/** A test collection at v3: v1 `{n}`, v2 `{n, unit}`, v3 `{amount, unit}`. */
const counters: CollectionSpec = {
  name: 'counters',
  location: { prefix: '/test/counters' },
  version: 3,
  schema: z.object({ amount: z.number(), unit: z.string() }),
  migrations: [
    { from: 1, to: 2, migrate: (e) => ({ ...z.object({ n: z.number() }).parse(e), unit: 'pcs' }) },
    {
      from: 2,
      to: 3,
      migrate: (e) => {
        const v2 = z.object({ n: z.number(), unit: z.string() }).parse(e)
        return { amount: v2.n, unit: v2.unit }
      },
    },
  ],
}

describe('collection declarations', () => {
  it('every shipped collection is well formed', () => {
    for (const spec of STORED_COLLECTIONS) expect(() => validateSpec(spec)).not.toThrow()
    expect(new Set(STORED_COLLECTIONS.map((s) => s.name)).size).toBe(STORED_COLLECTIONS.length)
  })

  it('rejects a gap in the numbered migrations', () => {
    const broken = {
      ...counters,
      migrations: [counters.migrations[0]!, { ...counters.migrations[1]!, from: 3, to: 4 }],
    }
    expect(() => validateSpec(broken)).toThrow(CollectionSpecError)
    expect(() => validateSpec({ ...counters, version: 4 })).toThrow(/needs 3 migrations/)
  })
})

describe('opening a collection', () => {
  it('runs every migration in order, from whatever version each entry is at', async () => {
    await putRaw(store.ds, '/test/counters/a', '{"n":1}')
    await putRaw(store.ds, '/test/counters/b', '{"$v":2,"data":{"n":2,"unit":"kg"}}')
    await putRaw(store.ds, '/test/counters/c', '{"$v":3,"data":{"amount":3,"unit":"m"}}')
    expect(await openCollection(store.ds, counters)).toMatchObject({ from: 1, to: 3, migrated: 2 })
    expect(await getJson(store.ds, '/test/counters/a')).toEqual({
      $v: 3,
      data: { amount: 1, unit: 'pcs' },
    })
    expect(await getJson(store.ds, '/test/counters/b')).toEqual({
      $v: 3,
      data: { amount: 2, unit: 'kg' },
    })
  })

  it('finishes a migration that was cut short', async () => {
    // The version was recorded and one entry rewritten, then the process died.
    await putRaw(store.ds, '/kaiwa/schema/counters', '{"version":3,"complete":false}')
    await putRaw(store.ds, '/test/counters/a', '{"$v":3,"data":{"amount":1,"unit":"pcs"}}')
    await putRaw(store.ds, '/test/counters/b', '{"n":2}')
    expect(await openCollection(store.ds, counters)).toMatchObject({ migrated: 1, quarantined: 0 })
    expect(await getJson(store.ds, '/test/counters/b')).toEqual({
      $v: 3,
      data: { amount: 2, unit: 'pcs' },
    })
    expect(await getJson(store.ds, '/kaiwa/schema/counters')).toEqual({
      version: 3,
      complete: true,
    })
  })

  it('does not rescan a collection that is complete at the current version', async () => {
    await putRaw(store.ds, '/kaiwa/schema/counters', '{"version":3,"complete":true}')
    await putRaw(store.ds, '/test/counters/a', '{"n":1}')
    expect(await openCollection(store.ds, counters)).toMatchObject({ migrated: 0 })
    expect(await getRaw(store.ds, '/test/counters/a')).toBe('{"n":1}')
  })
})

describe('a downgrade', () => {
  it('is refused with a clear error, and nothing is changed', async () => {
    await putRaw(store.ds, '/kaiwa/schema/contacts', '{"version":7,"complete":true}')
    await putRaw(store.ds, '/kaiwa/contacts/bob', '{"$v":7,"data":{"whatever":"the future holds"}}')
    const err: unknown = await new ContactBook(store.ds).list().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StorageVersionError)
    expect(err).toBeInstanceOf(DataDirError)
    expect((err as Error).message).toMatch(/contacts data .* version 7, written by a newer Kaiwa/)
    expect((err as Error).message).toMatch(
      /reads up to version 2\. Nothing was changed: install the newer/,
    )
    expect(await getRaw(store.ds, '/kaiwa/contacts/bob')).toBe(
      '{"$v":7,"data":{"whatever":"the future holds"}}',
    )
    expect(await keysUnder(store.ds, '/kaiwa/quarantine')).toEqual([])
  })

  it('is refused by migrateAll before any collection is migrated', async () => {
    await putRaw(store.ds, '/kaiwa/contacts/bob', '{"name":"bob","fingerprint":"f","addedAt":"t"}')
    // A version no build has written yet (messages are at 3).
    await putRaw(store.ds, '/kaiwa/schema/messages', '{"version":99,"complete":true}')
    await expect(migrateAll(store.ds)).rejects.toThrow(StorageVersionError)
    expect(await getRaw(store.ds, '/kaiwa/contacts/bob')).toBe(
      '{"name":"bob","fingerprint":"f","addedAt":"t"}',
    )
    expect(await getRaw(store.ds, '/kaiwa/schema/contacts')).toBeUndefined()
  })

  it('is refused for a single entry from a newer build, which is not quarantined as damaged', async () => {
    await putRaw(store.ds, '/kaiwa/contacts/bob', '{"$v":3,"data":{"name":"bob"}}')
    await expect(new ContactBook(store.ds).list()).rejects.toThrow(StorageVersionError)
    expect(await getRaw(store.ds, '/kaiwa/contacts/bob')).toBe('{"$v":3,"data":{"name":"bob"}}')
  })

  it('can be retried after the newer data is gone', async () => {
    await putRaw(store.ds, '/kaiwa/schema/contacts', '{"version":9,"complete":true}')
    await expect(new ContactBook(store.ds).list()).rejects.toThrow(StorageVersionError)
    await store.ds.delete(new Key('/kaiwa/schema/contacts'))
    expect(await new ContactBook(store.ds).list()).toEqual([])
  })
})

describe('a collection with its own entry format (claimSchemaVersion)', () => {
  it('records its version once, and refuses a newer one', async () => {
    expect(await claimSchemaVersion(store.ds, 'mailbox', 1)).toBe(1)
    expect(await getJson(store.ds, '/kaiwa/schema/mailbox')).toEqual({ version: 1, complete: true })
    await putRaw(store.ds, '/kaiwa/schema/mailbox', '{"version":2,"complete":true}')
    await expect(claimSchemaVersion(store.ds, 'mailbox', 1)).rejects.toThrow(StorageVersionError)
  })

  it('reports an older version, marked incomplete until the caller has migrated', async () => {
    expect(await claimSchemaVersion(store.ds, 'mailbox', 2)).toBe(1)
    expect(await getJson(store.ds, '/kaiwa/schema/mailbox')).toEqual({
      version: 2,
      complete: false,
    })
  })
})
