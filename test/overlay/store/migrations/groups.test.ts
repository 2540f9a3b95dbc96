/**
 * groups and group-messages v1 → v2: both collections are born at v2 (the
 * envelope); an entry in the bare v1 form is taken into the envelope
 * unchanged, a malformed one is quarantined, and the store reads the result.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  groupMessagesCollection,
  groupMessagesMigrations,
  groupsCollection,
  groupsMigrations,
} from '../../../../src/overlay/store/migrations/groups.js'
import type {
  StoredGroup,
  StoredGroupMessage,
} from '../../../../src/overlay/store/migrations/groups.js'
import { openCollection } from '../../../../src/overlay/store/versioned-collection.js'
import { GroupStore, encodeLog, messageKey } from '../../../../src/overlay/groups/group-store.js'
import { signGroupEntry } from '../../../../src/shared/groups/group-log.js'
import { replay } from '../../../../src/shared/groups/group-state.js'
import { createStderrLogger } from '../../../../src/main/logger.js'
import { getJson, openTempStore, putRaw } from '../level-store.js'
import type { TempStore } from '../level-store.js'

let store: TempStore
beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  await store.dispose()
})

async function aGroup(): Promise<StoredGroup> {
  const key = await generateKeyPair('Ed25519')
  const genesis = await signGroupEntry(
    {
      index: 0,
      group: new Uint8Array(16).fill(1),
      prev: new Uint8Array(0),
      author: 'ann',
      time: 1,
      op: 'create',
      name: 'Hikers',
      members: [{ name: 'ann', key: key.publicKey.raw }],
    },
    key,
  )
  const id = replay([genesis]).id
  return { id, log: encodeLog([genesis]), clock: 3, seq: 1, lastRead: null, joinedAt: 5 }
}

const aMessage = (group: string): StoredGroupMessage => ({
  id: 'ab'.repeat(16),
  group,
  direction: 'in',
  sender: 'ben',
  fingerprint: 'aaaa-bbbb-cccc-dddd',
  seq: 1,
  lamport: 2,
  sentAt: '2025-01-01T00:00:00.000Z',
  receivedAt: 1_700_000_000_000,
  text: 'hello',
  via: 'direct',
  delivered: [],
  stored: [],
  failed: [],
})

describe('groups migrations 1 -> 2', () => {
  it('take a v1 entry to the v2 value and refuse a malformed one', async () => {
    const [g] = groupsMigrations
    const [m] = groupMessagesMigrations
    expect([g.from, g.to, m.from, m.to]).toEqual([1, 2, 1, 2])
    const group = await aGroup()
    expect(g.migrate(group)).toEqual(group)
    expect(() => g.migrate({ ...group, id: 'nope' })).toThrow()
    const msg = aMessage(group.id)
    expect(m.migrate(msg)).toEqual(msg)
    expect(() => m.migrate({ ...msg, direction: 'sideways' })).toThrow()
  })

  it('rewrite stored v1 entries in the envelope, and the store reads them', async () => {
    const group = await aGroup()
    const msg = aMessage(group.id)
    await putRaw(store.ds, `/kaiwa/groups/${group.id}`, JSON.stringify(group))
    const msgKey = `/kaiwa/group-messages/${encodeURIComponent(`${group.id}/${messageKey(msg)}`)}`
    await putRaw(store.ds, msgKey, JSON.stringify(msg))
    await putRaw(store.ds, '/kaiwa/group-messages/broken', '{"id":1}')
    expect(await openCollection(store.ds, groupsCollection)).toMatchObject({ migrated: 1 })
    expect(await openCollection(store.ds, groupMessagesCollection)).toMatchObject({
      migrated: 1,
      quarantined: 1,
    })
    expect(await getJson(store.ds, `/kaiwa/groups/${group.id}`)).toEqual({ $v: 2, data: group })
    const groups = new GroupStore(store.ds, createStderrLogger('silent', 'test'))
    const [g] = await groups.all()
    expect(g!.state.name).toBe('Hikers')
    expect(await groups.list(group.id)).toEqual([msg])
    expect(await groups.has(group.id, msg.id)).toBe(true)
  })
})

describe('group-messages keys', () => {
  it('keep two messages in the same place (two devices of one account sending at once) apart', async () => {
    const group = await aGroup()
    const groups = new GroupStore(store.ds, createStderrLogger('silent', 'test'))
    const first = { ...aMessage(group.id), id: 'ab'.repeat(16), text: 'from the laptop' }
    const second = { ...aMessage(group.id), id: 'cd'.repeat(16), text: 'from the phone' }
    expect(await groups.add(second)).toBe(true)
    expect(await groups.add(first)).toBe(true)
    const reloaded = new GroupStore(store.ds, createStderrLogger('silent', 'test'))
    expect((await reloaded.list(group.id)).map((m) => m.text)).toEqual([
      'from the laptop',
      'from the phone',
    ])
  })

  it('read a message stored under the order key alone, and re-key it once when it is updated', async () => {
    const group = await aGroup()
    const msg = { ...aMessage(group.id), direction: 'out' as const, via: 'sent' as const }
    await openCollection(store.ds, groupMessagesCollection)
    const legacy = `/kaiwa/group-messages/${encodeURIComponent(`${group.id}/${messageKey(msg)}`)}`
    await putRaw(store.ds, legacy, JSON.stringify({ $v: 2, data: msg }))
    const groups = new GroupStore(store.ds, createStderrLogger('silent', 'test'))
    expect(await groups.list(group.id)).toEqual([msg])
    await groups.update({ ...msg, delivered: ['ben'] })
    const reloaded = new GroupStore(store.ds, createStderrLogger('silent', 'test'))
    expect(await reloaded.list(group.id)).toEqual([{ ...msg, delivered: ['ben'] }])
  })
})
