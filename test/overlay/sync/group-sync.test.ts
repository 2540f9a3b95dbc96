/**
 * Groups across the devices of one account, between real nodes on loopback
 * (issue 15 §3: "contacts, pinned keys, groups and settings sync, encrypted
 * to the account"): a supernode, bob, carol, and alice on two devices (the
 * second restored from the first's backup). A group created, changed, read
 * or left on one device shows on the other, messages sent from either device
 * and from members show on both, a device that was offline catches up from
 * the account's mailbox, and group events from another account or from a
 * removed device are refused.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { groupLogEvent } from '../../../src/overlay/groups/group-siblings.js'
import { pushSyncBatch } from '../../../src/overlay/sync/sync-protocol.js'
import { sealSyncBatch } from '../../../src/shared/sync/sync-wire.js'
import type { SyncEvent } from '../../../src/shared/sync/sync-wire.js'
import { startClient, startTestNode, waitFor } from '../../helpers/nodes.js'
import { startTwoDevices } from './two-devices.js'

let sn: KaiwaNode
let bob: KaiwaNode
let carol: KaiwaNode
let a1: KaiwaNode
let a2: KaiwaNode
const running = new Set<KaiwaNode>()
const dirs = new Set<string>()
let group = ''

const groupOf = async (n: KaiwaNode, id = group) =>
  (await n.api.groups({})).groups.find((g) => g.id === id)

const texts = async (n: KaiwaNode, id = group): Promise<string[]> =>
  (await n.api.groupMessages({ group: id })).messages.map((m) => m.text)

async function waitForTexts(n: KaiwaNode, want: string[], what: string, id = group) {
  await waitFor(
    async () => {
      const got = await texts(n, id).catch((): string[] => [])
      return want.every((t) => got.includes(t))
    },
    45_000,
    what,
  )
}

describe('groups on two devices of one account', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    bob = await startClient(sn, { name: 'bob' })
    carol = await startClient(sn, { name: 'carol' })
    const alice = await startTwoDevices(sn, 'alice')
    a1 = alice.one
    a2 = alice.two
    for (const n of [sn, bob, carol, a1, a2]) {
      running.add(n)
      dirs.add(n.dataDir)
    }
  }, 180_000)
  afterAll(async () => {
    await Promise.allSettled([...running].map((n) => n.stop()))
    await Promise.allSettled([...dirs].map((d) => rm(d, { recursive: true, force: true })))
  })

  it(
    'a group made on one device shows on the other, with messages from either device and from members',
    { timeout: 150_000 },
    async () => {
      // The UI's groupChanged event: a group that arrives with no message yet.
      const changed: string[] = []
      const off = a2.groups.onGroup((id) => changed.push(id))
      const { group: g } = await a1.api.groupCreate({ name: 'Climbers', members: ['bob', 'carol'] })
      group = g.id
      await waitFor(
        async () => (await groupOf(a2))?.members.join() === 'alice,bob,carol',
        30_000,
        'device 2 to know the group',
      )
      off()
      expect(changed).toContain(group)
      expect(await groupOf(a2)).toMatchObject({
        name: 'Climbers',
        creator: 'alice',
        admins: ['alice'],
        member: true,
        version: 1,
      })
      await a1.api.groupSend({ group, text: 'sent from one' })
      await waitForTexts(a2, ['sent from one'], 'device 2 to show what device 1 sent')
      // Sent from the other device, it follows the first in every member's order.
      const two = await a2.api.groupSend({ group, text: 'sent from two' })
      expect(two.failed).toEqual([])
      await bob.api.groupSend({ group, text: 'bob to all' })
      const all = ['sent from one', 'sent from two', 'bob to all']
      await waitForTexts(a1, all, 'device 1 to show the whole group conversation')
      await waitForTexts(a2, all, 'device 2 to show the whole group conversation')
      await waitForTexts(carol, all, 'carol to get both devices’ messages')
      for (const n of [a1, a2, carol]) {
        const got = await texts(n)
        for (const t of all) expect(got.filter((x) => x === t)).toHaveLength(1)
        expect(got.indexOf('sent from one')).toBeLessThan(got.indexOf('sent from two'))
      }
      // A message sent from device 1 shows on device 2 as sent, with how the members got it.
      const mine = (await a2.api.groupMessages({ group })).messages.find(
        (m) => m.text === 'sent from one',
      )
      expect(mine).toMatchObject({ direction: 'out', sender: 'alice' })
      expect([...(mine?.delivered ?? []), ...(mine?.stored ?? [])].sort()).toEqual(['bob', 'carol'])
    },
  )

  it(
    'a rename, a removal and read state made on either device follow to the other',
    { timeout: 150_000 },
    async () => {
      await a2.api.groupRename({ group, name: 'Climbers and friends' })
      await waitFor(
        async () => (await groupOf(a1))?.name === 'Climbers and friends',
        30_000,
        'device 1 to take the new name',
      )
      await a1.api.groupRemove({ group, member: 'carol' })
      await waitFor(
        async () => (await groupOf(a2))?.members.join() === 'alice,bob',
        30_000,
        'device 2 to drop carol',
      )
      expect((await groupOf(a2))?.version).toBe(3)
      await bob.api.groupSend({ group, text: 'unread on both' })
      await waitForTexts(a1, ['unread on both'], 'device 1 to receive')
      await waitForTexts(a2, ['unread on both'], 'device 2 to receive')
      expect((await groupOf(a1))?.unread).toBeGreaterThan(0)
      expect((await groupOf(a2))?.unread).toBeGreaterThan(0)
      await a2.api.groupMarkRead({ group })
      expect((await groupOf(a2))?.unread).toBe(0)
      await waitFor(
        async () => (await groupOf(a1))?.unread === 0,
        30_000,
        'device 1 to see it read',
      )
    },
  )

  it(
    'a device that was offline catches up: a group joined and left meanwhile, and the messages',
    { timeout: 180_000 },
    async () => {
      const dir = a2.dataDir
      await a2.stop()
      running.delete(a2)
      const { group: late } = await bob.api.groupCreate({
        name: 'Late night',
        members: ['alice', 'carol'],
      })
      await waitFor(async () => (await groupOf(a1, late.id)) != null, 30_000, 'device 1 to join')
      await bob.api.groupSend({ group: late.id, text: 'while two was away' })
      await waitForTexts(a1, ['while two was away'], 'device 1 to receive', late.id)
      await a1.api.groupSend({ group, text: 'one wrote meanwhile' })
      await a1.api.groupLeave({ group: late.id })
      a2 = await startClient(sn, { dataDir: dir })
      running.add(a2)
      await waitFor(
        async () => (await groupOf(a2, late.id))?.member === false,
        60_000,
        'device 2 to know the group it joined and left while away',
      )
      expect((await groupOf(a2, late.id))?.members).toEqual(['bob', 'carol'])
      await waitForTexts(a2, ['while two was away'], 'device 2 to catch up the new group', late.id)
      await waitForTexts(a2, ['one wrote meanwhile'], 'device 2 to catch up its own message')
      expect((await texts(a2)).filter((t) => t === 'one wrote meanwhile')).toHaveLength(1)
    },
  )

  it(
    'refuses group sync from another account and from a removed device',
    { timeout: 150_000 },
    async () => {
      // A real group alice is not in, and a message claiming to be in alice's group.
      const { group: secret } = await bob.api.groupCreate({ name: 'Secret', members: ['carol'] })
      const forged: SyncEvent[] = [
        groupLogEvent(await bob.groups.resolve(secret.id)),
        {
          k: 'gm',
          g: group,
          id: 'ee'.repeat(16),
          d: 'in',
          sn: 'bob',
          fp: 'forged',
          sq: 99,
          l: 99,
          sa: new Date().toISOString(),
          tx: 'forged group text',
          v: 'direct',
          dl: [],
          st: [],
          fl: [],
        },
      ]
      const seal = (n: KaiwaNode, from: KaiwaNode) =>
        sealSyncBatch({
          accountKey: n.identity.accountKey,
          from: peerIdFromString(from.peerId).toMultihash().bytes,
          to: peerIdFromString(a1.peerId).toMultihash().bytes,
          events: forged,
        })
      // Another account's key, also when it names alice's other device as the sender.
      await expect(
        pushSyncBatch(bob.libp2p(), peerIdFromString(a1.peerId), await seal(bob, bob)),
      ).rejects.toMatchObject({ name: 'SyncRefusedError' })
      await expect(
        pushSyncBatch(bob.libp2p(), peerIdFromString(a1.peerId), await seal(bob, a2)),
      ).rejects.toMatchObject({ name: 'SyncRefusedError' })
      // A removed device still holds the account key; its group sync is refused all the same.
      await a1.api.deviceRemove({ peerId: a2.peerId })
      await expect(
        pushSyncBatch(a2.libp2p(), peerIdFromString(a1.peerId), await seal(a2, a2)),
      ).rejects.toThrow(/removed/)
      expect(await groupOf(a1, secret.id)).toBeUndefined()
      expect(await texts(a1)).not.toContain('forged group text')
      // And what device 1 does in its groups no longer reaches it.
      await a1.api.groupSend({ group, text: 'after the removal' })
      await waitForTexts(bob, ['after the removal'], 'bob to receive')
      await new Promise((r) => setTimeout(r, 3000))
      expect(await texts(a2)).not.toContain('after the removal')
    },
  )
})
