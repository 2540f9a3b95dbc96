/**
 * A hostile raw-libp2p peer on the supernode topic (its own gossipsub, StrictSign,
 * no Kaiwa code) publishes forged, relayed, backdated, future, replayed,
 * oversized and garbled membership events to supernode A, which is connected
 * to supernode B. A must refuse each one with the rule it broke, gossipsub
 * must not forward any of them (B sees none), and the one honest event the
 * hostile peer sends (its own join) must still reach B: the path works.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, StrictSign } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  decodeMembershipEvent,
  signMembershipEvent,
} from '../../../src/shared/supernodes/membership-event.js'
import { peerKey } from '../../../src/shared/supernodes/member-table.js'
import { pullTable } from '../../../src/overlay/supernodes/table-sync.js'
import { SUPERNODE_TOPIC } from '../../../src/overlay/supernodes/supernode-table.js'
import { waitFor } from '../../helpers/nodes.js'
import { dial, FAST_TABLE, memberIds, startPeer } from './supernode-nodes.js'
import type { TestPeer } from './supernode-nodes.js'

const peers: TestPeer[] = []
let hostile: Awaited<ReturnType<typeof startHostile>> | undefined
afterEach(async () => {
  await hostile?.stop()
  hostile = undefined
  await Promise.allSettled(peers.splice(0).map((p) => p.stop()))
})

const HOUR = 3_600_000

/** A raw libp2p peer with stock gossipsub and no Kaiwa code: it publishes whatever it likes. */
async function startHostile(key: PrivateKey) {
  return createLibp2p({
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        allowPublishToZeroTopicPeers: true,
        fallbackToFloodsub: false,
      }),
    },
  })
}
const addr = multiaddr('/ip4/127.0.0.1/tcp/9').bytes

describe('hostile peer on the supernode topic', () => {
  it('refuses forged, relayed, backdated, future, replayed, oversized and garbled joins, and none spreads', async () => {
    // minPeers 1: A and B never dial each other's way around the chain H — A — B.
    const table = { ...FAST_TABLE, minPeers: 1 }
    const a = await startPeer({ supernode: true, table })
    const b = await startPeer({ supernode: true, table })
    peers.push(a, b)
    await dial(b, a)
    await waitFor(() => memberIds(a).length === 2 && memberIds(b).length === 2, 30_000, 'A and B')

    const key: PrivateKey = await generateKeyPair('Ed25519')
    hostile = await startHostile(key)
    const me = peerIdFromPrivateKey(key).toMultihash().bytes
    hostile.services.pubsub.subscribe(SUPERNODE_TOPIC)
    await hostile.dial(multiaddr(a.addr()))
    await waitFor(
      () => hostile!.services.pubsub.getSubscribers(SUPERNODE_TOPIC).length === 1,
      15_000,
      'the hostile peer to see A on the topic',
    )
    const publish = (bytes: Uint8Array) => hostile!.services.pubsub.publish(SUPERNODE_TOPIC, bytes)
    const now = Date.now()

    // 1. A join naming a victim, signed with the hostile key.
    const victim = await generateKeyPair('Ed25519')
    const victimId = peerIdFromPrivateKey(victim).toMultihash().bytes
    const forged = await signMembershipEvent(
      { kind: 'join', peer: victimId, addrs: [addr], issuedAt: now, seq: now },
      key,
    )
    await publish(forged.bytes)
    // 2. B's genuine join, taken from A's table over the real sync protocol and relayed as its own.
    const snapshot: Uint8Array[] = []
    await pullTable(hostile, a.libp2p.peerId, async (bytes) => {
      snapshot.push(bytes)
      return (await decodeMembershipEvent(bytes)).peer
    })
    const bId = b.libp2p.peerId.toString()
    let bJoin: Uint8Array | undefined
    for (const bytes of snapshot) {
      const e = await decodeMembershipEvent(bytes)
      if (e.kind === 'join' && peerKey(e.peer) === bId) bJoin = bytes
    }
    expect(bJoin).toBeDefined()
    await publish(bJoin!)
    // 3. Its own join, backdated by three hours; 4. one dated an hour ahead.
    await publish(
      (
        await signMembershipEvent(
          { kind: 'join', peer: me, addrs: [addr], issuedAt: now - 3 * HOUR, seq: 1 },
          key,
        )
      ).bytes,
    )
    await publish(
      (
        await signMembershipEvent(
          { kind: 'join', peer: me, addrs: [addr], issuedAt: now + HOUR, seq: 2 },
          key,
        )
      ).bytes,
    )
    // 5. An honest join of its own (the control: this one must spread) ...
    await publish(
      (
        await signMembershipEvent(
          { kind: 'join', peer: me, addrs: [addr], issuedAt: now, seq: now + 100 },
          key,
        )
      ).bytes,
    )
    await waitFor(
      () => memberIds(b).includes(hostile!.peerId.toString()),
      15_000,
      'the honest join to reach B through A',
    )
    // 6. ... then an older one of its own, from five minutes before (a replay; still within the TTL).
    await publish(
      (
        await signMembershipEvent(
          { kind: 'join', peer: me, addrs: [], issuedAt: now - 5 * 60_000, seq: now + 50 },
          key,
        )
      ).bytes,
    )
    // 7. 2 KiB of data; 8. garbage.
    await publish(new Uint8Array(2048).fill(7))
    await publish(new Uint8Array([0xa1, 0x61, 0x76, 0xff]))

    await waitFor(
      () => Object.values(a.table().stats().refused).reduce((x, y) => x + y, 0) >= 7,
      15_000,
      'A to refuse seven events',
    )
    expect(a.table().stats().refused).toEqual({
      'bad-signature': 1,
      impostor: 1,
      stale: 1,
      future: 1,
      replayed: 1,
      'too-large': 1,
      malformed: 1,
    })
    // Give gossip time to have forwarded anything it was going to.
    await new Promise((r) => setTimeout(r, 2_000))
    expect(b.table().stats().refused).toEqual({})
    const victimString = peerIdFromPrivateKey(victim).toString()
    for (const p of [a, b]) {
      expect(memberIds(p)).not.toContain(victimString)
      // The replay did not roll the hostile peer's entry back.
      const entry = p
        .table()
        .members()
        .find((m) => m.id === hostile!.peerId.toString())
      expect(entry?.event.seq).toBe(now + 100)
    }
  }, 90_000)
})
