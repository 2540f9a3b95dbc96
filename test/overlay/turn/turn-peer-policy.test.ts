/**
 * The TURN server's peer policy end to end (peer-policy.ts; RFC 8656 §10.2, §11.2, §12.2): a
 * real server on 127.0.0.1, allocations made by our test client and by coturn's
 * turnutils_uclient. Denied peers get 403 for CreatePermission and ChannelBind, and their Send
 * indications are dropped and counted; allowPeers lets a range through; relaying between
 * loopback endpoints still works.
 *
 * Nothing here sends a datagram to an address other than 127.0.0.1: requests for other
 * addresses are refused before any permission exists, and the ones allowed (allowPeers, the
 * announced address) are only asked for, never sent to.
 */
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeChannelData,
  verifyIntegrity,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { DENIED_SAMPLES } from './peer-samples.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const run = promisify(execFile)
const SECRET = 'policy-secret'
const UDP: StunAttribute[] = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]
const enc = new TextEncoder()
const dec = new TextDecoder()

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const peerAttr = (address: string, port: number): StunAttribute => ({
  name: 'XOR-PEER-ADDRESS',
  value: { family: 'IPv4', address, port },
})
const channel = (n: number): StunAttribute => ({ name: 'CHANNEL-NUMBER', value: n })

/** The host's own non-loopback IPv4 addresses (the relay is IPv4: IPv6 peers get 443). */
const ownAddresses = () =>
  Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((i) => !i.internal && i.family === 'IPv4')
    .map((i) => i.address)

/**
 * A server on 127.0.0.1. allowLoopback as the node sets it for a loopback-bound server
 * (src/main/turn-service.ts), unless the test says otherwise.
 */
async function start(opts: Partial<TurnServerOptions> = {}) {
  const server = new TurnServer({ secret: SECRET, host: '127.0.0.1', allowLoopback: true, ...opts })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port }
}

/** A client with an allocation on `port`, and helpers for its requests. */
async function allocated(port: number, user = 'alice') {
  const c = await TestClient.open(port)
  cleanup.push(() => c.close())
  const creds = issueTurnCredentials(SECRET, user, 600)
  const r = await c.authed(StunMethod.Allocate, UDP, creds)
  expect(r.class).toBe('success')
  const relay = attr<StunAddress>(r, 'XOR-RELAYED-ADDRESS')!
  return {
    c,
    creds,
    relay,
    permit: (...peers: StunAttribute[]) => c.authed(StunMethod.CreatePermission, peers, creds),
    bind: (peer: StunAttribute, n: number) =>
      c.authed(StunMethod.ChannelBind, [peer, channel(n)], creds),
    send: (peer: StunAttribute, text: string) =>
      c.indication(StunMethod.Send, [peer, { name: 'DATA', value: enc.encode(text) }]),
  }
}

/** A UDP socket on 127.0.0.1 standing for a peer, with the datagrams it received. */
async function loopbackPeer() {
  const socket: Socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  cleanup.push(() => socket.close())
  const got: { text: string; port: number }[] = []
  socket.on('message', (b, r) => got.push({ text: dec.decode(b), port: r.port }))
  return { socket, port: socket.address().port, got }
}

