/**
 * Quarantine: an entry that cannot be read is moved aside with its exact bytes
 * and the reason, reported by storageHealth and the logger, and the rest of the
 * collection stays readable. Nothing is deleted or silently skipped.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MessageHistory } from '../../../src/overlay/sip/message-history.js'
import { SettingsStore } from '../../../src/overlay/store/settings-store.js'
import { ContactBook } from '../../../src/overlay/store/contact-book.js'
import { migrateAll, storageHealth } from '../../../src/overlay/store/migrate-all.js'
import { quarantinedBytes, readQuarantine } from '../../../src/overlay/store/quarantine.js'
import { getRaw, keysUnder, openTempStore, putRaw, recordingLog } from './level-store.js'
import type { TempStore } from './level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

const GOOD = '{"name":"bob","fingerprint":"ab12","addedAt":"2024-05-01T10:00:00.000Z"}'
const TRUNCATED = '{"name":"carol","fingerpr'
const INVALID_UTF8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])

describe('an unreadable entry', () => {
  it('is quarantined with its bytes and reason; the rest of the collection is still listed', async () => {
    await putRaw(store.ds, '/kaiwa/contacts/bob', GOOD)
    await putRaw(store.ds, '/kaiwa/contacts/carol', TRUNCATED)
    await putRaw(store.ds, '/kaiwa/contacts/dave', '{"name":"dave"}')
    const { lines, log } = recordingLog()
    const damaged: string[] = []
    const book = new ContactBook(store.ds, (k) => damaged.push(k), { log })

    expect((await book.list()).map((c) => c.name)).toEqual(['bob'])
    expect(damaged.sort()).toEqual(['/kaiwa/contacts/carol', '/kaiwa/contacts/dave'])
    expect(await getRaw(store.ds, '/kaiwa/contacts/carol')).toBeUndefined()
    expect(await keysUnder(store.ds, '/kaiwa/quarantine')).toEqual([
      '/kaiwa/quarantine/contacts/carol',
      '/kaiwa/quarantine/contacts/dave',
    ])
    const [carol] = await readQuarantine(store.ds)
    expect(new TextDecoder().decode(quarantinedBytes(carol!.record!))).toBe(TRUNCATED)

    const health = await storageHealth(store.ds)
    expect(health.quarantined).toHaveLength(2)
    expect(health.quarantined[0]).toMatchObject({
      collection: 'contacts',
      key: '/kaiwa/contacts/carol',
    })
    expect(health.quarantined[0]!.reason).toMatch(/not valid UTF-8 JSON/)
    expect(health.quarantined[1]!.reason).toMatch(/migration 1->2 failed: fingerprint/)
    expect(Date.parse(health.quarantined[0]!.at)).not.toBeNaN()
    expect(lines.filter((l) => l.startsWith('warn ')).join('\n')).toMatch(
      /moved unreadable contacts entry \/kaiwa\/contacts\/carol to \/kaiwa\/quarantine\/contacts\/carol/,
    )
  })

  it('keeps non-UTF-8 bytes exactly, and found by migrateAll at start-up', async () => {
    await putRaw(store.ds, '/kaiwa/messages/000001714557600000-00000000', INVALID_UTF8)
    const { log } = recordingLog()
    const reports = await migrateAll(store.ds, log)
    expect(reports.find((r) => r.collection === 'messages')).toMatchObject({ quarantined: 1 })
    const [q] = await readQuarantine(store.ds)
    expect(quarantinedBytes(q!.record!)).toEqual(INVALID_UTF8)
    expect(await new MessageHistory(store.ds).list()).toEqual([])
  })

  it('never overwrites an earlier quarantine of the same key', async () => {
    const book = new ContactBook(store.ds)
    await putRaw(store.ds, '/kaiwa/contacts/carol', TRUNCATED)
    await book.list()
    await putRaw(store.ds, '/kaiwa/contacts/carol', 'second damage')
    await book.list()
    const all = await readQuarantine(store.ds)
    const texts = all.map((q) => new TextDecoder().decode(quarantinedBytes(q.record!)))
    expect(texts.sort()).toEqual([TRUNCATED, 'second damage'].sort())
  })

  it('in settings is quarantined and the node runs on defaults instead of refusing to start', async () => {
    await putRaw(store.ds, '/kaiwa/settings', '{"name":"alice","supernodeMode":"sometimes"}')
    const { lines, log } = recordingLog()
    expect(await new SettingsStore(store.ds, { log }).get()).toEqual({ name: null })
    expect((await storageHealth(store.ds)).quarantined).toMatchObject([
      { collection: 'settings', key: '/kaiwa/settings' },
    ])
    expect(lines.some((l) => l.startsWith('warn ') && l.includes('settings'))).toBe(true)
  })

  it('is reported even when its quarantine record is itself damaged', async () => {
    await putRaw(store.ds, '/kaiwa/quarantine/calls/x', 'not json')
    expect((await storageHealth(store.ds)).quarantined).toEqual([
      {
        collection: 'calls',
        key: '/kaiwa/quarantine/calls/x',
        reason: 'damaged quarantine record',
        at: '',
      },
    ])
  })
})

describe('a healthy datastore', () => {
  it('reports nothing quarantined', async () => {
    await putRaw(store.ds, '/kaiwa/contacts/bob', GOOD)
    await migrateAll(store.ds)
    expect(await storageHealth(store.ds)).toEqual({ quarantined: [] })
  })
})
