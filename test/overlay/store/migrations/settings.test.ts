/** settings v1 → v2: the settings today's SettingsStore wrote keep the claimed name and mode. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SettingsStore } from '../../../../src/overlay/store/settings-store.js'
import {
  settingsCollection,
  settingsV1ToV2,
} from '../../../../src/overlay/store/migrations/settings.js'
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

// What today's SettingsStore.update writes: SettingsSchema.parse(...) stringified.
const V1 = '{"name":"alice","supernodeMode":"auto","caps":{"relayKbps":5000}}'

describe('settings migration 1 -> 2', () => {
  it('takes a v1 value to v2, filling in the name v2 requires', () => {
    expect([settingsV1ToV2.from, settingsV1ToV2.to]).toEqual([1, 2])
    expect(settingsV1ToV2.migrate(JSON.parse(V1))).toEqual(JSON.parse(V1))
    expect(settingsV1ToV2.migrate({ supernodeMode: 'on' })).toEqual({
      name: null,
      supernodeMode: 'on',
    })
    expect(() => settingsV1ToV2.migrate({ supernodeMode: 'sometimes' })).toThrow()
  })

  it('rewrites stored v1 settings and the store reads them unchanged', async () => {
    await putRaw(store.ds, '/kaiwa/settings', V1)
    expect(await openCollection(store.ds, settingsCollection)).toMatchObject({
      from: 1,
      migrated: 1,
    })
    expect(await getJson(store.ds, '/kaiwa/settings')).toEqual({ $v: 2, data: JSON.parse(V1) })

    const settings = new SettingsStore(store.ds)
    expect(await settings.get()).toEqual(JSON.parse(V1))
    await settings.update({ supernodeMode: 'off' })
    const again = new SettingsStore(await store.reopen())
    expect(await again.get()).toEqual({ ...JSON.parse(V1), supernodeMode: 'off' })
  })

  it('starts from defaults on a fresh datastore', async () => {
    expect(await new SettingsStore(store.ds).get()).toEqual({ name: null })
  })
})