describe('denied peers (RFC 8656 §10.2, §11.2, §12.2)', () => {
  it('403 to CreatePermission and ChannelBind in every special-purpose range; Send dropped', async () => {
    const { server, port } = await start()
    const a = await allocated(port)
    for (const [i, address] of DENIED_SAMPLES.entries()) {
      const peer = peerAttr(address, 3480)
      const r = await a.permit(peer)
      expect(errorCode(r), address).toBe(403)
      expect(attr<{ reason: string }>(r, 'ERROR-CODE')?.reason).toBe('Forbidden')
      // An authenticated error response carries MESSAGE-INTEGRITY (RFC 8489 §9.2.4).
      expect(verifyIntegrity(r.raw, r, a.c.key!)).toBe(true)
      expect(errorCode(await a.bind(peer, 0x4000 + i)), address).toBe(403)
      // No permission exists, and the policy drops it first: it never leaves the server.
      a.send(peer, 'never sent')
    }
    const n = DENIED_SAMPLES.length
    await expect.poll(() => server.stats().droppedPeerDenied).toBe(n)
    expect(server.stats()).toMatchObject({
      permissionsDenied: 2 * n,
      droppedNoPermission: 0,
      packetsToPeers: 0,
      bytesToPeers: 0,
      packetsDropped: n,
    })
  })

  it('installs no permission when one of several peers is denied (§10.2: all or none)', async () => {
    const { server, port } = await start()
    const a = await allocated(port)
    const p = await loopbackPeer()
    const ok = peerAttr('127.0.0.1', p.port)
    expect(errorCode(await a.permit(ok, peerAttr('10.0.0.1', 3480)))).toBe(403)
    a.send(ok, 'no permission')
    await expect.poll(() => server.stats().droppedNoPermission).toBe(1)
    expect(p.got).toHaveLength(0)
    expect(server.stats().permissionsDenied).toBe(1)
  })

  it('refuses loopback peers on a server without allowLoopback', async () => {
    const { server, port } = await start({ allowLoopback: false })
    const a = await allocated(port)
    for (const address of ['127.0.0.1', '127.1.2.3']) {
      expect(errorCode(await a.permit(peerAttr(address, 5000))), address).toBe(403)
    }
    expect(server.stats().permissionsDenied).toBe(2)
  })

  it("refuses the host's own non-loopback addresses, even at a relay port", async () => {
    const { server, port } = await start()
    const a = await allocated(port)
    const own = ownAddresses()
    for (const address of own) {
      expect(errorCode(await a.permit(peerAttr(address, 5000))), address).toBe(403)
      // The relay sockets are bound to 127.0.0.1: on this address the port is anybody's.
      expect(errorCode(await a.permit(peerAttr(address, a.relay.port))), address).toBe(403)
      expect(errorCode(await a.bind(peerAttr(address, 5000), 0x4000)), address).toBe(403)
    }
    expect(server.stats().permissionsDenied).toBe(3 * own.length)
  })

  it('treats the announced address as the host own: only its live relay ports are allowed', async () => {
    // As a server bound to all addresses behind a NAT would announce: XOR-RELAYED-ADDRESS
    // 9.9.9.9. Nothing is sent there: only permissions are asked for.
    const { server, port } = await start({ relayedAddress: () => '9.9.9.9' })
    const a = await allocated(port, 'alice')
    const b = await allocated(port, 'bob')
    expect(b.relay.address).toBe('9.9.9.9')
    expect(errorCode(await a.permit(peerAttr('9.9.9.9', 5000)))).toBe(403)
    // ICE's relay-relay pair through one server: A asks for B's relayed address.
    expect((await a.permit(peerAttr('9.9.9.9', b.relay.port))).class).toBe('success')
    expect((await a.bind(peerAttr('9.9.9.9', b.relay.port), 0x4001)).class).toBe('success')
    expect(server.stats().permissionsDenied).toBe(1)
  })
})

describe('allowPeers', () => {
  it('lets the listed ranges through (200); the others stay refused', async () => {
    const own = ownAddresses()
    const { server, port } = await start({ allowPeers: ['10.0.0.0/8', ...own] })
    const a = await allocated(port)
    // Permissions only: nothing is sent to these addresses.
    expect((await a.permit(peerAttr('10.1.2.3', 3480))).class).toBe('success')
    expect((await a.bind(peerAttr('10.1.2.3', 3480), 0x4000)).class).toBe('success')
    for (const address of own) {
      expect((await a.permit(peerAttr(address, 5000))).class, address).toBe('success')
    }
    expect(errorCode(await a.permit(peerAttr('192.168.1.1', 3480)))).toBe(403)
    expect(errorCode(await a.permit(peerAttr('11.0.0.1', 0)))).toBe(403) // port 0, never
    expect(server.stats().permissionsDenied).toBe(2)
  })

  it('can stand in for allowLoopback: 127.0.0.0/8 relays without it', async () => {
    const { server, port } = await start({ allowLoopback: false, allowPeers: ['127.0.0.0/8'] })
    const a = await allocated(port)
    const p = await loopbackPeer()
    const peer = peerAttr('127.0.0.1', p.port)
    expect((await a.permit(peer)).class).toBe('success')
    a.send(peer, 'via allowPeers')
    await expect.poll(() => p.got.map((g) => g.text)).toEqual(['via allowPeers'])
    // The listen port stays refused (a relay loop), whatever allowPeers says.
    expect(errorCode(await a.permit(peerAttr('127.0.0.1', port)))).toBe(403)
    expect(server.stats().permissionsDenied).toBe(1)
  })

  it('refuses a malformed entry at construction', () => {
    expect(() => new TurnServer({ secret: SECRET, allowPeers: ['10.0.0.0/33'] })).toThrow(
      /not a valid IP address or CIDR prefix/,
    )
  })
})

