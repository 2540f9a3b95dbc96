/**
 * Recovery from dead supernodes (issue 13): a client reachable only through
 * relays (no listen address of its own, as behind a NAT) loses every supernode
 * it holds a reservation on. It must reserve elsewhere and republish; a caller
 * whose cached record names only the dead relays must notice the failed
 * delivery, look again past its cache and reach the client. The time is
 * printed here; bench/recovery.mjs measures it over many rounds.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reservedRelays } from '../../../src/overlay/node/relay-keeper.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startClient, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'

const nodes: KaiwaNode[] = []
let sns: KaiwaNode[]
let alice: KaiwaNode
let bob: KaiwaNode
let carol: KaiwaNode

/** The relay's peer id in a `/p2p/<relay>/p2p-circuit` address (bytes from a record). */
const relayIn = (addr: Uint8Array): string | undefined =>
  /\/p2p\/([^/]+)\/p2p-circuit/.exec(multiaddr(addr).toString())?.[1]

beforeAll(async () => {
  sns = [await startTestNode({ supernode: 'on' })]
  for (let i = 1; i < 4; i++)
    sns.push(await startTestNode({ supernode: 'on', bootstrap: [tcpAddr(sns[0]!)] }))
  nodes.push(...sns)
  const bootstrap = sns.map(tcpAddr)
  alice = await startClient(sns[0]!, { bootstrap, name: 'alice' })
  // No listen address: reachable only through its relay reservations.
  bob = await startClient(sns[0]!, { bootstrap, listen: [] })
  carol = await startClient(sns[0]!, { bootstrap })
  nodes.push(alice, bob, carol)
}, 90_000)

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
})

describe('a relay-only client whose relay supernodes die', () => {
  it('reserves elsewhere, republishes, and a caller with the stale record reaches it again', async () => {
    await waitFor(() => reservedRelays(bob.libp2p()).length >= 2, 30_000, 'two reservations')
    const before = await bob.claim('bob')
    const held = reservedRelays(bob.libp2p())
    expect((await alice.api.message({ to: 'bob', text: 'before' })).status).toBe('delivered')
    // Alice now holds bob's record in her lookup cache; so does carol.
    expect((await alice.directory.lookup('bob'))!.source).toBe('cache')
    await carol.directory.lookup('bob')

    // Kill every supernode bob holds a reservation on (half of them).
    const dead = sns.filter((s) => held.includes(s.peerId))
    expect(dead.length).toBe(held.length)
    // When bob's node republishes a record naming none of the dead relays.
    let republishedAt: number | undefined
    const publish = bob.directory.publish.bind(bob.directory)
    bob.directory.publish = async (...args) => {
      const res = await publish(...args)
      const relays = res.record.devices.flatMap((d) => d.addrs.map(relayIn))
      if (relays.length > 0 && !relays.some((r) => held.includes(r!)))
        republishedAt ??= performance.now()
      return res
    }
    const killedAt = performance.now()
    await Promise.all(dead.map((s) => s.stop()))
    // A direct link alice and bob may have punched over the relay would hide
    // the point: the next message must find bob through his record.
    for (const n of [alice, carol])
      await Promise.all(
        n
          .libp2p()
          .getConnections(bob.libp2p().peerId)
          .map((c) => c.close()),
      )

    let attempts = 0
    let status = ''
    const statuses: string[] = []
    while (performance.now() - killedAt < 60_000) {
      attempts++
      status = (await alice.api.message({ to: 'bob', text: `after ${attempts}` })).status
      statuses.push(status)
      if (status === 'delivered') break
      await new Promise((r) => setTimeout(r, 200))
    }
    const seconds = (performance.now() - killedAt) / 1000
    const republished =
      republishedAt == null ? 'not yet' : `${((republishedAt - killedAt) / 1000).toFixed(1)} s`
    console.log(
      `relay recovery: bob republished after ${republished}, reachable again after ${seconds.toFixed(1)} s (attempts: ${statuses.join(', ')})`,
    )
    expect(status).toBe('delivered')

    // The record alice used is bob's republished one: higher seq, no dead relay.
    const now = (await alice.directory.lookup('bob'))!
    expect(now.record.seq).toBeGreaterThan(before.record.seq)
    const relays = now.record.devices.flatMap((d) => d.addrs.map(relayIn))
    expect(relays.length).toBeGreaterThan(0)
    for (const s of dead) expect(relays).not.toContain(s.peerId)
    // Carol looked bob up before the relays died. Warming a call to bob (the
    // UI's prepareCall) links bob's new address: through the second look when
    // her cached record is still the stale one (fresh-retry.test.ts covers that
    // path alone), directly when a slow machine has let the cache expire.
    expect(await carol.sip.prepare('bob')).toBe(1)
    expect((await carol.directory.lookup('bob'))!.record.seq).toBe(now.record.seq)

    // Bob's inbox has the message that got through.
    await waitFor(
      async () => (await bob.api.inbox({})).messages.some((m) => m.text.startsWith('after')),
      5000,
      "bob's history",
    )
  }, 120_000)
})
