/**
 * A real 20-node overlay on loopback (3 supernodes, 17 clients): claims and
 * lookups from every node, forged and rolled-back records refused by the
 * storing nodes, a supernode killed, restarts keeping identity and records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startNetwork, startTestNode, waitFor, dhtServers } from '../../helpers/nodes.js'
import type { TestNetwork } from '../../helpers/nodes.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { userRecordKey } from '../../../src/shared/records/dht-key.js'
import {
  encodeContactRecord,
  signContactRecord,
} from '../../../src/shared/records/contact-record.js'
import { readStoredRecord } from '../../../src/overlay/names/record-validator.js'
import { CLAIM_TTL_MS, CONTACT_TTL_MS } from '../../../src/shared/records/record-policy.js'

const SUPERNODES = 3
const CLIENTS = 17

let net: TestNetwork
const nameOf = (i: number): string => `user-${i}`

async function putRaw(from: KaiwaNode, name: string, bytes: Uint8Array): Promise<void> {
  // Drive the DHT directly, as a malicious node would, bypassing our directory.
  for await (const _ of from.libp2p().services.dht.put(userRecordKey(name), bytes, {
    signal: AbortSignal.timeout(10_000),
  })) {
    // drain
  }
}

async function storedSeq(node: KaiwaNode, name: string): Promise<number | undefined> {
  const rec = await readStoredRecord(node.datastore, userRecordKey(name))
  return rec?.record.seq
}

describe('a 20-node overlay with 3 supernodes', () => {
  beforeAll(async () => {
    net = await startNetwork(SUPERNODES, CLIENTS)
  }, 120_000)
  afterAll(async () => {
    await net?.stop()
  })

  it('lets every node claim a name', async () => {
    for (let i = 0; i < net.all.length; i++) {
      const res = await net.all[i]!.claim(nameOf(i))
      expect(res.stored).toBeGreaterThanOrEqual(1)
    }
  })

  it('resolves every name from every node', async () => {
    for (const [i, node] of net.all.entries()) {
      for (let j = 0; j < net.all.length; j++) {
        const found = await node.directory.lookup(nameOf(j), { fresh: j % 2 === 0 })
        expect(found, `node ${i} looking up ${nameOf(j)}`).toBeDefined()
        expect(found!.record.name).toBe(nameOf(j))
        expect(found!.record.devices[0]!.peerId).toEqual(
          net.all[j]!.libp2p().peerId.toMultihash().bytes,
        )
      }
    }
  })

  it('refuses a claim for a live name under another key (first come, first served)', async () => {
    const thief = net.clients[3]!
    await expect(thief.claim(nameOf(0))).rejects.toThrow(/already claimed/)
    // A forged record signed by another key, pushed straight into the DHT.
    const otherKey = await generateKeyPair('Ed25519')
    const now = Date.now()
    const forged = await signContactRecord(
      {
        v: 1,
        name: nameOf(0),
        publicKey: otherKey.publicKey.raw,
        claimedAt: now - 86_400_000,
        seq: now + 1_000_000,
        issuedAt: now,
        expiresAt: now + CLAIM_TTL_MS,
        devices: [
          {
            peerId: thief.libp2p().peerId.toMultihash().bytes,
            addrs: [],
            expiresAt: now + CONTACT_TTL_MS,
          },
        ],
      },
      otherKey,
    )
    await putRaw(thief, nameOf(0), encodeContactRecord(forged))
    for (const sn of net.supernodes) {
      const stored = await readStoredRecord(sn.datastore, userRecordKey(nameOf(0)))
      expect(stored?.record.publicKey).toEqual(net.all[0]!.identity.accountKey.publicKey.raw)
    }
    const found = await net.clients[5]!.directory.lookup(nameOf(0), { fresh: true })
    expect(found!.record.publicKey).toEqual(net.all[0]!.identity.accountKey.publicKey.raw)
  })

  it('refuses a rolled-back (older, validly signed) record', async () => {
    const owner = net.clients[1]!
    const name = nameOf(SUPERNODES + 1)
    const old = await owner.directory.lookup(name, { fresh: true })
    await owner.directory.publish(name)
    const newSeq = await storedSeq(net.supernodes[0]!, name)
    expect(newSeq).toBeGreaterThan(old!.record.seq)
    await putRaw(net.clients[7]!, name, old!.bytes)
    for (const sn of net.supernodes) expect(await storedSeq(sn, name)).toBe(newSeq)
  })

  it('refuses garbage, tampered and oversized records', async () => {
    const attacker = net.clients[8]!
    const target = nameOf(2)
    const before = await storedSeq(net.supernodes[0]!, target)
    const good = (await attacker.directory.lookup(target, { fresh: true }))!.bytes
    const tampered = good.slice()
    tampered[tampered.length - 70] = tampered[tampered.length - 70]! ^ 0xff
    for (const bad of [new Uint8Array([1, 2, 3]), tampered, new Uint8Array(8192).fill(0xa0)]) {
      await putRaw(attacker, target, bad)
    }
    for (const sn of net.supernodes) expect(await storedSeq(sn, target)).toBe(before)
  })

  it('keeps answering lookups after a supernode is killed', async () => {
    const victim = net.supernodes[1]!
    await victim.stop()
    net.all = net.all.filter((n) => n !== victim)
    for (const node of net.clients.slice(0, 6)) {
      for (let j = 0; j < 20; j += 3) {
        const found = await node.directory.lookup(nameOf(j), { fresh: true })
        expect(found?.record.name).toBe(nameOf(j))
      }
    }
  })

  it('keeps identity and records across a restart', async () => {
    const idx = SUPERNODES + 4 // its index when names were claimed
    const node = net.clients[4]!
    const dataDir = node.dataDir
    const peerId = node.peerId
    const account = node.identity.accountKey.publicKey.raw
    await node.stop()
    net.all = net.all.filter((n) => n !== node)
    const again = await startTestNode({
      dataDir,
      bootstrap: net.bootstrap.filter((_, i) => i !== 1),
    })
    net.all.push(again)
    expect(again.peerId).toBe(peerId)
    expect(again.identity.accountKey.publicKey.raw).toEqual(account)
    expect((await again.settings.get()).name).toBe(nameOf(idx))

    // A supernode restart: it answers for the records it stored from its own datastore.
    const sn = net.supernodes[2]!
    const snDir = sn.dataDir
    await sn.stop()
    net.all = net.all.filter((n) => n !== sn)
    const snAgain = await startTestNode({
      dataDir: snDir,
      supernode: 'on',
      bootstrap: [net.bootstrap[0]!],
    })
    net.all.push(snAgain)
    const held = await readStoredRecord(snAgain.datastore, userRecordKey(nameOf(9)))
    expect(held?.record.name).toBe(nameOf(9))
    await waitFor(() => dhtServers(again) >= 1, 10_000, 'restarted client to see a supernode')
    const found = await again.directory.lookup(nameOf(9), { fresh: true })
    expect(found?.record.name).toBe(nameOf(9))
  })
})
