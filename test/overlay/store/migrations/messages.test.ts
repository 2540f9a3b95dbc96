/**
 * messages v1 → v2: history written by the MessageHistory of today's main (the
 * API's StoredMessageJson as bare JSON, `offline` only on offline mail) is
 * still listed, in order and unchanged, after the upgrade.
 * messages v2 → v3: the sender verification state, null for older entries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MessageHistory } from '../../../../src/overlay/sip/message-history.js'
import {
  messagesCollection,
  messagesV1ToV2,
  messagesV2ToV3,
} from '../../../../src/overlay/store/migrations/messages.js'
import { migrateAll } from '../../../../src/overlay/store/migrate-all.js'
import { getJson, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

// Byte for byte what today's MessageHistory.add writes: `{...msg, id}` stringified.
const SENT_V1 =
  '{"direction":"out","peer":"bob","from":"alice","to":"bob","date":"2024-05-01T10:00:00.000Z",' +
  '"contentType":"text/plain","text":"hi bob","status":"delivered","code":200,"id":"000001714557600000-1a2b3c4d"}'
const RECEIVED_V1 =
  '{"direction":"in","peer":"bob","from":"bob","to":"alice","date":"2024-05-01T10:01:00.000Z",' +
  '"contentType":"text/plain","text":"hi alice, sent while you were away","status":"received","code":200,' +
  '"offline":true,"id":"000001714557660000-5e6f7a8b"}'
/** What v3 adds to every older entry: nothing was verified then. */
const UNVERIFIED = { verification: null, fingerprint: null }
const SENT_KEY = '/kaiwa/messages/000001714557600000-1a2b3c4d'
const RECEIVED_KEY = '/kaiwa/messages/000001714557660000-5e6f7a8b'

describe('messages migration 1 -> 2', () => {
  it('makes offline explicit: false unless the message came through offline mail', () => {
    expect([messagesV1ToV2.from, messagesV1ToV2.to]).toEqual([1, 2])
    expect(messagesV1ToV2.migrate(JSON.parse(SENT_V1))).toEqual({
      ...JSON.parse(SENT_V1),
      offline: false,
    })
    expect(messagesV1ToV2.migrate(JSON.parse(RECEIVED_V1))).toEqual(JSON.parse(RECEIVED_V1))
    expect(() => messagesV1ToV2.migrate({ ...JSON.parse(SENT_V1), status: 'lost' })).toThrow()
  })

  it('lists history written by the old code after the upgrade, exactly as the API showed it', async () => {
    await putRaw(store.ds, SENT_KEY, SENT_V1)
    await putRaw(store.ds, RECEIVED_KEY, RECEIVED_V1)
    const reports = await migrateAll(store.ds)
    expect(reports.find((r) => r.collection === 'messages')).toMatchObject({
      from: 1,
      to: 3,
      migrated: 2,
    })

    expect(await getJson(store.ds, SENT_KEY)).toEqual({
      $v: 3,
      data: { ...JSON.parse(SENT_V1), offline: false, ...UNVERIFIED },
    })
    expect(await getJson(store.ds, RECEIVED_KEY)).toEqual({
      $v: 3,
      data: { ...JSON.parse(RECEIVED_V1), ...UNVERIFIED },
    })

    // A restart: a new datastore object on the same directory.
    const history = new MessageHistory(await store.reopen())
    expect(await history.list()).toEqual([JSON.parse(SENT_V1), JSON.parse(RECEIVED_V1)])
    expect(await history.list({ direction: 'in' })).toEqual([JSON.parse(RECEIVED_V1)])
    expect(await history.list({ limit: 1 })).toEqual([JSON.parse(RECEIVED_V1)])
  })

  it('reads v1 entries mixed with v3 ones (an interrupted upgrade) and stores new ones as v3', async () => {
    await putRaw(store.ds, SENT_KEY, SENT_V1)
    const history = new MessageHistory(store.ds)
    const added = await history.add({
      direction: 'out',
      peer: 'carol',
      from: 'alice',
      to: 'carol',
      date: new Date().toISOString(),
      contentType: 'text/plain',
      text: 'new',
      status: 'stored',
      code: 202,
    })
    expect('offline' in added).toBe(false)
    expect(await getJson(store.ds, `/kaiwa/messages/${added.id}`)).toEqual({
      $v: 3,
      data: { ...added, offline: false, ...UNVERIFIED },
    })
    // An entry an old build writes after the upgrade is still read.
    await putRaw(store.ds, RECEIVED_KEY, RECEIVED_V1)
    expect((await history.list()).map((m) => m.text)).toEqual([
      'hi bob',
      'hi alice, sent while you were away',
      'new',
    ])
    expect(messagesCollection.version).toBe(3)
  })
})

const RECEIVED_V2 = { ...JSON.parse(RECEIVED_V1), offline: true }

describe('messages migration 2 -> 3', () => {
  it('adds verification and fingerprint as null: nothing was verified before v3', () => {
    expect([messagesV2ToV3.from, messagesV2ToV3.to]).toEqual([2, 3])
    expect(messagesV2ToV3.migrate(RECEIVED_V2)).toEqual({ ...RECEIVED_V2, ...UNVERIFIED })
  })

  it('refuses a v2 entry that does not fit the v2 schema (it is quarantined)', () => {
    const { offline: _dropped, ...noOffline } = RECEIVED_V2
    expect(() => messagesV2ToV3.migrate(noOffline)).toThrow()
  })

  it('migrates exact v2 bytes on disk and lists them unchanged through the store', async () => {
    await putRaw(store.ds, RECEIVED_KEY, JSON.stringify({ $v: 2, data: RECEIVED_V2 }))
    // What a v2 build recorded once its migration finished.
    await putRaw(store.ds, '/kaiwa/schema/messages', '{"version":2,"complete":true}')
    const reports = await migrateAll(store.ds)
    expect(reports.find((r) => r.collection === 'messages')).toMatchObject({
      from: 2,
      to: 3,
      migrated: 1,
    })
    expect(await getJson(store.ds, RECEIVED_KEY)).toEqual({
      $v: 3,
      data: { ...RECEIVED_V2, ...UNVERIFIED },
    })
    const history = new MessageHistory(await store.reopen())
    expect(await history.list()).toEqual([JSON.parse(RECEIVED_V1)])
  })

  it('stores and hands out the verification state of a received message', async () => {
    const history = new MessageHistory(store.ds)
    const added = await history.add({
      direction: 'in',
      peer: 'sip:alice@kaiwa',
      from: 'sip:alice@kaiwa',
      to: 'sip:bob@kaiwa',
      date: new Date().toISOString(),
      contentType: 'text/plain',
      text: 'signed',
      status: 'received',
      code: 200,
      verification: 'new',
      fingerprint: 'abcd-efgh-ijkl-mnop',
    })
    expect(await getJson(store.ds, `/kaiwa/messages/${added.id}`)).toMatchObject({
      $v: 3,
      data: { verification: 'new', fingerprint: 'abcd-efgh-ijkl-mnop', offline: false },
    })
    expect((await history.list()).at(-1)).toEqual(added)
  })
})
