/**
 * The seq rule of issue 13: a lookup never prefers a lower `seq` over a higher
 * one it has already seen under the same account key, whether the stale copy
 * (a supernode restarted with old data) answers before or after the fresh one,
 * in the same read or in an earlier lookup.
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import {
  encodeContactRecord,
  signContactRecord,
  type ContactRecord,
} from '../../../src/shared/records/contact-record.js'
import { CLAIM_TTL_MS } from '../../../src/shared/records/record-policy.js'
import { quorumRead } from '../../../src/overlay/names/quorum-read.js'
import { LookupMemory, type Answer } from '../../../src/overlay/names/lookup-memory.js'

const NOW = Date.now()

async function rec(key: Ed25519PrivateKey, seq: number): Promise<Answer> {
  const record: ContactRecord = await signContactRecord(
    {
      v: 1,
      name: 'bob',
      publicKey: key.publicKey.raw,
      claimedAt: NOW,
      seq,
      issuedAt: NOW,
      expiresAt: NOW + CLAIM_TTL_MS,
      devices: [],
    },
    key,
  )
  return { record, bytes: encodeContactRecord(record) }
}

/** A DHT whose `get` answers with `answers` in order, one responder each. */
function fakeDht(answers: Answer[]): Pick<KadDHT, 'get'> & { asked: () => number } {
  let asked = 0
  return {
    asked: () => asked,
    get: async function* () {
      for (const [i, a] of answers.entries()) {
        asked++
        yield {
          name: 'PEER_RESPONSE',
          messageName: 'GET_VALUE',
          from: { toString: () => `peer-${i}` },
          record: { value: a.bytes },
        }
      }
    } as unknown as KadDHT['get'],
  }
}

const opts = { signal: AbortSignal.timeout(5000), early: true }
const init = { agree: 3, max: 6, settleMs: 1000 }

describe('quorum read: the seq rule', () => {
  it('stops early on three agreeing answers when nothing newer is known', async () => {
    const bob = await generateKeyPair('Ed25519')
    const old = await rec(bob, NOW)
    const fresh = await rec(bob, NOW + 1)
    const dht = fakeDht([old, old, old, fresh])
    const out = await quorumRead(dht, new Uint8Array(1), init, opts)
    expect(out.responders.map((r) => r.record.seq)).toEqual([NOW, NOW, NOW])
  })

  it('does not stop early on stale answers when a newer seq is already known', async () => {
    const bob = await generateKeyPair('Ed25519')
    const old = await rec(bob, NOW)
    const fresh = await rec(bob, NOW + 1)
    const dht = fakeDht([old, old, old, fresh])
    const out = await quorumRead(dht, new Uint8Array(1), init, { ...opts, known: fresh.record })
    expect(dht.asked()).toBe(4)
    expect(out.responders.map((r) => r.record.seq)).toContain(NOW + 1)
  })

  it("ignores a known record under another key (a rival's seq cannot stall reads)", async () => {
    const bob = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const old = await rec(bob, NOW)
    const rival = await rec(mallory, NOW + 1_000_000)
    const dht = fakeDht([old, old, old, old])
    const out = await quorumRead(dht, new Uint8Array(1), init, { ...opts, known: rival.record })
    expect(out.responders).toHaveLength(3)
  })
})

describe('lookup memory: the seq rule across lookups', () => {
  it('a stale answer after a fresh one is replaced by the fresh one', async () => {
    const bob = await generateKeyPair('Ed25519')
    const old = await rec(bob, NOW)
    const fresh = await rec(bob, NOW + 1)
    const m = new LookupMemory<Answer>({ cacheTtlMs: 30_000 })
    expect(m.remember('bob', fresh, NOW).record.seq).toBe(NOW + 1)
    const again = m.remember('bob', old, NOW)
    expect(again.record.seq).toBe(NOW + 1)
    expect(again.bytes).toEqual(fresh.bytes)
    expect(m.cached('bob', NOW)!.record.seq).toBe(NOW + 1)
  })

  it('a fresh answer after a stale one replaces it', async () => {
    const bob = await generateKeyPair('Ed25519')
    const old = await rec(bob, NOW)
    const fresh = await rec(bob, NOW + 1)
    const m = new LookupMemory<Answer>({ cacheTtlMs: 30_000 })
    m.remember('bob', old, NOW)
    expect(m.remember('bob', fresh, NOW).record.seq).toBe(NOW + 1)
    expect(m.known('bob')!.seq).toBe(NOW + 1)
  })

  it('invalidating drops the cached answer but keeps the newest seq seen', async () => {
    const bob = await generateKeyPair('Ed25519')
    const fresh = await rec(bob, NOW + 1)
    const m = new LookupMemory<Answer>({ cacheTtlMs: 30_000 })
    m.remember('bob', fresh, NOW)
    m.invalidate('bob')
    expect(m.cached('bob', NOW)).toBeUndefined()
    expect(m.known('bob')!.seq).toBe(NOW + 1)
    expect(m.cached('bob', NOW + 30_001)).toBeUndefined()
  })

  it('never upgrades across keys, and an expired newer record does not win', async () => {
    const bob = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const m = new LookupMemory<Answer>({ cacheTtlMs: 30_000 })
    m.remember('bob', await rec(mallory, NOW + 5), NOW)
    const bobs = await rec(bob, NOW)
    expect(m.remember('bob', bobs, NOW).record.seq).toBe(NOW)
    const fresh = await rec(bob, NOW + 1)
    m.saw('bob', fresh)
    const later = NOW + CLAIM_TTL_MS + 1
    expect(m.remember('bob', bobs, later).record.seq).toBe(NOW)
  })

  it('forgets the least recently seen name beyond its bound', async () => {
    const bob = await generateKeyPair('Ed25519')
    const m = new LookupMemory<Answer>({ cacheTtlMs: 30_000, maxNames: 2 })
    const a = await rec(bob, NOW)
    m.saw('a', a)
    m.saw('b', a)
    m.saw('c', a)
    expect(m.known('a')).toBeUndefined()
    expect(m.known('c')).toBeDefined()
  })
})
