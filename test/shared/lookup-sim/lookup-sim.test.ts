/**
 * The lookup simulation (issue 16 §5): its key space builds true k-buckets,
 * both lookups find the record's holders, one hop takes exactly two round
 * trips when no table entry is stale, and a run is reproducible from its seed.
 */
import { describe, expect, it } from 'vitest'
import { createPrng } from '../../../src/shared/election/prng.js'
import { runLookupSim } from '../../../src/shared/lookup-sim/lookup-sim.js'
import { kadLookup, oneHopLookup } from '../../../src/shared/lookup-sim/lookups.js'
import { membershipTraffic } from '../../../src/shared/lookup-sim/membership-traffic.js'
import { XorSpace, distance } from '../../../src/shared/lookup-sim/xor-space.js'

describe('XorSpace', () => {
  const space = new XorSpace(2000, createPrng(7), 20)

  it('holds distinct sorted IDs', () => {
    expect(space.size).toBe(2000)
    for (let i = 1; i < space.ids.length; i++)
      expect(space.ids[i]!).toBeGreaterThan(space.ids[i - 1]!)
  })

  it('builds ideal k-buckets: at most K per bucket, every node of a small bucket', () => {
    const owner = space.ids[123]!
    const table = space.table(owner)
    const perBucket = new Map<number, number>()
    for (const id of table) {
      expect(id).not.toBe(owner)
      const b = 31 - Math.clz32(distance(owner, id))
      perBucket.set(b, (perBucket.get(b) ?? 0) + 1)
    }
    for (const n of perBucket.values()) expect(n).toBeLessThanOrEqual(20)
    // The closest buckets hold fewer than K nodes in all: the table has each of them.
    const closest = space.closest(owner, 6).filter((id) => id !== owner)
    for (const id of closest) expect(table).toContain(id)
  })
})

describe('lookups', () => {
  const space = new XorSpace(5000, createPrng(3), 20)

  it('kad-dht: a client starting from two supernodes reaches 3 holders in a few rounds', () => {
    const prng = createPrng(11)
    for (let i = 0; i < 50; i++) {
      const key = prng.int(2 ** 32) >>> 0
      const r = kadLookup(space, key, [space.randomNode(), space.randomNode()], {
        alpha: 10,
        agree: 3,
      })
      expect(r.ok).toBe(true)
      expect(r.roundTrips).toBeGreaterThanOrEqual(1)
      expect(r.roundTrips).toBeLessThanOrEqual(6)
    }
  })

  it('one hop: two round trips and four messages with fresh tables; a stale entry costs a wave', () => {
    const prng = createPrng(5)
    expect(oneHopLookup(space, 42, prng, { agree: 3, staleEntry: 0 })).toEqual({
      roundTrips: 2,
      messages: 4,
      ok: true,
    })
    const stale = oneHopLookup(space, 42, prng, { agree: 3, staleEntry: 1 })
    expect(stale.ok).toBe(false)
  })
})

describe('membershipTraffic', () => {
  it('charges kad-dht for clients’ refreshes and one hop only for supernode events', () => {
    const base = { supernodes: 1000, sessionS: 3600, kadRounds: 3, kadBuckets: 10 }
    const none = membershipTraffic({ ...base, clientsPerSupernode: 0 })
    const many = membershipTraffic({ ...base, clientsPerSupernode: 99 })
    expect(none.kadClientsKbps).toBe(0)
    expect(many.kadKbps).toBeGreaterThan(none.kadKbps)
    expect(many.oneHopKbps).toBe(none.oneHopKbps)
    // 2 events per session (join, leave) plus one re-announce an hour.
    expect(none.eventsPerS).toBeCloseTo((2 * 1000) / 3600 + 1000 / 3600)
  })
})

describe('runLookupSim', () => {
  it('is reproducible from its seed and succeeds at 10^4 users', () => {
    const a = runLookupSim({ users: 10_000, lookups: 100, seed: 9 })
    const b = runLookupSim({ users: 10_000, lookups: 100, seed: 9 })
    expect(a).toEqual(b)
    expect(a.supernodes).toBe(100)
    expect(a.kad.success).toBe(1)
    expect(a.oneHop.p50).toBe(2)
    expect(a.kad.p99).toBeGreaterThanOrEqual(a.kad.p50)
  })
})
