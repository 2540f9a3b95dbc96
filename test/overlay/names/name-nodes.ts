/**
 * Small real libp2p nodes for the name tests: TCP on 127.0.0.1, Noise, yamux,
 * identify and kad-dht wired exactly as the overlay wires records (our
 * validator, selector and first-seen ledger), plus a UserDirectory. Lighter
 * than a whole Kaiwa node, and each test chooses the storing node's checks
 * (neighbour query on or off, PoW difficulty) itself.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ed25519PrivateKey, Libp2p } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { userRecordValidators } from '../../../src/overlay/names/record-validator.js'
import type { NameLedger } from '../../../src/overlay/names/name-ledger.js'
import { dhtNeighbourQuery } from '../../../src/overlay/names/neighbour-query.js'
import type { QuorumReadInit } from '../../../src/overlay/names/quorum-read.js'
import { UserDirectory } from '../../../src/overlay/names/user-directory.js'
import type { KaiwaLibp2p } from '../../../src/overlay/node/libp2p-factory.js'
import { loopbackLibp2p, recordDht } from '../../helpers/loopback-libp2p.js'
import { waitFor } from '../../helpers/nodes.js'

/** Low difficulty so tests mint stamps in milliseconds; the storing nodes demand the same. */
export const TEST_POW_BITS = 8
const PROTOCOL = '/kaiwa-names-test/kad/1.0.0'

export interface NameNode {
  libp2p: Libp2p<{ dht: KadDHT }>
  datastore: LevelDatastore
  directory: UserDirectory
  ledger: NameLedger
  accountKey: Ed25519PrivateKey
  refused: Array<{ name: string; reason: string }>
  addr(): string
  stop(): Promise<void>
}

export interface NameNodeOptions {
  server: boolean
  /** First-claim neighbour check on this storing node. */
  neighbourCheck?: boolean
  quorum?: QuorumReadInit
  /** Claim difficulty this storing node demands (default TEST_POW_BITS). */
  powBits?: number
  /** The directory's clock (tests that need a cached answer to age). */
  now?: () => number
}

export async function startNameNode(opts: NameNodeOptions): Promise<NameNode> {
  const dir = await mkdtemp(join(tmpdir(), 'h8-names-'))
  const datastore = new LevelDatastore(dir)
  await datastore.open()
  const refused: NameNode['refused'] = []
  // The validator is built before the node it asks through (as in the overlay).
  const holder: { node?: Libp2p<{ dht: KadDHT }> } = {}
  const records = userRecordValidators({
    datastore,
    powBits: opts.powBits ?? TEST_POW_BITS,
    onRefused: (name, reason) => refused.push({ name, reason }),
    ...(opts.neighbourCheck === true
      ? { neighbours: dhtNeighbourQuery(() => holder.node as unknown as KaiwaLibp2p) }
      : {}),
  })
  const libp2p = await createLibp2p({
    datastore,
    ...loopbackLibp2p(),
    services: {
      identify: identify(),
      ping: ping(),
      dht: recordDht({ protocol: PROTOCOL, server: opts.server, records }),
    },
  })
  holder.node = libp2p
  const accountKey = (await generateKeyPair('Ed25519')) as Ed25519PrivateKey
  const directory = new UserDirectory({
    node: () => libp2p as unknown as KaiwaLibp2p,
    datastore,
    accountKey,
    powBits: TEST_POW_BITS,
    ...(opts.quorum ? { quorum: opts.quorum } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  })
  return {
    libp2p,
    datastore,
    directory,
    ledger: records.ledger,
    accountKey,
    refused,
    addr: () => libp2p.getMultiaddrs()[0]!.toString(),
    stop: async () => {
      await libp2p.stop()
      await datastore.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export function routingTableSize(n: NameNode): number {
  return (n.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
}

/** Dial every node in `to` from `from` and wait until `from` has them all as DHT servers. */
export async function connect(from: NameNode, to: NameNode[]): Promise<void> {
  const servers = to.filter((n) => n !== from)
  await Promise.all(servers.map((n) => from.libp2p.dial(n.libp2p.getMultiaddrs()[0]!)))
  await waitFor(
    () => routingTableSize(from) >= servers.length,
    10_000,
    'DHT servers in the routing table',
  )
}
