/**
 * A busy node looks up the same sender for every request it verifies. When
 * the cached answer is missing or old, concurrent lookups of one name must
 * share one network read (bench:sip found thousands of concurrent quorum reads
 * for one name at 2,000 MESSAGE/s), and a name in steady use is refreshed
 * ahead of its expiry instead of making requests wait on the network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SingleFlight } from '../../../src/overlay/names/single-flight.js'
import { connect, startNameNode, type NameNode } from './name-nodes.js'
import { waitFor } from '../../helpers/nodes.js'

const started: NameNode[] = []
let sn: NameNode
let alice: NameNode
let bob: NameNode
let clock = Date.now()
let dhtGets = 0
/** DHT reads that have finished (the iteration ended, run to its end or stopped early). */
let dhtGetsDone = 0

beforeAll(async () => {
  sn = await startNameNode({ server: true })
  alice = await startNameNode({ server: false })
  bob = await startNameNode({ server: false, now: () => clock })
  started.push(sn, alice, bob)
  await connect(alice, [sn])
  await connect(bob, [sn])
  await alice.directory.claim('alice')
  const dht = bob.libp2p.services.dht
  const get = dht.get.bind(dht)
  dht.get = (...args: Parameters<typeof get>) => {
    dhtGets++
    const events = get(...args)
    return (async function* () {
      try {
        yield* events
      } finally {
        dhtGetsDone++
      }
    })()
  }
}, 60_000)

afterAll(async () => {
  await Promise.allSettled(started.map((n) => n.stop()))
})

describe('sharing lookups of one name', () => {
  it('runs one network read for many concurrent lookups', async () => {
    dhtGets = 0
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => bob.directory.lookup('alice', { timeoutMs: 8_000 })),
    )
    expect(answers.every((a) => a?.record.publicKey.length === 32)).toBe(true)
    expect(dhtGets).toBe(1)
  })

  it('serves the cached answer and refreshes it ahead of expiry', async () => {
    dhtGets = 0
    dhtGetsDone = 0
    clock += 25_000 // past the refresh-ahead age, before the cache expires
    const a = await bob.directory.lookup('alice')
    expect(a?.source).toBe('cache')
    await waitFor(() => dhtGets === 1, 10_000, 'a background refresh')
    // Its answer is remembered once the read has finished (not just started: on a loaded
    // machine the clock below would otherwise pass the old answer's expiry first).
    await waitFor(() => dhtGetsDone === 1, 10_000, 'the background refresh to finish')
    await new Promise((r) => setTimeout(r, 200))
    // The refresh took a new answer: ten seconds later it is still cached.
    clock += 10_000
    expect((await bob.directory.lookup('alice'))?.source).toBe('cache')
  })

  it('does not share a lookup with a caller that can abort it', async () => {
    dhtGets = 0
    clock += 60_000 // the cache has expired
    const ctl = new AbortController()
    const mine = bob.directory.lookup('alice', { signal: ctl.signal })
    const theirs = bob.directory.lookup('alice')
    ctl.abort()
    // The aborted caller gets nothing (or its abort); the other one its answer.
    expect(await mine.catch(() => undefined)).toBeUndefined()
    expect((await theirs)?.record.publicKey.length).toBe(32)
    expect(dhtGets).toBe(2)
  })
})

describe('SingleFlight', () => {
  it('shares a running answer and forgets it once settled, even on failure', async () => {
    const f = new SingleFlight<string, number>()
    let runs = 0
    const work = () => new Promise<number>((r) => setTimeout(() => r(++runs), 10))
    const [x, y] = await Promise.all([f.run('k', work), f.run('k', work)])
    expect([x, y, runs]).toEqual([1, 1, 1])
    expect(f.isRunning('k')).toBe(false)
    await expect(f.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await f.run('k', work)).toBe(2)
  })
})
