/**
 * The port-443 bridge in real nodes (startKaiwaNode, loopback): a supernode with a bridge port
 * announces a /tls/ws address; a client that knows only that address attaches over it, and the
 * TURN credentials it gets name turns: on the bridge port, which the UI's ICE servers keep and
 * the node's own (libdatachannel, no TURN over TLS) leave out. A bridge port that is only the
 * default and cannot be bound leaves the supernode running without it, and without turns:.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startKaiwaNode } from '../../src/main/kaiwa-node.js'
import type { KaiwaNode, KaiwaNodeOptions } from '../../src/main/kaiwa-node.js'
import { freePort, waitFor } from '../helpers/nodes.js'
import { silentLogger } from '../helpers/logger.js'

const dirs: string[] = []
const nodes: KaiwaNode[] = []

async function start(opts: Partial<KaiwaNodeOptions>): Promise<KaiwaNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kaiwa-bridge-node-'))
  dirs.push(dataDir)
  const node = await startKaiwaNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    supernode: 'off',
    mdns: false,
    upnp: false,
    sipPort: 0,
    claimPowBits: 4,
    log: silentLogger,
    ...opts,
  })
  nodes.push(node)
  return node
}

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('a supernode with the port-443 bridge', () => {
  let sn: KaiwaNode
  let client: KaiwaNode
  let bridgePort = 0
  let wss = ''

  beforeAll(async () => {
    bridgePort = await freePort()
    const turnPort = await freePort()
    sn = await start({ supernode: 'on', turnPort, turnHost: '127.0.0.1', bridgePort })
    wss = sn
      .addrs()
      .map((a) => a.toString())
      .find((a) => a.startsWith(`/ip4/127.0.0.1/tcp/${bridgePort}/tls/ws/p2p/`))!
    client = await start({ bootstrap: [wss] })
    await waitFor(
      () => client.supernodes.connected().includes(sn.peerId),
      20_000,
      'the client to attach to the supernode over the bridge',
    )
  }, 60_000)

  it('announces a /tls/ws address, and a client knowing only it attaches over it', () => {
    expect(wss).toBeTruthy()
    const links = client.libp2p().getConnections(sn.libp2p().peerId)
    expect(links.length).toBeGreaterThan(0)
    for (const c of links) expect(c.remoteAddr.toString()).toMatch(/\/tls\/ws/)
  })

  it("names turns: on the bridge port; the UI reaches it through its node, the node's own ICE servers not at all", async () => {
    const turns = `turns:127.0.0.1:${bridgePort}?transport=tcp`
    const creds = await client.api.turnCredentials({})
    expect(creds.urls).toContain(turns)
    // The app would refuse the bridge's self-signed certificate: it gets a loopback turn: URL
    // that its node pipes into TLS to the bridge (turns-forwarder.ts), and no turns: URL.
    const ui = (await client.api.iceServers({})).iceServers.flatMap((s) => [s.urls].flat())
    expect(ui.some((u) => u.startsWith('turns:'))).toBe(false)
    const forwarded = ui.filter((u) => !creds.urls.includes(u))
    expect(forwarded).toHaveLength(1)
    expect(forwarded[0]).toMatch(/^turn:127\.0\.0\.1:\d+\?transport=tcp$/)
    const own = await client.turn.iceServers()
    expect(own.flatMap((s) => [s.urls].flat()).some((u) => u.startsWith('turns:'))).toBe(false)
  })
})

describe('a default bridge port that cannot be bound', () => {
  let holder: Server | undefined
  afterAll(() => holder?.close())

  it('leaves the supernode running without the bridge and without turns:', async () => {
    holder = createServer()
    await new Promise<void>((r) => holder!.listen(0, '127.0.0.1', r))
    const port = (holder.address() as { port: number }).port
    const turnPort = await freePort()
    const sn = await start({
      supernode: 'on',
      turnPort,
      turnHost: '127.0.0.1',
      bridgePort: port,
      bridgePortOptional: true,
    })
    expect(sn.addrs().some((a) => a.toString().includes('/tls/ws'))).toBe(false)
    expect(sn.turn.status()?.urls.some((u) => u.startsWith('turns:'))).toBe(false)
  })
})
