/**
 * Starts real Kaiwa nodes in this process on loopback for multi-node tests.
 * mDNS and UPnP are off: tests may only send traffic to loopback.
 */
import { createSocket } from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKaiwaNode } from '../../src/main/kaiwa-node.js'
import type { KaiwaNode } from '../../src/main/kaiwa-node.js'
import type { SipGatewayTuning } from '../../src/overlay/sip/gateway/sip-gateway.js'
import { createStderrLogger } from '../../src/main/logger.js'
import type { SupernodeMode } from '../../src/shared/api/contract.js'
import type { LogLevel } from '../../src/shared/logger.js'

/** Claim proof-of-work for in-process test networks (the product's default is 20 bits). */
export const TEST_CLAIM_POW_BITS = 8

export const LOG_LEVEL = (process.env.KAIWA_TEST_LOG ?? 'silent') as LogLevel

export async function tempDir(prefix = 'kaiwa-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export interface TestNodeOptions {
  /** STUN/TURN on this (super)node, bound to 127.0.0.1. */
  turnPort?: number
  dataDir?: string
  supernode?: SupernodeMode
  bootstrap?: string[]
  name?: string
  listen?: string[]
  /** The local SIP gateway; off (0) unless a test asks, so tests never fight over 5060. */
  sipPort?: number
  sipPassword?: string
  sipTuning?: Partial<SipGatewayTuning>
  /** Claim proof-of-work bits; the network's nodes must agree (a `kaiwa node` uses the default). */
  claimPowBits?: number
}

export async function startTestNode(opts: TestNodeOptions = {}): Promise<KaiwaNode> {
  return startKaiwaNode({
    dataDir: opts.dataDir ?? (await tempDir()),
    listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: opts.bootstrap ?? [],
    supernode: opts.supernode ?? 'off',
    mdns: false,
    upnp: false,
    name: opts.name,
    sipPort: opts.sipPort ?? 0,
    ...(opts.sipPassword != null ? { sipPassword: opts.sipPassword } : {}),
    ...(opts.sipTuning != null ? { sipTuning: opts.sipTuning } : {}),
    ...(opts.turnPort != null ? { turnPort: opts.turnPort, turnHost: '127.0.0.1' } : {}),
    // Cheap claim stamps: multi-node tests claim dozens of names.
    claimPowBits: opts.claimPowBits ?? TEST_CLAIM_POW_BITS,
    log: createStderrLogger(LOG_LEVEL, 'test-node'),
  })
}

/** A port free on 127.0.0.1 for both TCP and UDP right now (for a gateway or a sipp UA). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4')
      s.once('error', () => resolve(false))
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (udpFree) return port
  }
}

/** A client bootstrapped to `supernode`, returned once the supernode is in its DHT routing table. */
export async function startClient(
  supernode: KaiwaNode,
  opts: TestNodeOptions = {},
): Promise<KaiwaNode> {
  const n = await startTestNode({ bootstrap: [tcpAddr(supernode)], ...opts })
  await waitFor(() => dhtServers(n) > 0, 10_000, 'a client to see its supernode')
  return n
}

/** A dialable TCP address of `node` (with /p2p/), for bootstrapping others. */
export function tcpAddr(node: KaiwaNode): string {
  const a = node
    .addrs()
    .find((m) => m.toString().includes('/tcp/') && !m.toString().includes('/p2p-circuit'))
  if (a == null) throw new Error(`node ${node.peerId} has no TCP address`)
  return a.toString()
}

export interface TestNetwork {
  supernodes: KaiwaNode[]
  clients: KaiwaNode[]
  all: KaiwaNode[]
  bootstrap: string[]
  stop(): Promise<void>
}

/**
 * `supernodes` DHT servers (the first founds the network, the rest join it) and
 * `clients` client nodes bootstrapped to all supernodes.
 */
export async function startNetwork(supernodes: number, clients: number): Promise<TestNetwork> {
  const sns: KaiwaNode[] = [await startTestNode({ supernode: 'on' })]
  for (let i = 1; i < supernodes; i++) {
    sns.push(await startTestNode({ supernode: 'on', bootstrap: [tcpAddr(sns[0]!)] }))
  }
  const bootstrap = sns.map(tcpAddr)
  const cls: KaiwaNode[] = []
  // Start clients a few at a time: enough parallelism to be quick on two cores.
  for (let i = 0; i < clients; i += 5) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(5, clients - i) }, () =>
        startTestNode({ supernode: 'off', bootstrap }),
      ),
    )
    cls.push(...batch)
  }
  const all = [...sns, ...cls]
  await waitFor(
    async () => {
      for (const n of all) if (dhtServers(n) < Math.min(supernodes, 1)) return false
      return true
    },
    20_000,
    'every node to see a supernode in its DHT routing table',
  )
  const net: TestNetwork = {
    supernodes: sns,
    clients: cls,
    all,
    bootstrap,
    // Stops whatever `all` holds by then (tests swap restarted nodes in).
    stop: async () => {
      const nodes = [...new Set([...net.all, ...all])]
      await Promise.allSettled(nodes.map((n) => n.stop()))
      await Promise.allSettled(nodes.map((n) => rm(n.dataDir, { recursive: true, force: true })))
    },
  }
  return net
}

export function dhtServers(node: KaiwaNode): number {
  return (node.libp2p().services.dht as unknown as { routingTable: { size: number } }).routingTable
    .size
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
