/**
 * settings v1 → v2 → v3 → v4: older settings keep the claimed name and mode; v3
 * adds saved bootstrap peers, v4 file-transfer settings.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  SettingsStore,
  effectiveFileSettings,
} from '../../../../src/overlay/store/settings-store.js'
import {
  settingsCollection,
  settingsV1ToV2,
  settingsV2ToV3,
  settingsV3ToV4,
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
    expect(await getJson(store.ds, '/kaiwa/settings')).toEqual({
      $v: 4,
      data: { ...JSON.parse(V1), bootstrap: [], files: {} },
    })

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

const SN = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzh9ELiSwAQdDqXbMU9MALyM4ZYHhRZbdbyEAmGh5sTC'

describe('settings migration 2 -> 3', () => {
  it('adds an empty bootstrap list to v2 settings', () => {
    expect([settingsV2ToV3.from, settingsV2ToV3.to]).toEqual([2, 3])
    expect(settingsV2ToV3.migrate({ name: 'alice', supernodeMode: 'on' })).toEqual({
      name: 'alice',
      supernodeMode: 'on',
      bootstrap: [],
    })
    expect(() => settingsV2ToV3.migrate({ supernodeMode: 'on' })).toThrow()
  })

  it('rewrites stored v2 settings; saved bootstrap peers survive a reopen', async () => {
    // A v2 entry (the collection's recorded version is not written here: the entry's own counts).
    await putRaw(store.ds, '/kaiwa/settings', JSON.stringify({ $v: 2, data: JSON.parse(V1) }))
    expect(await openCollection(store.ds, settingsCollection)).toMatchObject({ migrated: 1 })
    const settings = new SettingsStore(store.ds)
    expect(await settings.get()).toEqual(JSON.parse(V1))
    await settings.update({ bootstrap: [SN] })
    const again = new SettingsStore(await store.reopen())
    expect(await again.get()).toEqual({ ...JSON.parse(V1), bootstrap: [SN] })
    expect(await getJson(store.ds, '/kaiwa/settings')).toMatchObject({ $v: 4 })
  })
})

describe('settings migration 3 -> 4', () => {
  it('adds empty file settings (every one its default) to v3 settings', () => {
    expect([settingsV3ToV4.from, settingsV3ToV4.to]).toEqual([3, 4])
    expect(settingsV3ToV4.migrate({ name: 'alice', bootstrap: [SN] })).toEqual({
      name: 'alice',
      bootstrap: [SN],
      files: {},
    })
    expect(() => settingsV3ToV4.migrate({ name: 'alice' })).toThrow()
  })

  it('rewrites stored v3 settings; file settings survive a reopen and fill in defaults', async () => {
    const v3 = { ...JSON.parse(V1), bootstrap: [SN] }
    await putRaw(store.ds, '/kaiwa/settings', JSON.stringify({ $v: 3, data: v3 }))
    expect(await openCollection(store.ds, settingsCollection)).toMatchObject({ migrated: 1 })
    const settings = new SettingsStore(store.ds)
    expect(await settings.get()).toEqual(v3)
    expect(effectiveFileSettings(await settings.get(), '/data')).toEqual({
      autoAcceptMiB: 25,
      maxMiB: 4096,
      receiveDir: '/data/received',
    })
    await settings.update({ files: { autoAcceptMiB: 0, receiveDir: '/srv/in' } })
    const again = new SettingsStore(await store.reopen())
    expect(await again.get()).toEqual({ ...v3, files: { autoAcceptMiB: 0, receiveDir: '/srv/in' } })
    expect(effectiveFileSettings(await again.get(), '/data')).toMatchObject({ maxMiB: 4096 })
    expect(await getJson(store.ds, '/kaiwa/settings')).toMatchObject({
      $v: 4,
      data: { files: { autoAcceptMiB: 0, receiveDir: '/srv/in' } },
    })
  })

  it('quarantines v4 settings whose file settings are out of bounds', async () => {
    const bad = { name: 'alice', bootstrap: [], files: { maxMiB: -1 } }
    await putRaw(store.ds, '/kaiwa/settings', JSON.stringify({ $v: 4, data: bad }))
    expect(await openCollection(store.ds, settingsCollection)).toMatchObject({ quarantined: 1 })
  })
})