describe('loopback relaying on a loopback-bound server', () => {
  it('relays Send/Data and ChannelData between two loopback endpoints', async () => {
    const { server, port } = await start()
    const a = await allocated(port)
    const p = await loopbackPeer()
    const peer = peerAttr('127.0.0.1', p.port)
    expect((await a.permit(peer)).class).toBe('success')
    a.send(peer, 'hello')
    await expect.poll(() => p.got.map((g) => g.text)).toEqual(['hello'])
    expect(p.got[0]!.port).toBe(a.relay.port)
    p.socket.send(enc.encode('back'), a.relay.port, '127.0.0.1')
    const data = decodeStun(await a.c.next())
    expect(dec.decode(attr<Uint8Array>(data, 'DATA'))).toBe('back')
    expect((await a.bind(peer, 0x4000)).class).toBe('success')
    a.c.sendRaw(encodeChannelData(0x4000, enc.encode('over a channel')))
    await expect.poll(() => p.got.length).toBe(2)
    expect(p.got[1]!.text).toBe('over a channel')
    p.socket.send(enc.encode('channel back'), a.relay.port, '127.0.0.1')
    expect(dec.decode(decodeChannelData(await a.c.next()).data)).toBe('channel back')
    expect(server.stats()).toMatchObject({ permissionsDenied: 0, packetsDropped: 0 })
  })

  it("relays between two allocations' relayed addresses (ICE relay-relay pair)", async () => {
    const { server, port } = await start()
    const a = await allocated(port, 'alice')
    const b = await allocated(port, 'bob')
    const toB = peerAttr('127.0.0.1', b.relay.port)
    const toA = peerAttr('127.0.0.1', a.relay.port)
    expect((await a.permit(toB)).class).toBe('success')
    expect((await b.permit(toA)).class).toBe('success')
    a.send(toB, 'a to b')
    const got = decodeStun(await b.c.next())
    expect(attr<StunAddress>(got, 'XOR-PEER-ADDRESS')?.port).toBe(a.relay.port)
    expect(dec.decode(attr<Uint8Array>(got, 'DATA'))).toBe('a to b')
    expect(server.stats()).toMatchObject({ packetsToPeers: 1, packetsToClients: 1 })
  })
})

describe('coturn turnutils_uclient', () => {
  // Without -y the peer is -e: uclient asks the server to relay to 10.0.0.1:3480, over a channel
  // (ChannelBind) or with -s through Send indications (CreatePermission). Its sockets are
  // connected to the server (127.0.0.1) and send nowhere else.
  for (const [how, flags, said] of [
    ['ChannelBind', [], /channel bind: error 403 \(Forbidden\)/],
    ['CreatePermission (-s)', ['-s'], /create permission error 403 \(Forbidden\)/],
  ] as const) {
    it(`gets 403 to ${how} for a peer in 10/8, and the server relays nothing`, async () => {
      const { server, port } = await start()
      const c = issueTurnCredentials(SECRET, 'uclient', 600)
      const args = [...flags, '-c', '-u', c.username, '-w', c.password, '-p', String(port)]
      args.push('-n', '5', '-m', '1', '-l', '100', '-e', '10.0.0.1', '-r', '3480', '127.0.0.1')
      const out = await run('turnutils_uclient', args, { timeout: 30_000 }).then(
        (r) => r.stdout + r.stderr,
        (e: { stdout?: string; stderr?: string }) => (e.stdout ?? '') + (e.stderr ?? ''),
      )
      expect(out).toMatch(said)
      expect(server.stats().permissionsDenied).toBeGreaterThanOrEqual(1)
      expect(server.stats()).toMatchObject({ packetsToPeers: 0, bytesToPeers: 0 })
    })
  }
})
