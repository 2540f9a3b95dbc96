import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { ContactBook } from '../../../src/overlay/store/contact-book.js'
import { KAIWA_VERSION } from '../../../src/shared/version.js'
import { freePort, startClient, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'

let sn: KaiwaNode
let alice: KaiwaNode
let bob: KaiwaNode
const extra: KaiwaNode[] = []

beforeAll(async () => {
  sn = await startTestNode({ supernode: 'on', turnPort: await freePort() })
  alice = await startClient(sn, { name: 'alice' })
  bob = await startClient(sn, { name: 'bob' })
})
afterAll(async () => {
  await Promise.allSettled([...extra, alice, bob, sn].map((n) => n.stop()))
})

describe('address book', () => {
  it('adds a contact by user ID, pinning its key, with presence from its record', async () => {
    const { contact } = await alice.api.contactAdd({ name: 'Bob' })
    const bobRecord = (await alice.api.lookup({ name: 'bob' })).record
    expect(contact).toMatchObject({
      name: 'bob',
      fingerprint: bobRecord.fingerprint,
      keyChanged: false,
      online: true,
    })
    const { contacts } = await alice.api.contacts({})
    expect(contacts.map((c) => c.name)).toEqual(['bob'])
  })

  it('refuses a link whose fingerprint does not match, and unknown names', async () => {
    await expect(
      alice.api.contactAdd({ name: 'bob', fingerprint: 'aaaa-bbbb' }),
    ).rejects.toMatchObject({
      code: 'key_changed',
    })
    await expect(alice.api.contactAdd({ name: 'nobody-here' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })

  it('shows a changed key loudly until the user trusts the new one', async () => {
    // A pin from an earlier owner of the name: what a key change looks like to this device.
    await new ContactBook(alice.datastore).pin('bob', 'old0-old0-old0-old0')
    const changed = (await alice.api.contacts({})).contacts.find((c) => c.name === 'bob')
    expect(changed).toMatchObject({ keyChanged: true, fingerprint: 'old0-old0-old0-old0' })
    await expect(alice.api.contactAdd({ name: 'bob' })).rejects.toMatchObject({
      code: 'key_changed',
    })
    const { contact } = await alice.api.contactTrust({ name: 'bob' })
    expect(contact.keyChanged).toBe(false)
    await alice.api.contactRemove({ name: 'bob' })
    expect((await alice.api.contacts({})).contacts).toEqual([])
  })
})

describe('conversations', () => {
  it('keeps both sides of a conversation, with unread counts and read marks', async () => {
    const events: string[] = []
    const off = bob.sip.history.onAdded((m) => events.push(`${m.direction}:${m.text}`))
    // Bob's node takes it itself (no UI is registered): delivered, and kept in its history.
    expect(await alice.api.message({ to: 'bob', text: 'hello bob' })).toMatchObject({
      status: 'delivered',
    })
    off()
    expect(events).toEqual(['in:hello bob'])
    await waitFor(
      async () => (await bob.api.conversations({})).conversations.length > 0,
      10_000,
      'bob to receive the message',
    )
    const { conversations } = await bob.api.conversations({})
    expect(conversations[0]).toMatchObject({ peer: 'alice', unread: 1 })
    expect(conversations[0]!.last.text).toBe('hello bob')
    const { messages } = await bob.api.conversation({ peer: 'alice' })
    expect(messages.map((m) => m.text)).toEqual(['hello bob'])
    await bob.api.markRead({ peer: 'alice' })
    expect((await bob.api.conversations({})).conversations[0]!.unread).toBe(0)
    const own = await alice.api.conversation({ peer: 'bob' })
    expect(own.messages.map((m) => [m.direction, m.status])).toEqual([['out', 'delivered']])
  })
})

describe('calls, ICE servers, settings', () => {
  it('keeps the call log newest first', async () => {
    const call = (id: string, t: number) => ({
      id,
      peer: 'Bob',
      direction: 'out' as const,
      outcome: 'answered' as const,
      startedAt: new Date(t).toISOString(),
      answeredAt: new Date(t + 1000).toISOString(),
      endedAt: new Date(t + 5000).toISOString(),
      path: 'direct' as const,
    })
    await alice.api.callLog(call('c1', 1_700_000_000_000))
    await alice.api.callLog(call('c2', 1_700_000_100_000))
    const { calls } = await alice.api.calls({})
    expect(calls.map((c) => [c.id, c.peer])).toEqual([
      ['c2', 'bob'],
      ['c1', 'bob'],
    ])
  })

  it("gives the UI STUN and TURN with credentials from its supernode's relay", async () => {
    const { iceServers, expiresAt } = await alice.api.iceServers({})
    expect(iceServers[0]!.urls[0]).toMatch(/^stun:127\.0\.0\.1:\d+$/)
    expect(iceServers[1]).toMatchObject({ username: expect.stringContaining(alice.peerId) })
    expect(iceServers[1]!.urls.some((u) => u.startsWith('turn:'))).toBe(true)
    expect(expiresAt * 1000).toBeGreaterThan(Date.now())
    // Reused for the next call while valid: no round trip to the supernode on the call's path.
    expect((await alice.api.iceServers({})).iceServers[1]!.username).toBe(iceServers[1]!.username)
  })

  it('warms the route to a callee before the INVITE', async () => {
    expect(await alice.api.prepareCall({ name: 'bob' })).toEqual({ devices: 1 })
    expect(await alice.api.prepareCall({ name: 'nobody-here' })).toEqual({ devices: 0 })
  })

  it('saves caps, and a new supernode mode takes effect at once', async () => {
    const s = await bob.api.settingsUpdate({ caps: { relayedCalls: 7 } })
    expect(s.caps.relayedCalls).toBe(7)
    expect((await bob.api.settings({})).caps).toMatchObject({ relayedCalls: 7, storageMiB: 256 })
    expect(bob.role()).toBe('client')
    await bob.api.settingsUpdate({ supernodeMode: 'on' })
    expect(bob.role()).toBe('supernode')
    expect((await bob.api.status({})).supernodeMode).toBe('on')
    await bob.api.settingsUpdate({ supernodeMode: 'off' })
    expect(bob.role()).toBe('client')
    // Still reachable after two rebuilds: the SIP handlers were re-attached.
    await waitFor(
      async () => {
        try {
          return (await alice.api.message({ to: 'bob', text: 'still there?' })).code === 200
        } catch {
          return false
        }
      },
      20_000,
      'bob to be reachable again',
    )
    expect((await bob.api.usage({})).caps.relayedCalls).toBe(7)
  })

  it('reports usage on a supernode', async () => {
    await waitFor(
      async () => (await sn.api.usage({})).peersServed >= 2,
      10_000,
      'both clients to be attached',
    )
    const u = await sn.api.usage({})
    expect(u.role).toBe('supernode')
    expect(u.recordsStored).toBeGreaterThanOrEqual(2)
    expect((await sn.api.status({})).usage.role).toBe('supernode')
    // Clients that used the supernode's DHT are not supernodes (identify says what a peer serves).
    expect((await sn.api.status({})).supernodes).toEqual([])
    expect((await alice.api.status({})).supernodes).toEqual([sn.peerId])
    // Each connection says how it runs: on one host, clients reach the supernode over TCP.
    const conns = (await alice.api.status({})).connections
    expect(conns.find((c) => c.peer === sn.peerId)).toMatchObject({
      transport: 'tcp',
      limited: false,
    })
  })
})

describe('account backup', () => {
  it('restores an account on a new device, which joins the same user ID', async () => {
    const { backup } = await alice.api.identityExport({ passphrase: 'correct horse battery' })
    expect(backup).toMatch(/^kaiwa-backup-1:/)
    const fresh = await startClient(sn)
    extra.push(fresh)
    await expect(
      fresh.api.identityImport({ backup, passphrase: 'wrong passphrase' }),
    ).rejects.toMatchObject({ code: 'invalid_input' })
    const restored = await fresh.api.identityImport({ backup, passphrase: 'correct horse battery' })
    const aliceStatus = await alice.api.status({})
    expect(restored).toEqual({ name: 'alice', fingerprint: aliceStatus.fingerprint })
    expect((await fresh.api.status({})).name).toBe('alice')
    const { record } = await bob.api.lookup({ name: 'alice' })
    expect(record.devices.map((d) => d.peerId).sort()).toEqual([alice.peerId, fresh.peerId].sort())
    await expect(fresh.api.identityImport({ backup, passphrase: 'x' })).rejects.toMatchObject({
      code: 'conflict',
    })
  })
})

describe('support', () => {
  it('exports recent logs and versions', async () => {
    expect((await sn.api.logs({})).text).toMatch(/STUN\/TURN on 127\.0\.0\.1/)
    const about = await alice.api.about({})
    expect(about.versions).toMatchObject({ kaiwa: KAIWA_VERSION, node: process.versions.node })
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(KAIWA_VERSION).toBe(pkg.version)
    expect(tcpAddr(alice)).toContain('/p2p/')
  })
})
