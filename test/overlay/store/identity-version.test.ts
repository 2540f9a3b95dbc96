/**
 * The identity under versioned storage: it is only ever read by the storage
 * layer, today's v1 identity loads unchanged, and an identity from a newer
 * build is refused (not called corrupt) and left exactly as it was.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Key } from 'interface-datastore'
import { decode, encode } from 'cborg'
import { DataDirError } from '../../../src/overlay/store/data-dir.js'
import {
  encodeIdentity,
  loadOrCreateIdentity,
} from '../../../src/overlay/identity/identity-store.js'
import { migrateAll } from '../../../src/overlay/store/migrate-all.js'
import { StorageVersionError } from '../../../src/overlay/store/storage-errors.js'
import { getJson, openTempStore, putRaw } from './level-store.js'
import type { TempStore } from './level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

const IDENTITY = new Key('/kaiwa/identity')
const META = new Key('/kaiwa/meta')

describe('identity storage', () => {
  it('creates identity, meta marker and version record together', async () => {
    const { created } = await loadOrCreateIdentity(store.ds, 1_700_000_000_000)
    expect(created).toBe(true)
    expect(await store.ds.has(META)).toBe(true)
    expect(await getJson(store.ds, '/kaiwa/schema/identity')).toEqual({
      version: 1,
      complete: true,
    })
  })

  it("loads an identity written by today's code (no version record) unchanged, after migrateAll", async () => {
    const { identity } = await loadOrCreateIdentity(store.ds)
    // Today's main wrote only these two keys.
    await store.ds.delete(new Key('/kaiwa/schema/identity'))
    const bytes = await store.ds.get(IDENTITY)
    await migrateAll(store.ds)
    expect(await store.ds.get(IDENTITY)).toEqual(bytes)
    const again = await loadOrCreateIdentity(await store.reopen())
    expect(again.created).toBe(false)
    expect(again.identity.accountKey.equals(identity.accountKey)).toBe(true)
  })

  it('refuses an identity from a newer build as a downgrade and leaves it untouched', async () => {
    const { identity } = await loadOrCreateIdentity(store.ds)
    const v1 = decode(encodeIdentity(identity)) as Record<string, unknown>
    const newer = encode({ ...v1, v: 2, extra: 'from the future' })
    await store.ds.put(IDENTITY, newer)
    for (const attempt of [() => migrateAll(store.ds), () => loadOrCreateIdentity(store.ds)]) {
      const err: unknown = await attempt().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StorageVersionError)
      expect(err).toBeInstanceOf(DataDirError)
      expect((err as Error).message).toMatch(/identity data .* version 2, written by a newer Kaiwa/)
    }
    expect(await store.ds.get(IDENTITY)).toEqual(newer)
  })

  it('refuses when the version record is newer, without reading further', async () => {
    await loadOrCreateIdentity(store.ds)
    await putRaw(store.ds, '/kaiwa/schema/identity', '{"version":4,"complete":true}')
    await expect(loadOrCreateIdentity(store.ds)).rejects.toThrow(StorageVersionError)
  })

  it('refuses to create a new identity where the version record shows one existed', async () => {
    await loadOrCreateIdentity(store.ds)
    await store.ds.delete(IDENTITY)
    await store.ds.delete(META)
    await expect(loadOrCreateIdentity(store.ds)).rejects.toThrow(/identity is missing; refusing/)
    expect(await store.ds.has(IDENTITY)).toBe(false)
  })
})
