/**
 * The one-hop supernode table between real libp2p supernodes in one process
 * (gossipsub, TCP, Noise, yamux on 127.0.0.1): joins spread along a chain of
 * connections, a late supernode pulls the whole table, a graceful stop spreads
 * a leave, re-announces keep entries alive past their TTL, a supernode that
 * vanishes without a leave expires, and clients never run gossipsub.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SUPERNODE_TOPIC } from '../../../src/overlay/supernodes/supernode-table.js'
import { waitFor } from '../../helpers/nodes.js'
import { dial, FAST_TABLE, memberIds, startPeer } from './supernode-nodes.js'
import type { TestPeer } from './supernode-nodes.js'

const peers: TestPeer[] = []
afterEach(async () => {
  await Promise.allSettled(peers.splice(0).map((p) => p.stop()))
})

async function supernodes(n: number, table = FAST_TABLE): Promise<TestPeer[]> {
  const out = await Promise.all(
    Array.from({ length: n }, () => startPeer({ supernode: true, table })),
  )
  peers.push(...out)
  return out
}

const ids = (ps: TestPeer[]): string[] => ps.map((p) => p.libp2p.peerId.toString()).sort()

describe('supernode table (gossipsub, real nodes)', () => {
  it('spreads joins along a chain, gives a late supernode the whole table, and spreads a leave', async () => {
    const [a, b, c, d] = await supernodes(4)
    // A chain: each dials only the previous one; gossip and the mesh upkeep do the rest.
    await dial(b!, a!)
    await dial(c!, b!)
    await dial(d!, c!)
    const four = ids([a!, b!, c!, d!])
    await waitFor(
      () => [a!, b!, c!, d!].every((p) => memberIds(p).join() === four.join()),
      30_000,
      'every table to hold the four supernodes',
    )
    for (const p of [a!, b!, c!, d!]) expect(p.table().ready()).toBe(true)

    // A late supernode that knows only d: it pulls the table, the others hear its join.
    const [e] = await supernodes(1)
    await dial(e!, d!)
    const five = ids([a!, b!, c!, d!, e!])
    await waitFor(
      () => [a!, b!, c!, d!, e!].every((p) => memberIds(p).join() === five.join()),
      30_000,
      'every table to hold five, the late one included',
    )
    expect(e!.table().stats().synced).toBe(true)
    // Each entry carries dialable addresses.
    const entryOfE = a!
      .table()
      .members()
      .find((m) => m.id === e!.libp2p.peerId.toString())
    expect(entryOfE?.event.addrs.length).toBeGreaterThan(0)

    // A graceful stop publishes a leave before the connections close.
    await c!.stop()
    peers.splice(peers.indexOf(c!), 1)
    const rest = [a!, b!, d!, e!]
    await waitFor(
      () => rest.every((p) => memberIds(p).join() === ids(rest).join()),
      30_000,
      'the leave of the stopped supernode to reach every table',
    )
    for (const p of rest) expect(p.table().stats().refused).toEqual({})
  }, 120_000)

  it('keeps re-announced entries past the TTL and expires one that vanished without a leave', async () => {
    const timing = { ...FAST_TABLE, announceIntervalMs: 1_000, ttlMs: 4_000 }
    const [a, b, c] = await supernodes(3, timing)
    await dial(b!, a!)
    await dial(c!, a!)
    await waitFor(() => memberIds(a!).length === 3, 30_000, 'three members')
    // Well past one TTL: still there, because each re-announces every second.
    await new Promise((r) => setTimeout(r, 6_000))
    expect(memberIds(a!)).toEqual(ids([a!, b!, c!]))
    // c vanishes as a crashed process would: no leave (its goodbye is skipped).
    const table = c!.table() as unknown as { beforeStop: () => Promise<void> }
    table.beforeStop = async () => {}
    await c!.stop()
    peers.splice(peers.indexOf(c!), 1)
    expect(memberIds(a!)).toContain(c!.libp2p.peerId.toString())
    await waitFor(
      () => memberIds(a!).join() === ids([a!, b!]).join(),
      30_000,
      'the silent supernode to expire',
    )
  }, 90_000)

  it('clients run no gossipsub and no table', async () => {
    const [s] = await supernodes(1)
    const client = await startPeer({ supernode: false })
    peers.push(client)
    await dial(client, s!)
    expect(client.libp2p.services.pubsub).toBeUndefined()
    expect(client.libp2p.getProtocols().some((p) => p.includes('meshsub'))).toBe(false)
    await waitFor(() => s!.libp2p.getConnections().length > 0, 10_000, 'the client connection')
    // The supernode never sees the client subscribe to anything.
    await new Promise((r) => setTimeout(r, 1_500))
    expect(s!.libp2p.services.pubsub!.getSubscribers(SUPERNODE_TOPIC)).toHaveLength(0)
    expect(memberIds(s!)).toEqual([s!.libp2p.peerId.toString()])
  }, 60_000)
})
