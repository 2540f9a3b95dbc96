/**
 * messages v1 → v2: history written by the MessageHistory of today's main (the
 * API's StoredMessageJson as bare JSON, `offline` only on offline mail) is
 * still listed, in order and unchanged, after the upgrade.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MessageHistory } from '../../../../src/overlay/sip/message-history.js'
import {
  messagesCollection,
  messagesV1ToV2,
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
      to: 2,
      migrated: 2,
    })

    expect(await getJson(store.ds, SENT_KEY)).toEqual({
      $v: 2,
      data: { ...JSON.parse(SENT_V1), offline: false },
    })
    expect(await getJson(store.ds, RECEIVED_KEY)).toEqual({ $v: 2, data: JSON.parse(RECEIVED_V1) })

    // A restart: a new datastore object on the same directory.
    const history = new MessageHistory(await store.reopen())
    expect(await history.list()).toEqual([JSON.parse(SENT_V1), JSON.parse(RECEIVED_V1)])
    expect(await history.list({ direction: 'in' })).toEqual([JSON.parse(RECEIVED_V1)])
    expect(await history.list({ limit: 1 })).toEqual([JSON.parse(RECEIVED_V1)])
  })

  it('reads v1 entries mixed with v2 ones (an interrupted upgrade) and stores new ones as v2', async () => {
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
      $v: 2,
      data: { ...added, offline: false },
    })
    // An entry an old build writes after the upgrade is still read.
    await putRaw(store.ds, RECEIVED_KEY, RECEIVED_V1)
    expect((await history.list()).map((m) => m.text)).toEqual([
      'hi bob',
      'hi alice, sent while you were away',
      'new',
    ])
    expect(messagesCollection.version).toBe(2)
  })
})
