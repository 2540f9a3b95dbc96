/**
 * LAN-only names (issue 13 §3): what a node's LAN table admits from its LAN
 * peers, which links count as LAN links, and what happens when a LAN that
 * claimed names on its own later reaches the real network: the overlay's
 * records win, a LAN claim of a name held there is refused when it is
 * republished, and a LAN claim of a free name moves to the overlay.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import {
  encodeContactRecord,
  signContactRecord,
} from '../../../src/shared/records/contact-record.js'
import { mintClaimStamp } from '../../../src/shared/records/claim-pow.js'
import { CLAIM_TTL_MS, CONTACT_TTL_MS } from '../../../src/shared/records/record-policy.js'
import { NameTakenError, StaleRecordError } from '../../../src/shared/errors.js'
import { LanNameTable, NotOwnRecordError } from '../../../src/overlay/names/lan-name-table.js'
import {
  isLanConnection,
  LAN_NAMES_PROTOCOL,
} from '../../../src/overlay/names/lan-names-protocol.js'
import { requestCborRpc } from '../../../src/overlay/rpc/cbor-rpc.js'
import { lanPeerCount } from '../../../src/overlay/names/lan-scope.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startTestNode, TEST_CLAIM_POW_BITS, waitFor } from '../../helpers/nodes.js'

const BITS = TEST_CLAIM_POW_BITS

async function claimBytes(
  key: Ed25519PrivateKey,
  name: string,
  device: PeerId,
  seq = Date.now(),
): Promise<Uint8Array> {
  const now = Date.now()
  const record = await signContactRecord(
    {
      v: 2,
      name,
      publicKey: key.publicKey.raw,
      claimedAt: now,
      seq,
      issuedAt: now,
      expiresAt: now + CLAIM_TTL_MS,
      devices: [{ peerId: device.toMultihash().bytes, addrs: [], expiresAt: now + CONTACT_TTL_MS }],
      stamp: await mintClaimStamp(name, key.publicKey.raw, BITS),
    },
    key,
  )
  return encodeContactRecord(record)
}

describe('the LAN name table', () => {
  it('admits a peer’s own claim first come, and refuses the rest', async () => {
    const table = new LanNameTable({ datastore: new MemoryDatastore(), powBits: BITS })
    const alice = await generateKeyPair('Ed25519')
    const mallory = await generateKeyPair('Ed25519')
    const aliceDevice = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const malloryDevice = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const first = await claimBytes(alice, 'alice', aliceDevice, 1000)
    // Only the device the record lists may store it: no replaying others' claims.
    await expect(table.admit(first, malloryDevice.toString())).rejects.toThrow(NotOwnRecordError)
    await table.admit(first, aliceDevice.toString())
    expect((await table.get('alice'))?.record.seq).toBe(1000)
    // Another key, even a validly stamped and signed claim, is refused while alice's lives.
    const hijack = await claimBytes(mallory, 'alice', malloryDevice)
    await expect(table.admit(hijack, malloryDevice.toString())).rejects.toThrow(NameTakenError)
    // A replay of an older claim under alice's own key cannot roll hers back.
    const newer = await claimBytes(alice, 'alice', aliceDevice, 2000)
    await table.admit(newer, aliceDevice.toString())
    await expect(table.admit(first, aliceDevice.toString())).rejects.toThrow(StaleRecordError)
    // A stamp below the table's difficulty is refused.
    const strict = new LanNameTable({ datastore: new MemoryDatastore(), powBits: BITS + 8 })
    await expect(strict.admit(newer, aliceDevice.toString())).rejects.toThrow(/proof-of-work/)
  })

  it('counts only direct links from private, loopback or link-local addresses as LAN links', () => {
    const conn = (addr: string, limited = false) => ({
      remoteAddr: multiaddr(addr),
      limits: limited ? { bytes: 1n } : undefined,
    })
    expect(isLanConnection(conn('/ip4/10.1.2.3/tcp/4001'))).toBe(true)
    expect(isLanConnection(conn('/ip4/192.168.1.9/tcp/4001'))).toBe(true)
    expect(isLanConnection(conn('/ip4/127.0.0.1/tcp/4001'))).toBe(true)
    expect(isLanConnection(conn('/ip6/fe80::1/tcp/4001'))).toBe(true)
    expect(isLanConnection(conn('/ip4/8.8.8.8/tcp/4001'))).toBe(false)
    expect(isLanConnection(conn('/ip6/2606:4700::1111/tcp/4001'))).toBe(false)
    // A relayed link is never a LAN link, whatever the relay's address.
    const relay = '/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    expect(isLanConnection(conn(`${relay}/p2p-circuit`))).toBe(false)
    expect(isLanConnection(conn('/ip4/10.1.2.3/tcp/4001', true))).toBe(false)
  })
})

describe('/kaiwa/lan-names against a hostile LAN peer', () => {
  const nodes: KaiwaNode[] = []
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('refuses garbage, other peers’ records and bad names, and stores nothing', async () => {
    const victim = await startTestNode()
    const hostile = await startTestNode()
    nodes.push(victim, hostile)
    await hostile.libp2p().dial(victim.addrs()[0]!)
    const ask = (req: Record<string, unknown>) =>
      requestCborRpc(hostile.libp2p(), victim.libp2p().peerId, req, {
        protocol: LAN_NAMES_PROTOCOL,
        maxMessageBytes: 8192,
      })
    expect(await ask({ v: 1, put: new Uint8Array([1, 2, 3]) })).toMatchObject({
      ok: false,
      code: 'refused',
    })
    // A validly signed and stamped claim that lists another device: a replay.
    const someone = await generateKeyPair('Ed25519')
    const device = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const replay = await ask({ v: 1, put: await claimBytes(someone, 'carol', device) })
    expect(replay).toMatchObject({ ok: false, code: 'refused' })
    expect(String(replay.reason)).toContain('only store its own record')
    expect(await ask({ v: 1, get: '../../etc/passwd' })).toEqual({})
    expect(await ask({ v: 1, get: 'carol' })).toEqual({})
    expect(await ask({ v: 1, what: 'else' })).toMatchObject({ ok: false, code: 'refused' })
  }, 60_000)
})

describe('a LAN-only network that later reaches the real network', () => {
  const nodes: KaiwaNode[] = []
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  })
  const start = async (opts: Parameters<typeof startTestNode>[0] = {}) => {
    const n = await startTestNode(opts)
    nodes.push(n)
    return n
  }
  const dial = (from: KaiwaNode, to: KaiwaNode) => from.libp2p().dial(to.addrs()[0]!)

  it('uses the overlay’s records, never its LAN claims, once a supernode is reachable', async () => {
    // Two clients on one LAN (loopback), no supernode: names are the LAN's.
    const a = await start()
    const b = await start()
    await dial(a, b)
    await waitFor(
      () => lanPeerCount(a.libp2p()) === 1 && lanPeerCount(b.libp2p()) === 1,
      10_000,
      'a and b to see each other as LAN peers',
    )
    // LAN-only claims: of a name nobody holds, and of a name the real network
    // has (last, so a's refresh loop republishes that one).
    await a.claim('lan-only-name')
    await a.claim('bob')
    const onLan = await b.directory.lookup('bob', { fresh: true })
    expect(onLan?.scope).toBe('lan')
    expect(onLan?.record.publicKey).toEqual(a.identity.accountKey.publicKey.raw)
    expect((await b.directory.lookup('bob'))?.scope).toBe('lan') // and cached as such

    // The real network: a supernode, and the real bob on it.
    const sn = await start({ supernode: 'on' })
    const bootstrap = [sn.addrs()[0]!.toString()]
    const bob = await start({ bootstrap, name: 'bob' })
    // The LAN gets its route: both clients reach the supernode.
    await dial(b, sn)
    await dial(a, sn)
    await waitFor(() => b.supernodes.connected().length > 0, 15_000, 'b to reach the supernode')
    await waitFor(() => a.supernodes.connected().length > 0, 15_000, 'a to reach the supernode')

    // The cached LAN answer is not served any more, and the overlay's record wins.
    const cached = await b.directory.lookup('bob')
    expect(cached?.scope).toBeUndefined()
    expect(cached?.record.publicKey).toEqual(bob.identity.accountKey.publicKey.raw)
    const fresh = await b.directory.lookup('bob', { fresh: true })
    expect(fresh?.record.publicKey).toEqual(bob.identity.accountKey.publicKey.raw)
    expect(fresh?.conflict).toBeUndefined()

    // a's LAN claim of "bob" is judged again by the overlay, and refused there.
    await expect(a.directory.publish('bob')).rejects.toThrow(NameTakenError)
    // Its LAN claim of a free name moves to the overlay, where everyone finds it.
    await a.directory.publish('lan-only-name')
    const moved = await bob.directory.lookup('lan-only-name', { fresh: true })
    expect(moved?.scope).toBeUndefined()
    expect(moved?.record.publicKey).toEqual(a.identity.accountKey.publicKey.raw)
  }, 120_000)
})
