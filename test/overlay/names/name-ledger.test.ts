import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { NameLedger } from '../../../src/overlay/names/name-ledger.js'
import type { ContactRecord } from '../../../src/shared/records/contact-record.js'

const NOW = 1_700_000_000_000
const keyA = new Uint8Array(32).fill(1)
const keyB = new Uint8Array(32).fill(2)

function claim(publicKey: Uint8Array, expiresAt: number, name = 'alice'): ContactRecord {
  return {
    v: 2,
    name,
    publicKey,
    claimedAt: 1,
    seq: 1,
    issuedAt: NOW,
    expiresAt,
    devices: [],
    stamp: new Uint8Array(8),
    signature: new Uint8Array(64),
  }
}

describe('NameLedger', () => {
  let dir: string
  let ds: LevelDatastore
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h8-ledger-'))
    ds = new LevelDatastore(dir)
    await ds.open()
  })
  afterEach(async () => {
    await ds.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps the first key seen, ignores later keys, and survives a restart', async () => {
    const ledger = new NameLedger({ datastore: ds })
    await ledger.observe(claim(keyA, NOW + 1000), NOW)
    await ledger.observe(claim(keyB, NOW + 9000), NOW + 10)
    expect(await ledger.holder('alice', NOW + 20)).toEqual(keyA)
    expect(ledger.peekHolder('alice', NOW + 20)).toEqual(keyA)
    // a refresh by the holder extends the claim
    await ledger.observe(claim(keyA, NOW + 5000), NOW + 30)
    const again = new NameLedger({ datastore: ds })
    const e = await again.get('alice')
    expect(e).toEqual({ publicKey: keyA, firstSeenAt: NOW, until: NOW + 5000 })
  })

  it('frees a name when its claim lapses', async () => {
    const ledger = new NameLedger({ datastore: ds })
    await ledger.observe(claim(keyA, NOW + 1000), NOW)
    expect(await ledger.holder('alice', NOW + 1000)).toBeUndefined()
    await ledger.observe(claim(keyB, NOW + 9000), NOW + 2000)
    expect(await ledger.holder('alice', NOW + 2001)).toEqual(keyB)
    expect((await ledger.get('alice'))?.firstSeenAt).toBe(NOW + 2000)
  })

  it('falls back to what the node already stores, and treats corrupt entries as absent', async () => {
    const ledger = new NameLedger({
      datastore: ds,
      fallback: async (name) =>
        name === 'bob' ? { publicKey: keyB, expiresAt: NOW + 1000 } : undefined,
    })
    expect(await ledger.holder('bob', NOW)).toEqual(keyB)
    expect(ledger.peek('carol')).toBeUndefined()
    await ds.put(new Key('/kaiwa/names/first-seen/carol'), new Uint8Array([0xff, 0x00]))
    expect(await ledger.get('carol')).toBeUndefined()
  })

  it('bounds its memory', async () => {
    const ledger = new NameLedger({ datastore: ds, cacheSize: 2 })
    for (const n of ['aaa', 'bbb', 'ccc']) await ledger.observe(claim(keyA, NOW + 1000, n), NOW)
    expect(ledger.peek('aaa')).toBeUndefined()
    expect(ledger.peek('ccc')?.publicKey).toEqual(keyA)
    expect(await ledger.holder('aaa', NOW)).toEqual(keyA) // still on disk
  })
})
