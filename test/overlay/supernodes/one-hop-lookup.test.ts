/**
 * One-hop lookups between real libp2p nodes: six supernodes with the full
 * table and Kaiwa's DHT, and clients that run neither gossipsub nor a table.
 * A client's lookup goes to its supernode, which asks the key's closest
 * holders (from its table, by kad-dht's XOR metric) at once; the client
 * checks every record itself, and walks the DHT as before when the one-hop
 * answer fails or cannot be believed (a hostile "supernode" that forges,
 * swaps or refuses).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import type { Libp2p } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { MemoryDatastore } from 'datastore-core'
import { userRecordKey } from '../../../src/shared/records/dht-key.js'
import { KAIWA_DHT_PROTOCOL } from '../../../src/overlay/node/protocols.js'
import { serveCborRpc } from '../../../src/overlay/rpc/cbor-rpc.js'
import { ONE_HOP_PROTOCOL } from '../../../src/overlay/supernodes/one-hop-protocol.js'
import { userRecordValidators } from '../../../src/overlay/names/record-validator.js'
import { loopbackLibp2p, recordDht } from '../../helpers/loopback-libp2p.js'
import { waitFor } from '../../helpers/nodes.js'
import { dial, memberIds, startPeer, TEST_POW_BITS } from './supernode-nodes.js'
import type { TestPeer } from './supernode-nodes.js'

let sns: TestPeer[] = []
let alice: TestPeer
const extra: Array<{ stop(): unknown }> = []

beforeAll(async () => {
  sns = await Promise.all(Array.from({ length: 6 }, () => startPeer({ supernode: true })))
  for (let i = 1; i < sns.length; i++) await dial(sns[i]!, sns[0]!)
  await waitFor(
    () => sns.every((s) => memberIds(s).length === 6 && s.table().ready()),
    60_000,
    'six full tables',
  )
  // Every supernode a DHT server in the others' routing tables (for the claim and the fallback).
  for (const s of sns) for (const t of sns) if (s !== t) await dial(s, t)
  alice = await startPeer({ supernode: false })
  await dial(alice, sns[1]!)
  await waitFor(
    () => alice.libp2p.services.supernodes.connected().length > 0,
    15_000,
    'a supernode',
  )
  await alice.directory.claim('alice')
}, 180_000)

afterAll(async () => {
  await Promise.allSettled([...sns, alice].map((p) => p?.stop()))
})

afterEach(async () => {
  await Promise.allSettled(extra.splice(0).map(async (x) => x.stop()))
})

async function client(to: Pick<Libp2p, 'getMultiaddrs'>): Promise<TestPeer> {
  const c = await startPeer({ supernode: false })
  extra.push(c)
  await c.libp2p.dial(to.getMultiaddrs()[0]!)
  await waitFor(() => c.libp2p.services.supernodes.connected().length > 0, 15_000, 'a supernode')
  return c
}

describe('one-hop lookups', () => {
  it('a client finds a name through its supernode in one hop, with checked records', async () => {
    const bob = await client(sns[4]!.libp2p)
    const r = await bob.directory.lookup('alice', { cache: false })
    expect(r?.via).toBe('one-hop')
    expect(r?.record.name).toBe('alice')
    expect(r?.record.publicKey).toEqual(alice.accountKey.publicKey.raw)
    expect(r?.responses).toBeGreaterThanOrEqual(3)
    // No such user: answered by the holders, not a timeout.
    expect(await bob.directory.lookup('nobody-here', { cache: false })).toBeUndefined()
  }, 60_000)

  it('the supernode asks the K closest supernodes of its table (kad-dht’s XOR metric)', async () => {
    const s = sns[2]!
    const key = userRecordKey('alice')
    const answer = await s.libp2p.services.oneHop!.lookup(key, {
      early: false,
      signal: AbortSignal.timeout(10_000),
    })
    const closest = s
      .table()
      .closest(key, 5)
      .map((e) => e.id)
    expect(answer.answered + answer.failed).toBe(5)
    expect(answer.records.length).toBeGreaterThanOrEqual(3)
    for (const r of answer.records) expect(closest).toContain(r.peer)
  }, 60_000)

  it('walks the DHT instead when the one-hop answer is forged, swapped or refused', async () => {
    // A hostile "supernode": a real Kaiwa DHT server (so clients take it for a
    // supernode, and the walk through it works) whose one-hop answers lie.
    let mode: 'forge' | 'swap' | 'refuse' = 'forge'
    const datastore = new MemoryDatastore()
    const records = userRecordValidators({ datastore, powBits: TEST_POW_BITS })
    const liar = await createLibp2p({
      datastore,
      ...loopbackLibp2p(),
      services: {
        identify: identify(),
        ping: ping(),
        dht: recordDht({ protocol: KAIWA_DHT_PROTOCOL, server: true, records }),
      },
    })
    extra.push(liar)
    for (const s of sns) await liar.dial(s.libp2p.getMultiaddrs()[0]!)
    const real = (await alice.directory.lookup('alice', { cache: false }))!
    const mallory = await startPeer({ supernode: false })
    extra.push(mallory)
    await dial(mallory, sns[3]!)
    await waitFor(() => mallory.libp2p.services.supernodes.connected().length > 0, 15_000, 'sn')
    await mallory.directory.claim('mallory')
    const malloryRecord = (await mallory.directory.lookup('mallory', { cache: false }))!
    await serveCborRpc(liar, {
      protocol: ONE_HOP_PROTOCOL,
      maxMessageBytes: 64 * 1024,
      maxInboundStreams: 8,
      handler: () => {
        if (mode === 'refuse') return { x: 'not-ready' }
        const bytes = mode === 'forge' ? tampered(real.bytes) : malloryRecord.bytes
        const holders = sns.slice(0, 3).map((s) => s.libp2p.peerId.toMultihash().bytes)
        return { r: holders.map((h) => [h, bytes]), n: 3, f: 0 }
      },
    })
    for (const m of ['forge', 'swap', 'refuse'] as const) {
      mode = m
      // A new client each time: after its DHT walk it knows real supernodes too.
      const victim = await client(liar)
      expect(victim.libp2p.services.supernodes.connected()).toEqual([liar.peerId.toString()])
      const r = await victim.directory.lookup('alice', { cache: false })
      expect(r?.via, m).toBeUndefined()
      expect(r?.record.name, m).toBe('alice')
      expect(r?.record.publicKey, m).toEqual(alice.accountKey.publicKey.raw)
    }
  }, 120_000)
})

/** The same record with one byte of its signature changed. */
function tampered(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  const i = out.length - 5
  out[i] = out[i]! ^ 0x01
  return out
}
