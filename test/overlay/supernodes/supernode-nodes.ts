/**
 * Real libp2p nodes for the one-hop tests: TCP on 127.0.0.1, Noise, yamux,
 * identify, Kaiwa's DHT protocol with the real record validator and selector,
 * the supernode tracker and a UserDirectory wired to one-hop lookups as the
 * composition root wires them. Supernodes get exactly the production one-hop
 * services (src/main/one-hop-services.ts: gossipsub, the table, one-hop),
 * with test timings; clients get none of them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ed25519PrivateKey, Libp2p } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { oneHopServices } from '../../../src/main/one-hop-services.js'
import { userRecordValidators } from '../../../src/overlay/names/record-validator.js'
import { UserDirectory } from '../../../src/overlay/names/user-directory.js'
import type { KaiwaLibp2p } from '../../../src/overlay/node/libp2p-factory.js'
import { KAIWA_DHT_PROTOCOL } from '../../../src/overlay/node/protocols.js'
import { supernodeTracker } from '../../../src/overlay/node/supernode-tracker.js'
import type { SupernodeTracker } from '../../../src/overlay/node/supernode-tracker.js'
import { oneHopLookup } from '../../../src/overlay/supernodes/one-hop-client.js'
import type { OneHopService } from '../../../src/overlay/supernodes/one-hop-service.js'
import type {
  SupernodeTable,
  SupernodeTableInit,
} from '../../../src/overlay/supernodes/supernode-table.js'
import { loopbackLibp2p, recordDht } from '../../helpers/loopback-libp2p.js'
import { testLog } from '../rpc/plain-libp2p.js'

export const TEST_POW_BITS = 8

export interface OneHopTestServices {
  [name: string]: unknown
  dht: KadDHT
  supernodes: SupernodeTracker
  pubsub?: GossipSub
  supernodeTable?: SupernodeTable
  oneHop?: OneHopService
}

export interface TestPeer {
  libp2p: Libp2p<OneHopTestServices>
  directory: UserDirectory
  accountKey: Ed25519PrivateKey
  addr(): string
  table(): SupernodeTable
  stop(): Promise<void>
}

/** Timings short enough for a test, long enough for a loaded 2-core host. */
export const FAST_TABLE: Omit<SupernodeTableInit, 'log'> = {
  announceIntervalMs: 60_000,
  maintainIntervalMs: 300,
  unknownPeerMs: 1_000,
  aloneAfterMs: 300,
}

export async function startPeer(opts: {
  supernode: boolean
  table?: Omit<SupernodeTableInit, 'log'>
}): Promise<TestPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'ho4-onehop-'))
  const datastore = new LevelDatastore(dir)
  await datastore.open()
  const records = userRecordValidators({ datastore, powBits: TEST_POW_BITS })
  const extra = opts.supernode
    ? await oneHopServices({
        datastore,
        powBits: TEST_POW_BITS,
        table: opts.table ?? FAST_TABLE,
        log: testLog,
      })
    : {}
  const libp2p = (await createLibp2p({
    datastore,
    ...loopbackLibp2p(),
    services: {
      identify: identify(),
      ping: ping(),
      dht: recordDht({ protocol: KAIWA_DHT_PROTOCOL, server: opts.supernode, records }),
      supernodes: supernodeTracker(),
      ...extra,
    } as never,
  })) as unknown as Libp2p<OneHopTestServices>
  const accountKey = (await generateKeyPair('Ed25519')) as Ed25519PrivateKey
  const directory = new UserDirectory({
    node: () => libp2p as unknown as KaiwaLibp2p,
    datastore,
    accountKey,
    powBits: TEST_POW_BITS,
    oneHop: oneHopLookup(() => libp2p),
  })
  return {
    libp2p,
    directory,
    accountKey,
    addr: () => libp2p.getMultiaddrs()[0]!.toString(),
    table: () => libp2p.services.supernodeTable!,
    stop: async () => {
      await libp2p.stop()
      await datastore.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export async function dial(from: TestPeer, to: TestPeer): Promise<void> {
  await from.libp2p.dial(to.libp2p.getMultiaddrs()[0]!)
}

export function memberIds(p: TestPeer): string[] {
  return p
    .table()
    .members()
    .map((e) => e.id)
    .sort()
}
