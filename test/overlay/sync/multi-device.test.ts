/**
 * Multi-device history between real nodes on loopback (issue 15 §3): a
 * supernode, bob, and alice on two devices (the second restored from the
 * first's backup). Both of alice's devices show the conversation held from
 * either side; contacts, read state and file settings follow; a device that was offline
 * catches up from the account's mailbox; a removed device is dropped from the
 * record and its sync is refused; a "sync" from another account is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { sealSyncBatch } from '../../../src/shared/sync/sync-wire.js'
import type { SyncEvent } from '../../../src/shared/sync/sync-wire.js'
import { pushSyncBatch } from '../../../src/overlay/sync/sync-protocol.js'
import { startClient, startTestNode, waitFor } from '../../helpers/nodes.js'

let sn: KaiwaNode
let bob: KaiwaNode
let a1: KaiwaNode
let a2: KaiwaNode
const running = new Set<KaiwaNode>()

const texts = async (n: KaiwaNode, peer = 'bob'): Promise<string[]> =>
  (await n.api.conversation({ peer })).messages.map((m) => `${m.direction}:${m.text}`)

async function waitForTexts(n: KaiwaNode, want: string[], what: string): Promise<void> {
  await waitFor(
    async () => {
      const got = await texts(n).catch((): string[] => [])
      return want.every((t) => got.includes(t))
    },
    45_000,
    what,
  )
}

const forged = (text: string): SyncEvent[] => [
  {
    k: 'm',
    id: `in:forged-${text}`,
    d: 'in',
    p: 'sip:bob@kaiwa',
    fr: 'sip:bob@kaiwa',
    to: 'sip:alice@kaiwa',
    dt: new Date().toISOString(),
    ct: 'text/plain',
    tx: text,
    st: 'received',
    cd: 200,
  },
]

describe('one account on two devices', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    bob = await startClient(sn, { name: 'bob' })
    a1 = await startClient(sn, { name: 'alice' })
    for (const n of [sn, bob, a1]) running.add(n)
  }, 120_000)
  afterAll(async () => {
    await Promise.allSettled([...running].map((n) => n.stop()))
  })

  it(
    'a second device restored from the backup joins the account and meets the first',
    { timeout: 120_000 },
    async () => {
      // A conversation held before the second device exists.
      await a1.api.message({ to: 'bob', text: 'before the restore' })
      await waitFor(async () => (await texts(bob, 'alice')).length > 0, 20_000, 'bob to receive')
      const { backup } = await a1.api.identityExport({ passphrase: 'correct horse battery' })
      a2 = await startClient(sn)
      running.add(a2)
      await a2.api.identityImport({ backup, passphrase: 'correct horse battery' })
      const peersOf = async (n: KaiwaNode): Promise<string[]> =>
        (await n.api.devices({})).devices.filter((d) => !d.removed).map((d) => d.peerId)
      await waitFor(
        async () => (await peersOf(a1)).includes(a2.peerId),
        30_000,
        'alice 1 to know device 2',
      )
      await waitFor(
        async () => (await peersOf(a2)).includes(a1.peerId),
        30_000,
        'alice 2 to know device 1',
      )
      const mine = (await a2.api.devices({})).devices.find((d) => d.self)
      expect(mine?.peerId).toBe(a2.peerId)
      // The new device gets the history it missed.
      await waitForTexts(a2, ['out:before the restore'], 'device 2 to get the earlier conversation')
    },
  )

  it(
    'shows a conversation held from either side on both devices',
    { timeout: 120_000 },
    async () => {
      await a1.api.message({ to: 'bob', text: 'sent from one' })
      await a2.api.message({ to: 'bob', text: 'sent from two' })
      await bob.api.message({ to: 'alice', text: 'hello both' })
      for (const [n, who] of [
        [a1, 'device 1'],
        [a2, 'device 2'],
      ] as const) {
        await waitForTexts(
          n,
          ['out:sent from one', 'out:sent from two', 'in:hello both'],
          `${who} to show the whole conversation`,
        )
      }
      // Received on both devices (forked) and synced both ways: still filed once.
      for (const n of [a1, a2]) {
        const got = await texts(n)
        expect(got.filter((t) => t === 'in:hello both')).toHaveLength(1)
        expect(got.filter((t) => t === 'out:sent from one')).toHaveLength(1)
      }
    },
  )

  it(
    'syncs contacts (with the pinned key), read state and the account-wide settings',
    { timeout: 120_000 },
    async () => {
      const { contact } = await a1.api.contactAdd({ name: 'bob' })
      await waitFor(
        async () => (await a2.api.contacts({})).contacts.some((c) => c.name === 'bob'),
        30_000,
        'device 2 to get the contact',
      )
      const synced = (await a2.api.contacts({})).contacts.find((c) => c.name === 'bob')
      expect(synced?.fingerprint).toBe(contact.fingerprint)
      const unread = async (n: KaiwaNode): Promise<number> =>
        (await n.api.conversations({})).conversations.find((c) => c.peer.includes('bob'))?.unread ??
        -1
      expect(await unread(a1)).toBeGreaterThan(0)
      await a2.api.markRead({ peer: 'bob' })
      expect(await unread(a2)).toBe(0)
      await waitFor(async () => (await unread(a1)) === 0, 30_000, 'device 1 to see it read')
      // File acceptance is the account's choice; the downloads folder stays per device.
      const folder = (await a2.api.settings({})).files?.receiveDir
      await a1.api.settingsUpdate({ files: { autoAcceptMiB: 7, maxMiB: 900 } })
      await waitFor(
        async () => (await a2.api.settings({})).files?.autoAcceptMiB === 7,
        30_000,
        'device 2 to take the file settings',
      )
      expect((await a2.api.settings({})).files).toMatchObject({ maxMiB: 900, receiveDir: folder })
      await a1.api.contactRemove({ name: 'bob' })
      await waitFor(
        async () => !(await a2.api.contacts({})).contacts.some((c) => c.name === 'bob'),
        30_000,
        'device 2 to drop the contact',
      )
    },
  )

  it('catches a device up from the mailbox when it returns', { timeout: 180_000 }, async () => {
    const dir = a2.dataDir
    const mailBefore = (await sn.mailbox.stats()).messages
    await a2.stop()
    running.delete(a2)
    // Device 1 cannot reach device 2, so what it files goes to the account's
    // mailbox (sealed; the supernode holds ciphertext), one mail at a time here.
    const mailed = (n: number, what: string): Promise<void> =>
      waitFor(
        async () => (await sn.mailbox.stats()).messages >= mailBefore + n,
        60_000,
        `${what} to wait in the mailbox`,
      )
    await bob.api.message({ to: 'alice', text: 'while two was away' })
    await waitForTexts(a1, ['in:while two was away'], 'device 1 to receive')
    await mailed(1, "bob's message")
    await a1.api.message({ to: 'bob', text: 'one wrote meanwhile' })
    await mailed(2, "device 1's own message")
    a2 = await startClient(sn, { dataDir: dir })
    running.add(a2)
    await waitForTexts(
      a2,
      ['in:while two was away', 'out:one wrote meanwhile'],
      'device 2 to catch up from the mailbox',
    )
    const got = await texts(a2)
    expect(got.filter((t) => t === 'in:while two was away')).toHaveLength(1)
  })

  it('refuses a "sync" from another account', { timeout: 120_000 }, async () => {
    const batch = await sealSyncBatch({
      accountKey: bob.identity.accountKey,
      from: peerIdFromString(bob.peerId).toMultihash().bytes,
      to: peerIdFromString(a1.peerId).toMultihash().bytes,
      events: forged('forged by bob'),
    })
    await expect(
      pushSyncBatch(bob.libp2p(), peerIdFromString(a1.peerId), batch),
    ).rejects.toMatchObject({ name: 'SyncRefusedError' })
    // Claiming to be alice's other device does not help either.
    const relabelled = await sealSyncBatch({
      accountKey: bob.identity.accountKey,
      from: peerIdFromString(a2.peerId).toMultihash().bytes,
      to: peerIdFromString(a1.peerId).toMultihash().bytes,
      events: forged('forged as device 2'),
    })
    await expect(
      pushSyncBatch(bob.libp2p(), peerIdFromString(a1.peerId), relabelled),
    ).rejects.toMatchObject({ name: 'SyncRefusedError' })
    const got = await texts(a1)
    expect(got.some((t) => t.includes('forged'))).toBe(false)
  })

  it(
    'removes a device: the record drops it and its later sync is refused',
    { timeout: 120_000 },
    async () => {
      const { devices } = await a1.api.deviceRemove({ peerId: a2.peerId })
      expect(devices.find((d) => d.peerId === a2.peerId)?.removed).toBe(true)
      await waitFor(
        async () => {
          const { record } = await bob.api.lookup({ name: 'alice' })
          return !record.devices.some((d) => d.peerId === a2.peerId)
        },
        30_000,
        "alice's record to stop listing device 2",
      )
      // Device 2 hears that it was removed (it then stops publishing under alice).
      await waitFor(
        async () => (await a2.api.devices({})).devices.find((d) => d.self)?.removed === true,
        30_000,
        'device 2 to learn it was removed',
      )
      // A batch device 2 seals with the account key (it still holds it) is refused.
      const batch = await sealSyncBatch({
        accountKey: a2.identity.accountKey,
        from: peerIdFromString(a2.peerId).toMultihash().bytes,
        to: peerIdFromString(a1.peerId).toMultihash().bytes,
        events: forged('from a removed device'),
      })
      await expect(pushSyncBatch(a2.libp2p(), peerIdFromString(a1.peerId), batch)).rejects.toThrow(
        /removed/,
      )
      expect((await texts(a1)).some((t) => t.includes('removed device'))).toBe(false)
      // And device 1's own messages no longer go to it.
      await a1.api.message({ to: 'bob', text: 'after the removal' })
      await new Promise((r) => setTimeout(r, 3000))
      expect(await texts(a2)).not.toContain('out:after the removal')
    },
  )
})
