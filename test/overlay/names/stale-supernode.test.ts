/**
 * A supernode restarted with its old data (issue 13: 18 of 264 lookups were
 * served a superseded record that way). Its stale copy must lose to the newer
 * one: within one read (the highest seq under the key wins), and across
 * lookups (a reader that has seen a newer seq never settles for an older one,
 * even when the stale answers arrive first and would allow an early stop).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dhtDatastoreKey } from '../../../src/overlay/names/record-validator.js'
import { userRecordKey } from '../../../src/shared/records/dht-key.js'
import { decodeContactRecord } from '../../../src/shared/records/contact-record.js'
import { connect, startNameNode, type NameNode } from './name-nodes.js'

const started: NameNode[] = []
let sns: NameNode[]
let alice: NameNode
let bob: NameNode

beforeAll(async () => {
  // Two agreeing answers allow an early stop: two stale supernodes could win it.
  const quorum = { agree: 2, max: 3, settleMs: 1500 }
  sns = await Promise.all([1, 2, 3].map(() => startNameNode({ server: true, quorum })))
  alice = await startNameNode({ server: false, quorum })
  bob = await startNameNode({ server: false, quorum })
  started.push(...sns, alice, bob)
  for (const s of sns) await connect(s, sns)
  await connect(alice, sns)
  await connect(bob, sns)
}, 60_000)

afterAll(async () => {
  await Promise.allSettled(started.map((n) => n.stop()))
})

describe('a supernode restarted with old data', () => {
  it('serves a superseded record that never wins over the newer one', async () => {
    const first = await alice.directory.claim('alice')
    const key = dhtDatastoreKey(userRecordKey('alice'))
    const old = await Promise.all(sns.map((s) => s.datastore.get(key)))
    const second = await alice.directory.publish('alice')
    expect(second.record.seq).toBeGreaterThan(first.record.seq)
    expect((await bob.directory.lookup('alice', { fresh: true }))!.record.seq).toBe(
      second.record.seq,
    )

    // Two of the three come back with the data they had before the republish.
    await sns[0]!.datastore.put(key, old[0]!)
    await sns[1]!.datastore.put(key, old[1]!)

    // The stale copies really are served (kad-dht's own get shows every answer).
    const seen: number[] = []
    for await (const ev of bob.libp2p.services.dht.get(userRecordKey('alice'), {
      signal: AbortSignal.timeout(10_000),
    })) {
      if (ev.name === 'PEER_RESPONSE' && ev.record != null)
        seen.push(decodeContactRecord(ev.record.value).seq)
      if (seen.length === 3) break
    }
    expect(seen).toContain(first.record.seq)

    // Every answer compared: the newer copy from the third wins.
    const all = (await bob.directory.lookup('alice', { fresh: true }))!
    expect(all.record.seq).toBe(second.record.seq)
    // Ordinary lookups (early stop, no cache): bob has seen the newer seq, so
    // two stale answers agreeing is not enough to stop on.
    for (let i = 0; i < 5; i++) {
      const r = (await bob.directory.lookup('alice', { cache: false }))!
      expect(r.record.seq).toBe(second.record.seq)
    }
    // And the cache keeps the newest.
    expect((await bob.directory.lookup('alice'))!.record.seq).toBe(second.record.seq)
  }, 60_000)
})
