/**
 * The TURN server on 2 relay threads sharing the port with SO_REUSEPORT (turn-cluster.ts):
 * coturn's turnutils_uclient with many clients, spread over both threads, relays with 0 % loss;
 * every thread announces the node's current addresses, also those it got only after the threads
 * started; the peer policy holds in each thread, and another thread's relay port counts as live; the
 * caps and per-user quota hold over all threads; a thread that dies is reported on the log and
 * restarted while the server goes on, and its clients get 437 until they allocate again.
 *
 * The worker threads run dist/overlay/turn/turn-worker.js: `npm run build` first.
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { StunMethod } from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { TurnCluster, defaultTurnThreads } from '../../../src/overlay/turn/turn-cluster.js'
import type { TurnClusterOptions } from '../../../src/overlay/turn/turn-cluster.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import type { Logger } from '../../../src/shared/logger.js'
import { required } from '../../helpers/requirements.js'
import { TcpTestClient } from './turn-tcp-test-client.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const run = promisify(execFile)
const SECRET = 'cluster-secret'
const PEER_PORT = 44010
const RELAY_PORT = 47211
const UDP: StunAttribute[] = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]
const DUAL: StunAttribute = { name: 'ADDITIONAL-ADDRESS-FAMILY', value: 'IPv6' }
/** What a node's announceHost() does before libp2p has started. */
const thrown = (): never => {
  throw new Error('the node has not started')
}
const peerAttr = (address: string, port: number): StunAttribute => ({
  name: 'XOR-PEER-ADDRESS',
  value: { family: 'IPv4', address, port },
})

const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, bin)))

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A Logger that keeps the warnings. */
function logger(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  const log = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (m: string) => void warnings.push(m),
    error: (m: string) => void warnings.push(m),
    child: () => log,
  }
  return log as unknown as Logger & { warnings: string[] }
}

async function start(server: Partial<TurnServerOptions>, more: Partial<TurnClusterOptions> = {}) {
  const log = logger()
  const cluster = new TurnCluster({
    server: { secret: SECRET, host: '127.0.0.1', ...server },
    threads: 2,
    log,
    restartDelayMs: 200,
    ...more,
  })
  const { port } = await cluster.listen()
  cleanup.push(() => cluster.close())
  return { cluster, port, log }
}

/** `n` clients, each on its own UDP port (so the kernel hashes them over the threads). */
async function clients(port: number, n: number, host = '127.0.0.1'): Promise<TestClient[]> {
  const all = await Promise.all(Array.from({ length: n }, () => TestClient.open(port, host)))
  cleanup.push(() => all.forEach((c) => c.close()))
  return all
}

/** Wait until the threads' counters (sent every 250 ms) satisfy `ok`. */
async function until<T>(read: () => T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = read()
    if (ok(v) || Date.now() > deadline) return v
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.runIf(
  required(onPath('turnutils_uclient') && onPath('turnutils_peer'), "coturn's turnutils"),
)('turnutils_uclient against 2 relay threads', () => {
  let peer: ChildProcess | undefined
  beforeAll(async () => {
    peer = spawn('turnutils_peer', ['-L', '127.0.0.1', '-p', String(PEER_PORT)], {
      stdio: 'ignore',
    })
    const s = createSocket('udp4')
    try {
      for (let i = 0; i < 50; i++) {
        const got = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 100)
          s.once('message', () => (clearTimeout(t), resolve(true)))
        })
        s.send('ping', PEER_PORT, '127.0.0.1')
        if (await got) return
      }
      throw new Error('turnutils_peer does not answer')
    } finally {
      s.close()
    }
  })
  afterAll(() => void peer?.kill())

  it('spreads 12 clients over both threads, all relaying with 0 % loss', async () => {
    const { cluster, port } = await start({ allowLoopback: true, maxAllocationsPerUser: 100 })
    const c = issueTurnCredentials(SECRET, 'uclient', 600)
    const args = ['-m', '12', '-c', '-u', c.username, '-w', c.password, '-p', String(port)]
    args.push('-n', '20', '-l', '160', '-e', '127.0.0.1', '-r', String(PEER_PORT), '127.0.0.1')
    const { stdout } = await run('turnutils_uclient', args, { timeout: 60_000 })
    expect(stdout).toMatch(/tot_send_msgs=240, tot_recv_msgs=240\s*$/m)
    expect(stdout).toMatch(/Total lost packets 0 \(0\.0+%\), total send dropped 0 /)
    const each = await until(
      () => cluster.threadStats(),
      (s) => s.length === 2 && s.reduce((a, t) => a + t.packetsToClients, 0) === 240,
    )
    expect(each).toHaveLength(2)
    // Both threads allocated and relayed (each uclient session is one client 5-tuple).
    for (const t of each) expect(t.allocationsTotal).toBeGreaterThan(0)
    for (const t of each) expect(t.packetsToPeers).toBeGreaterThan(0)
    expect(cluster.stats()).toMatchObject({ packetsToPeers: 240, packetsToClients: 240 })
    expect(cluster.stats()).toMatchObject({ packetsDropped: 0, relayThreads: 2 })
  }, 90_000)
})

