/**
 * The sealed sync batch (issue 15 §3): a round trip between two devices of
 * one account, and every way a foreign or tampered batch is refused.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  InvalidSyncBatchError,
  MAX_SYNC_BATCH_BYTES,
  decodeSyncBatch,
  decodeSyncEvents,
  encodeSyncEvents,
  openSyncBatch,
  sealSyncBatch,
} from '../../../src/shared/sync/sync-wire.js'
import type { SyncEvent } from '../../../src/shared/sync/sync-wire.js'
import { chunkEvents } from '../../../src/overlay/sync/sync-outbox.js'

const from = new Uint8Array([0, 36, 8, 1, 18, 32, ...new Array(32).fill(1)])
const to = new Uint8Array([0, 36, 8, 1, 18, 32, ...new Array(32).fill(2)])
const events: SyncEvent[] = [
  {
    k: 'm',
    id: 'out:abc@kaiwa',
    d: 'out',
    p: 'sip:bob@kaiwa',
    fr: 'sip:alice@kaiwa',
    to: 'sip:bob@kaiwa',
    dt: '2026-12-03T04:00:00.000Z',
    ct: 'text/plain',
    tx: 'hello',
    st: 'delivered',
    cd: 200,
  },
  { k: 'r', p: 'bob', ids: ['in:xyz@kaiwa'] },
  { k: 'c', n: 'bob', fp: 'aaaa-bbbb-cccc-dddd', at: 5 },
  { k: 'd', p: '12D3KooWxyz', at: 6 },
]
const account = async (): Promise<Ed25519PrivateKey> => generateKeyPair('Ed25519')

describe('sync batches', () => {
  it('opens on another device of the same account, and only there', async () => {
    const alice = await account()
    const bytes = await sealSyncBatch({ accountKey: alice, from, to, events })
    const batch = decodeSyncBatch(bytes)
    expect(batch.f).toEqual(from)
    expect(batch.t).toEqual(to)
    expect(await openSyncBatch(batch, alice)).toEqual(events)
    // The ciphertext does not carry the text in the clear.
    expect(new TextDecoder().decode(bytes)).not.toContain('hello')
    await expect(openSyncBatch(batch, await account())).rejects.toThrow(/another account/)
  })

  it("refuses another account's batch relabelled with this account's key", async () => {
    const alice = await account()
    const mallory = await account()
    const forged = decode(await sealSyncBatch({ accountKey: mallory, from, to, events })) as Record<
      string,
      unknown
    >
    forged.a = alice.publicKey.raw
    const batch = decodeSyncBatch(encode(forged))
    await expect(openSyncBatch(batch, alice)).rejects.toThrow(InvalidSyncBatchError)
    await expect(openSyncBatch(batch, alice)).rejects.toThrow(/signature/)
  })

  it('refuses a retargeted, tampered or malformed batch', async () => {
    const alice = await account()
    const good = decode(await sealSyncBatch({ accountKey: alice, from, to, events })) as Record<
      string,
      unknown
    >
    const retargeted = { ...good, t: from }
    await expect(openSyncBatch(decodeSyncBatch(encode(retargeted)), alice)).rejects.toThrow(
      /signature/,
    )
    const c = new Uint8Array(good.c as Uint8Array)
    c[0]! ^= 1
    await expect(openSyncBatch(decodeSyncBatch(encode({ ...good, c })), alice)).rejects.toThrow(
      InvalidSyncBatchError,
    )
    expect(() => decodeSyncBatch(encode({ ...good, x: 1 }))).toThrow(/unexpected fields/)
    expect(() => decodeSyncBatch(encode({ ...good, v: 2 }))).toThrow(/bad field/)
    expect(() => decodeSyncBatch(new Uint8Array([0xff, 0x00]))).toThrow(InvalidSyncBatchError)
    expect(() => decodeSyncBatch(new Uint8Array(MAX_SYNC_BATCH_BYTES + 1))).toThrow(/too large/)
  })

  it('refuses events outside the schema even when properly sealed', async () => {
    const alice = await account()
    const bad = [{ k: 'm', id: 'x', d: 'sideways' }] as unknown as SyncEvent[]
    await expect(sealSyncBatch({ accountKey: alice, from, to, events: bad })).rejects.toThrow()
  })

  it('splits a large history into batches that each fit in one mail', async () => {
    const alice = await account()
    const many: SyncEvent[] = Array.from({ length: 300 }, (_, i) => ({
      ...(events[0] as Extract<SyncEvent, { k: 'm' }>),
      id: `out:${i}`,
      tx: 'x'.repeat(500),
    }))
    const chunks = chunkEvents(many)
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.flat()).toHaveLength(300)
    for (const chunk of chunks) {
      const bytes = await sealSyncBatch({ accountKey: alice, from, to, events: chunk })
      expect(bytes.byteLength).toBeLessThanOrEqual(MAX_SYNC_BATCH_BYTES)
    }
    expect(chunkEvents([])).toEqual([[]])
  })

  it('carries group logs (raw entries), group messages and group read marks', async () => {
    const alice = await account()
    const gid = 'ab'.repeat(16)
    const group: SyncEvent[] = [
      { k: 'g', g: gid, e: [new Uint8Array(4000).fill(7), new Uint8Array([1, 2, 3])] },
      {
        k: 'gm',
        g: gid,
        id: 'cd'.repeat(16),
        d: 'out',
        sn: 'alice',
        fp: 'aaaa-bbbb',
        sq: 3,
        l: 9,
        sa: '2026-12-03T04:00:00.000Z',
        tx: 'to the group',
        v: 'sent',
        dl: ['bob'],
        st: ['carol'],
        fl: [],
      },
      { k: 'gr', g: gid, r: '000000000000009 alice 000000000000003' },
    ]
    const bytes = await sealSyncBatch({ accountKey: alice, from, to, events: group })
    expect(await openSyncBatch(decodeSyncBatch(bytes), alice)).toEqual(group)
    // What the outbox stores is the same canonical CBOR, checked again when read back.
    expect(decodeSyncEvents(encodeSyncEvents(group))).toEqual(group)
    expect(() => decodeSyncEvents(encode({ e: [{ k: 'g', g: gid, e: ['text'] }] }))).toThrow(
      InvalidSyncBatchError,
    )
    expect(() =>
      encodeSyncEvents([{ k: 'g', g: 'not-hex', e: [new Uint8Array(1)] }] as SyncEvent[]),
    ).toThrow()
    // An entry over group-log.ts's 4096-byte bound is refused.
    expect(() =>
      encodeSyncEvents([{ k: 'g', g: gid, e: [new Uint8Array(4097)] }] as SyncEvent[]),
    ).toThrow()
    // Group events never share a batch with the others: a device from before group
    // sync refuses the whole batch, and must still take the messages.
    const mixed = chunkEvents([events[0]!, group[1]!, group[2]!, events[2]!])
    expect(mixed.map((c) => c.map((e) => e.k))).toEqual([['m'], ['gm', 'gr'], ['c']])
  })
})
