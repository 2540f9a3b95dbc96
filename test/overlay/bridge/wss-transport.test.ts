/**
 * The overlay over WebSocket-TLS on the bridge port, with real libp2p nodes on loopback: a
 * supernode-like node listens on `/tls/ws` (its self-signed certificate), another dials it,
 * Noise and yamux run on top and ping works both ways; the listener sees the dialler's real
 * address; the same port answers STUN over TLS from our TURN server; a port in use is a warning
 * and no bridge when the port was a default, and a failed start when the user chose it.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateBridgeCertificate } from '../../../src/overlay/bridge/bridge-certificate.js'
import { bridgeListenAddrs, wssTransport } from '../../../src/overlay/bridge/wss-transport.js'
import type { WssTransportInit } from '../../../src/overlay/bridge/wss-transport.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { Logger } from '../../../src/shared/logger.js'

type Node = Libp2p<{ ping: Ping }>

function capturingLog(lines: string[]): Logger {
  const log: Logger = {
    debug: (m) => void lines.push(`debug ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    child: () => log,
  }
  return log
}

describe('bridgeListenAddrs', () => {
  it('puts the bridge on every host the overlay listens on, once each', () => {
    const listen = ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0', '/ip4/0.0.0.0/tcp/4001', '/webrtc']
    expect(bridgeListenAddrs(listen, 443)).toEqual([
      '/ip4/0.0.0.0/tcp/443/tls/ws',
      '/ip6/::/tcp/443/tls/ws',
    ])
  })
})

describe('the overlay over WebSocket-TLS on the bridge port', () => {
  let dir = ''
  const nodes: Node[] = []
  const lines: string[] = []
  let turn: TurnServer | undefined
  let bound: number | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaiwa-wss-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    await turn?.close()
    turn = undefined
    lines.length = 0
  })

  function init(over: Partial<WssTransportInit> = {}): WssTransportInit {
    return {
      certificate: () => loadOrCreateBridgeCertificate(dir),
      turn: (stream, remote) => turn?.acceptTlsStream(stream, remote) ?? false,
      optional: false,
      onBound: (port) => (bound = port),
      log: capturingLog(lines),
      ...over,
    }
  }

  async function node(listen: string[], over: Partial<WssTransportInit> = {}): Promise<Node> {
    const n = await createLibp2p({
      addresses: { listen },
      transports: [wssTransport(init(over))],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ping: ping() },
    })
    nodes.push(n)
    return n
  }

  it('connects two nodes over /tls/ws; ping works both ways; the listener sees the real address', async () => {
    const server = await node(['/ip4/127.0.0.1/tcp/0/tls/ws'])
    const addr = server.getMultiaddrs()[0]!
    expect(addr.toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws\/p2p\//)
    expect(bound).toBe(Number(/\/tcp\/(\d+)\//.exec(addr.toString())![1]))
    const client = await node([])
    expect(await client.services.ping.ping(addr)).toBeGreaterThanOrEqual(0)
    const [inbound] = server.getConnections(client.peerId)
    expect(inbound?.remoteAddr.toString()).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws/)
    expect(await server.services.ping.ping(client.peerId)).toBeGreaterThanOrEqual(0)
    // The connection's peer was checked by Noise: the dialled ID is the one that answered.
    expect(client.getConnections(server.peerId)[0]?.remotePeer.equals(server.peerId)).toBe(true)
  })

  it('answers STUN over TLS on the same port (TURN)', async () => {
    turn = new TurnServer({ secret: 'wss-test-secret', allowLoopback: true })
    await turn.listen()
    const server = await node(['/ip4/127.0.0.1/tcp/0/tls/ws'])
    const port = Number(/\/tcp\/(\d+)\//.exec(server.getMultiaddrs()[0]!.toString())![1])
    const txid = randomBytes(12)
    const request = Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), txid])
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
        s.write(request),
      )
      s.once('data', (d: Buffer) => {
        resolve(d)
        s.destroy()
      })
      s.once('error', reject)
    })
    // A Binding success response (0x0101) to our transaction (RFC 8489 §6.3.1).
    expect(answer.readUInt16BE(0)).toBe(0x0101)
    expect(answer.subarray(8, 20).equals(txid)).toBe(true)
    expect(turn.stats().tlsConnections).toBe(1)
  })

  it('a default port in use is a warning and no bridge; a chosen one fails the start', async () => {
    const holder = createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r))
    const port = (holder.address() as { port: number }).port
    try {
      const listen = [`/ip4/127.0.0.1/tcp/${port}/tls/ws`]
      const optional = await node(listen, { optional: true })
      expect(optional.getMultiaddrs()).toEqual([])
      expect(lines.join('\n')).toMatch(/warn running without the port-443 bridge.*EADDRINUSE/)
      await expect(node(listen, { optional: false })).rejects.toThrow(/EADDRINUSE/)
    } finally {
      holder.close()
    }
  })

  it('refuses to dial what is not a /tls/ws address', async () => {
    const client = await node([])
    await expect(client.dial(multiaddr('/ip4/127.0.0.1/tcp/9/ws'))).rejects.toThrow()
  })
})