it('relays on one thread per core by default, at most 4', () => {
  expect([1, 2, 3, 4, 8, 64].map((cores) => defaultTurnThreads(cores))).toEqual([1, 2, 3, 4, 4, 4])
})

describe('2 relay threads', () => {
  it('refuses private peers in every thread, and allows any thread’s live relay port', async () => {
    // As a server behind a NAT announces: XOR-RELAYED-ADDRESS 9.9.9.9 (the host's own address
    // for the peer policy). Nothing is sent anywhere: only permissions are asked for.
    const { cluster, port } = await start({
      relayedAddress: () => '9.9.9.9',
      maxAllocationsPerUser: 100,
    })
    const all = await clients(port, 12)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const relays: StunAddress[] = []
    for (const c of all) {
      const r = await c.authed(StunMethod.Allocate, UDP, creds)
      expect(r.class).toBe('success')
      relays.push(attr<StunAddress>(r, 'XOR-RELAYED-ADDRESS')!)
    }
    const each = await until(
      () => cluster.threadStats(),
      (s) => s.length === 2 && s.every((t) => t.allocations > 0),
    )
    for (const t of each) expect(t.allocations).toBeGreaterThan(0)
    for (const [i, c] of all.entries()) {
      for (const denied of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '9.9.9.9']) {
        const r = await c.authed(StunMethod.CreatePermission, [peerAttr(denied, 5000)], creds)
        expect(errorCode(r), `${denied} from client ${i}`).toBe(403)
      }
      // Every other client's relayed address, in this thread or the other (ICE's relay-relay
      // pair through one server).
      for (const [j, relay] of relays.entries()) {
        if (j === i) continue
        const r = await c.authed(
          StunMethod.CreatePermission,
          [peerAttr(relay.address, relay.port)],
          creds,
        )
        expect(r.class, `client ${i} to client ${j}'s relay`).toBe('success')
      }
    }
    const after = await until(
      () => cluster.threadStats(),
      (s) => s.reduce((a, t) => a + t.permissionsDenied, 0) === 48,
    )
    for (const t of after) expect(t.permissionsDenied).toBeGreaterThan(0)
  }, 60_000)

  it('announces the node’s addresses from every thread, known or changed after they started', async () => {
    // As a supernode on 0.0.0.0 and :: runs: its relay threads start inside libp2p's start,
    // before the node has an address (relayedAddress throws then), and the address may change
    // later. Every relayed address must be the node's current one whichever thread allocated
    // it, for UDP and TCP clients over IPv4 and IPv6; before, a worker thread announced its
    // bind address for good (0.0.0.0 or :: in production), a relay candidate nobody can reach.
    let v4: string | undefined
    const v6 = '2001:db8::9'
    const { cluster, port } = await start({
      listen6: '::1',
      host6: '::1',
      relayedAddress: () => v4 ?? thrown(),
      relayedAddress6: () => (v4 === undefined ? thrown() : v6),
      maxAllocationsPerUser: 100,
    })
    v4 = '9.9.9.9' // libp2p started
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const relayed = async (all: { authed: TestClient['authed'] }[]) => {
      const out = []
      for (const c of all) {
        const r = await c.authed(StunMethod.Allocate, [...UDP, DUAL], creds)
        expect(r.class, JSON.stringify(r.attributes)).toBe('success')
        out.push(r.attributes.flatMap((a) => (a.name === 'XOR-RELAYED-ADDRESS' ? [a.value] : [])))
      }
      return out
    }
    const both = (a4: string) => [
      { family: 'IPv4', address: a4, port: expect.any(Number) as number },
      { family: 'IPv6', address: v6, port: expect.any(Number) as number },
    ]
    const tcp = await Promise.all(
      ['127.0.0.1', '127.0.0.1', '127.0.0.1', '::1', '::1', '::1'].flatMap((h) => [
        TcpTestClient.open(port, h),
        TcpTestClient.open(port, h),
      ]),
    )
    cleanup.push(() => tcp.forEach((c) => c.close()))
    const udp = [...(await clients(port, 8)), ...(await clients(port, 8, '::1'))]
    for (const r of await relayed([...udp, ...tcp])) expect(r).toEqual(both('9.9.9.9'))
    const each = await until(
      () => cluster.threadStats(),
      (s) => s.length === 2 && s.every((t) => t.allocations > 0),
    )
    for (const t of each) expect(t.allocations).toBeGreaterThan(0)
    // The node's address changes: the next Allocates in every thread announce the new one at
    // once (not up to a second later, when the announcer next runs).
    v4 = '9.9.9.10'
    for (const r of await relayed(await clients(port, 12))) expect(r).toEqual(both('9.9.9.10'))
    const later = await until(
      () => cluster.threadStats(),
      (s) => s.reduce((a, t) => a + t.allocations, 0) === 40,
    )
    expect(later.reduce((a, t) => a + t.allocations, 0)).toBe(40)
  }, 60_000)

  it('gives a relay port to one relay of one thread, whatever its family', async () => {
    // One relay port: an IPv4 relay on it leaves none for an IPv6 relay in any thread (the
    // sockets would not conflict, but the threads' shared map names one relay per port).
    const { cluster, port } = await start({
      host6: '::1',
      relayPortRange: [RELAY_PORT, RELAY_PORT],
      maxAllocationsPerUser: 100,
    })
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const [first, ...rest] = await clients(port, 13)
    expect((await first!.authed(StunMethod.Allocate, UDP, creds)).class).toBe('success')
    const v6: StunAttribute = { name: 'REQUESTED-ADDRESS-FAMILY', value: 'IPv6' }
    for (const c of rest) {
      expect(errorCode(await c.authed(StunMethod.Allocate, [...UDP, v6], creds))).toBe(508)
      // Counted as malformed by the thread it reaches: the clients asked in both threads.
      c.sendRaw(new Uint8Array([0xff, 0, 0, 0]))
    }
    const each = await until(
      () => cluster.threadStats(),
      (s) => s.length === 2 && s.reduce((a, t) => a + t.malformed, 0) === 12,
    )
    for (const t of each) expect(t.malformed).toBeGreaterThan(0)
    expect(cluster.stats().allocations).toBe(1)
  }, 60_000)

  it('holds maxAllocations and the per-user quota over all threads', async () => {
    const { cluster, port } = await start({
      allowLoopback: true,
      caps: { maxAllocations: 5 },
      maxAllocationsPerUser: 3,
    })
    const all = await clients(port, 12)
    // One credential each: the REST username carries its expiry second, and the quota counts
    // per username (a credential issued a second later is another username).
    const alice = issueTurnCredentials(SECRET, 'alice', 600)
    const bob = issueTurnCredentials(SECRET, 'bob', 600)
    const codes = []
    for (const [i, c] of all.entries()) {
      codes.push(errorCode(await c.authed(StunMethod.Allocate, UDP, i < 6 ? alice : bob)) ?? 200)
    }
    // alice: 3 of 6 (486 past her quota); bob: 2 (then the server's 5 are taken: 508).
    expect(codes).toEqual([200, 200, 200, 486, 486, 486, 200, 200, 508, 508, 508, 508])
    // Raising the cap applies in every thread; bob's quota of 3 still holds.
    cluster.setCaps({ maxAllocations: 7 })
    expect((await all[8]!.authed(StunMethod.Allocate, UDP, bob)).class).toBe('success')
    expect(errorCode(await all[9]!.authed(StunMethod.Allocate, UDP, bob))).toBe(486)
    const s = await until(
      () => cluster.stats(),
      (x) => x.allocations === 6,
    )
    expect(s).toMatchObject({ allocations: 6, allocationsRefused: 4 })
    // relayKbps 0 turns relaying off in every thread: fresh clients anywhere get 508.
    cluster.setCaps({ relayKbps: 0, maxAllocations: 100 })
    expect(cluster.caps()).toEqual({ relayKbps: 0, maxAllocations: 100 })
    const carol = issueTurnCredentials(SECRET, 'carol', 600)
    for (const c of await clients(port, 8)) {
      expect(errorCode(await c.authed(StunMethod.Allocate, UDP, carol))).toBe(508)
    }
    const off = await until(
      () => cluster.threadStats(),
      (t) => t.reduce((a, x) => a + x.allocationsRefused, 0) === 12,
    )
    for (const t of off) expect(t.allocationsRefused).toBeGreaterThan(0)
  }, 60_000)

  it('reports and restarts a thread that dies; its clients get 437 and allocate again', async () => {
    const { cluster, port, log } = await start({ allowLoopback: true, maxAllocationsPerUser: 100 })
    const all = await clients(port, 16)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    for (const c of all)
      expect((await c.authed(StunMethod.Allocate, UDP, creds)).class).toBe('success')
    const before = await until(
      () => cluster.threadStats(),
      (s) => s.length === 2 && s[0]!.allocations + s[1]!.allocations === 16,
    )
    const lost = before[1]!.allocations
    expect(lost).toBeGreaterThan(0)
    const dead = cluster.workers()[0]!
    await dead.terminate()
    await until(
      () => cluster.workers(),
      (w) => w.length === 1 && w[0] !== dead,
    )
    expect(cluster.workers()[0]).not.toBe(dead)
    expect(log.warnings.join('\n')).toMatch(/TURN relay thread 1 stopped/)
    expect(cluster.stats()).toMatchObject({ relayThreadRestarts: 1, relayThreads: 2 })
    // The quota forgot the dead thread's allocations: alice holds the main thread's only.
    // Each client refreshes: 200 where its allocation still is, else 437 (RFC 8656 §7).
    const refresh = []
    for (const c of all) {
      const r = await c.authed(StunMethod.Refresh, [{ name: 'LIFETIME', value: 600 }], creds)
      refresh.push(errorCode(r) ?? 200)
    }
    expect(refresh.every((code) => code === 200 || code === 437)).toBe(true)
    expect(refresh.filter((code) => code === 437).length).toBeGreaterThan(0)
    // Those clients allocate again and get a relay.
    for (const [i, c] of all.entries()) {
      if (refresh[i] !== 437) continue
      expect((await c.authed(StunMethod.Allocate, UDP, creds)).class).toBe('success')
    }
    const now = await until(
      () => cluster.stats(),
      (s) => s.allocations === 16,
    )
    expect(now.allocations).toBe(16)
  }, 60_000)
})
