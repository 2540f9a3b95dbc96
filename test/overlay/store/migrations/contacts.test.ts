/**
 * contacts v1 → v2: the bare JSON ContactBook wrote before storage was
 * versioned is read, rewritten in the versioned envelope, and listed as before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ContactBook } from '../../../../src/overlay/store/contact-book.js'
import {
  contactsCollection,
  contactsMigrations,
} from '../../../../src/overlay/store/migrations/contacts.js'
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

const BOB_V1 =
  '{"name":"bob","fingerprint":"ab12-cd34-ef56-7890","addedAt":"2024-05-01T10:00:00.000Z"}'
const BOB = { name: 'bob', fingerprint: 'ab12-cd34-ef56-7890', addedAt: '2024-05-01T10:00:00.000Z' }

describe('contacts migration 1 -> 2', () => {
  it('takes a v1 entry to the v2 value (validated, unchanged)', () => {
    const [m] = contactsMigrations
    expect([m.from, m.to]).toEqual([1, 2])
    expect(m.migrate(JSON.parse(BOB_V1))).toEqual(BOB)
    expect(() => m.migrate({ name: 'bob' })).toThrow()
  })

  it('rewrites what the old ContactBook stored and lists it as before', async () => {
    // Exactly what today's main writes: encodeURIComponent(name) under /kaiwa/contacts, bare JSON.
    await putRaw(store.ds, '/kaiwa/contacts/bob', BOB_V1)
    await putRaw(
      store.ds,
      '/kaiwa/contacts/carol%2Fwork',
      '{"name":"carol/work","fingerprint":"f","addedAt":"x"}',
    )

    const report = await openCollection(store.ds, contactsCollection)
    expect(report).toMatchObject({ from: 1, to: 2, migrated: 2, quarantined: 0 })
    expect(await getJson(store.ds, '/kaiwa/contacts/bob')).toEqual({ $v: 2, data: BOB })
    expect(await getJson(store.ds, '/kaiwa/schema/contacts')).toEqual({
      version: 2,
      complete: true,
    })

    const book = new ContactBook(store.ds)
    expect(await book.get('bob')).toEqual(BOB)
    expect((await book.list()).map((c) => c.name)).toEqual(['bob', 'carol/work'])
  })

  it('keeps working for a caller that never ran the migration explicitly', async () => {
    await putRaw(store.ds, '/kaiwa/contacts/bob', BOB_V1)
    const book = new ContactBook(store.ds)
    expect(await book.list()).toEqual([BOB])
    await book.pin('dave', 'd1', Date.parse('2025-01-01T00:00:00Z'))
    expect(await getJson(store.ds, '/kaiwa/contacts/dave')).toEqual({
      $v: 2,
      data: { name: 'dave', fingerprint: 'd1', addedAt: '2025-01-01T00:00:00.000Z' },
    })
  })
})
