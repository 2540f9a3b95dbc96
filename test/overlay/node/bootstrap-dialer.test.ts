/**
 * A bootstrap node that is down is reported and retried with a growing delay,
 * and the node connects as soon as the bootstrap node comes up.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { BootstrapDialer } from '../../../src/overlay/node/bootstrap-dialer.js'
import { openDataDir } from '../../../src/overlay/store/data-dir.js'
import { loadOrCreateIdentity } from '../../../src/overlay/identity/identity-store.js'
import { startKaiwaNode } from '../../../src/main/kaiwa-node.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import type { Logger } from '../../../src/shared/logger.js'
import {
  startTestNode,
  tcpAddr,
  TEST_CLAIM_POW_BITS,
  tempDir,
  waitFor,
} from '../../helpers/nodes.js'

interface Entry {
  level: 'debug' | 'info' | 'warn' | 'error'
  msg: string
}

/** A Logger that keeps every message (children included) for the test to inspect. */
function recordingLogger(entries: Entry[] = [], prefix = ''): Logger & { entries: Entry[] } {
  const rec = (level: Entry['level']) => (msg: string) => entries.push({ level, msg: prefix + msg })
  return {
    entries,
    debug: rec('debug'),
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
    child: (c) => recordingLogger(entries, `${prefix}${c}: `),
  }
}

/** A loopback TCP port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Create the identity of a node before starting it, to learn its peer id in advance. */
async function preparedDataDir(): Promise<{ dataDir: string; peerId: string }> {
  const dataDir = await tempDir('kaiwa-bootstrap-')
  const data = await openDataDir(dataDir)
  try {
    const { identity } = await loadOrCreateIdentity(data.datastore)
    return { dataDir, peerId: peerIdFromPrivateKey(identity.deviceKey).toString() }
  } finally {
    await data.close()
  }
}

/** The retry delays (seconds) announced by "unreachable ... retrying in N s" warnings. */
function retryDelays(entries: Entry[], addr: string): number[] {
  return entries
    .filter((e) => e.level === 'warn' && e.msg.includes(addr) && e.msg.includes('unreachable'))
    .map((e) => Number(/retrying in ([\d.]+) s/.exec(e.msg)?.[1]))
}

const connectedTo = (node: KaiwaNode, peerId: string): boolean =>
  node
    .libp2p()
    .getConnections()
    .some((c) => c.remotePeer.toString() === peerId)

const nodes: KaiwaNode[] = []
const dirs: string[] = []
const dialers: BootstrapDialer[] = []

afterEach(async () => {
  for (const d of dialers) d.stop()
  dialers.length = 0
  await Promise.allSettled(nodes.map((n) => n.stop()))
  nodes.length = 0
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
  dirs.length = 0
})

describe('bootstrap dialer', () => {
  it('retries an unreachable bootstrap node with growing delays, then connects when it starts', async () => {
    const port = await closedPort()
    const target = await preparedDataDir()
    dirs.push(target.dataDir)
    const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${target.peerId}`

    const log = recordingLogger()
    const client = await startKaiwaNode({
      dataDir: await tempDir('kaiwa-bootstrap-'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [addr],
      supernode: 'off',
      mdns: false,
      upnp: false,
      claimPowBits: TEST_CLAIM_POW_BITS,
      log,
    })
    nodes.push(client)
    dirs.push(client.dataDir)
    expect(client.role()).toBe('client')

    await waitFor(() => retryDelays(log.entries, addr).length >= 2, 15_000, 'two retry warnings')
    const delays = retryDelays(log.entries, addr)
    expect(delays.every((d) => Number.isFinite(d) && d > 0)).toBe(true)
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]!)
    const warning = log.entries.find((e) => e.msg.includes('unreachable'))!.msg
    expect(warning).toContain('bootstrap: ') // logged by the node's bootstrap component
    expect(warning).toContain('Check that the bootstrap node is running')

    // The bootstrap node comes up on exactly the address the client was told.
    const supernode = await startTestNode({
      dataDir: target.dataDir,
      supernode: 'on',
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
    })
    nodes.push(supernode)
    expect(supernode.peerId).toBe(target.peerId)
    expect(tcpAddr(supernode)).toBe(addr)

    await waitFor(() => connectedTo(client, target.peerId), 20_000, 'the client to connect')
    await waitFor(
      () =>
        log.entries.some(
          (e) => e.level === 'info' && e.msg.includes(`connected to bootstrap ${addr}`),
        ),
      10_000, // its next attempt is at most one (jittered) retry delay away
      'the dialer to report the connection',
    )
    // Once connected, the overlay works through it.
    await supernode.claim('late-riser')
    const found = await client.directory.lookup('late-riser', { fresh: true })
    expect(found?.record.name).toBe('late-riser')
  })

  it('caps the delay, reports an outage and the recovery, and stops when stopped', async () => {
    const port = await closedPort()
    const target = await preparedDataDir()
    dirs.push(target.dataDir)
    const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${target.peerId}`
    // A supernode host: a client would also redial its relay by itself, hiding the dialer's work.
    const host = await startTestNode({ supernode: 'on' })
    nodes.push(host)
    dirs.push(host.dataDir)

    const log = recordingLogger()
    const dialer = new BootstrapDialer({
      node: () => host.libp2p(),
      addrs: [addr],
      log,
      minDelayMs: 50,
      maxDelayMs: 200,
      checkIntervalMs: 100,
    })
    dialers.push(dialer)
    dialer.start()
    dialer.start() // idempotent: still one retry chain
    await waitFor(() => retryDelays(log.entries, addr).length >= 5, 15_000, 'five retries')
    const delays = retryDelays(log.entries, addr)
    // 50 ms doubling, capped at 200 ms, each with +-20 % jitter (rounded to 0.1 s in the log).
    expect(Math.max(...delays)).toBeLessThanOrEqual(0.3)

    const bringUp = async (): Promise<KaiwaNode> => {
      const n = await startTestNode({
        dataDir: target.dataDir,
        supernode: 'on',
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
      })
      nodes.push(n)
      return n
    }
    const connects = (): number =>
      log.entries.filter((e) => e.msg === `connected to bootstrap ${addr}`).length
    const warnings = (): number => retryDelays(log.entries, addr).length

    let supernode = await bringUp()
    await waitFor(() => connectedTo(host, target.peerId), 10_000, 'the dialer to connect')
    await waitFor(() => connects() === 1, 5_000, 'the connect to be logged')

    // The bootstrap node goes down: noticed by the periodic check, retried, and the
    // recovery reported once it is back (whether the dialer or libp2p redials first).
    await supernode.stop()
    const warned = warnings()
    await waitFor(() => warnings() > warned, 10_000, 'the outage to be reported')
    supernode = await bringUp()
    await waitFor(() => connects() === 2, 10_000, 'the reconnect to be reported')
    expect(connectedTo(host, target.peerId)).toBe(true)

    // Stopped: no more attempts, even with the target gone.
    dialer.stop()
    await supernode.stop()
    const before = log.entries.length
    await new Promise((r) => setTimeout(r, 600))
    expect(log.entries.slice(before).filter((e) => e.msg.includes(addr))).toEqual([])
  })
})
