/**
 * TURN relaying (RFC 8656 §9-§12): permissions and 403, Send/Data indications, ChannelBind and
 * ChannelData, Refresh, expiry on a fake clock, malformed input, the rate limit, nonces.
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import {
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeChannelData,
  encodeStun,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { NonceIssuer } from '../../../src/overlay/turn/turn-auth.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const SECRET = 'relay-secret'
const UDP: StunAttribute[] = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]
const enc = new TextEncoder()
const dec = new TextDecoder()

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

interface PeerSocket {
  socket: Socket
  port: number
  next(): Promise<{ data: string; port: number }>
  received: number
}

async function peer(): Promise<PeerSocket> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  cleanup.push(() => socket.close())
  const queue: { data: string; port: number }[] = []
  const p: PeerSocket = {
    socket,
    port: socket.address().port,
    received: 0,
    next: async () => {
      for (let i = 0; i < 40 && queue.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      const m = queue.shift()
      if (!m) throw new Error('peer received nothing')
      return m
    },
  }
  socket.on('message', (b, r) => {
    p.received++
    queue.push({ data: dec.decode(b), port: r.port })
  })
  return p
}

/** A server (fake clock), one client with an allocation, one peer. */
async function setup(opts: Partial<TurnServerOptions> = {}) {
  const clock = { now: Date.now() }
  // allowLoopback: client, server and peer all live on 127.0.0.1.
  const server = new TurnServer({
    secret: SECRET,
    allowLoopback: true,
    now: () => clock.now,
    ...opts,
  })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  const c = await TestClient.open(port)
  cleanup.push(() => c.close())
  const creds = issueTurnCredentials(SECRET, 'alice', 7200, clock.now)
  const alloc = await c.authed(StunMethod.Allocate, UDP, creds)
  expect(alloc.class).toBe('success')
  const relay = attr<StunAddress>(alloc, 'XOR-RELAYED-ADDRESS')!
  const p = await peer()
  const peerAddr: StunAttribute = {
    name: 'XOR-PEER-ADDRESS',
    value: { family: 'IPv4', address: '127.0.0.1', port: p.port },
  }
  const fromPeer = (s: string) => p.socket.send(enc.encode(s), relay.port, '127.0.0.1')
  return { server, port, clock, c, creds, relay, p, peerAddr, fromPeer }
}

const quiet = () => new Promise((r) => setTimeout(r, 150))

describe('permissions and indications (RFC 8656 §9-§11)', () => {
  it('relays Send indications only after CreatePermission, and peers back as Data', async () => {
    const { server, c, creds, p, peerAddr, fromPeer } = await setup()
    c.indication(StunMethod.Send, [peerAddr, { name: 'DATA', value: enc.encode('early') }])
    fromPeer('unpermitted')
    await quiet()
    expect(p.received).toBe(0)
    expect(c.inbox).toHaveLength(0)
    const r = await c.authed(StunMethod.CreatePermission, [peerAddr], creds)
    expect(r.class).toBe('success')
    c.indication(StunMethod.Send, [peerAddr, { name: 'DATA', value: enc.encode('hello') }])
    expect((await p.next()).data).toBe('hello')
    fromPeer('back')
    const ind = decodeStun(await c.next())
    expect(ind).toMatchObject({ method: StunMethod.Data, class: 'indication' })
    expect(attr<StunAddress>(ind, 'XOR-PEER-ADDRESS')?.port).toBe(p.port)
    expect(dec.decode(attr<Uint8Array>(ind, 'DATA'))).toBe('back')
    expect(server.stats()).toMatchObject({ packetsToPeers: 1, bytesToPeers: 5, bytesToClients: 4 })
  })

  it('refuses peers on the server listen port, and loopback without allowLoopback (403)', async () => {
    const { port, c, creds } = await setup()
    const self: StunAttribute = {
      name: 'XOR-PEER-ADDRESS',
      value: { family: 'IPv4', address: '127.0.0.1', port },
    }
    const r = await c.authed(StunMethod.CreatePermission, [self], creds)
    expect(errorCode(r)).toBe(403)
    expect(errorCode(await c.authed(StunMethod.ChannelBind, [self, ch(0x4000)], creds))).toBe(403)
    const strict = await setup({ allowLoopback: false })
    const loop = await strict.c.authed(StunMethod.CreatePermission, [strict.peerAddr], strict.creds)
    expect(errorCode(loop)).toBe(403)
  })

  it('drops Send indications to the listen port or port 0 despite an IP permission', async () => {
    const { server, port, c, creds, peerAddr } = await setup()
    await c.authed(StunMethod.CreatePermission, [peerAddr], creds)
    for (const bad of [port, 0]) {
      const to: StunAttribute = {
        name: 'XOR-PEER-ADDRESS',
        value: { family: 'IPv4', address: '127.0.0.1', port: bad },
      }
      c.indication(StunMethod.Send, [to, { name: 'DATA', value: enc.encode('loop') }])
    }
    await quiet()
    expect(server.stats().packetsToPeers).toBe(0)
    expect((await c.request(StunMethod.Binding, [])).class).toBe('success')
  })

  it('answers 437 without an allocation and 441 to another user on the same 5-tuple', async () => {
    const { port, c, peerAddr } = await setup()
    const other = await TestClient.open(port)
    cleanup.push(() => other.close())
    const creds = issueTurnCredentials(SECRET, 'bob', 600)
    expect(errorCode(await other.authed(StunMethod.CreatePermission, [peerAddr], creds))).toBe(437)
    expect(errorCode(await c.authed(StunMethod.Refresh, [], creds))).toBe(441)
  })

  it('expires permissions after 300 s (fake clock)', async () => {
    const { clock, c, creds, p, peerAddr, fromPeer } = await setup()
    await c.authed(StunMethod.CreatePermission, [peerAddr], creds)
    clock.now += 301_000
    c.indication(StunMethod.Send, [peerAddr, { name: 'DATA', value: enc.encode('late') }])
    fromPeer('late')
    await quiet()
    expect(p.received).toBe(0)
    expect(c.inbox).toHaveLength(0)
  })
})

const ch = (n: number): StunAttribute => ({ name: 'CHANNEL-NUMBER', value: n })

describe('channels (RFC 8656 §12)', () => {
  it('binds a channel and relays ChannelData both ways', async () => {
    const { c, creds, p, peerAddr, fromPeer } = await setup()
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x4001), peerAddr], creds)).class).toBe(
      'success',
    )
    c.sendRaw(encodeChannelData(0x4001, enc.encode('via channel')))
    expect((await p.next()).data).toBe('via channel')
    fromPeer('reply')
    const frame = decodeChannelData(await c.next())
    expect(frame.channel).toBe(0x4001)
    expect(dec.decode(frame.data)).toBe('reply')
    // Refreshing the same binding is fine.
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x4001), peerAddr], creds)).class).toBe(
      'success',
    )
  })

  it('answers 400 to bad channel numbers and conflicting bindings', async () => {
    const { c, creds, peerAddr } = await setup()
    for (const n of [0x3fff, 0x8000, 0xffff]) {
      expect(errorCode(await c.authed(StunMethod.ChannelBind, [ch(n), peerAddr], creds))).toBe(400)
    }
    expect(errorCode(await c.authed(StunMethod.ChannelBind, [peerAddr], creds))).toBe(400)
    await c.authed(StunMethod.ChannelBind, [ch(0x4002), peerAddr], creds)
    const otherPeer: StunAttribute = {
      name: 'XOR-PEER-ADDRESS',
      value: { family: 'IPv4', address: '127.0.0.1', port: 9 },
    }
    expect(errorCode(await c.authed(StunMethod.ChannelBind, [ch(0x4002), otherPeer], creds))).toBe(
      400,
    )
    expect(errorCode(await c.authed(StunMethod.ChannelBind, [ch(0x4003), peerAddr], creds))).toBe(
      400,
    )
  })

  it('expires channels after 600 s; data then arrives as Data indications if permitted', async () => {
    const { clock, c, creds, p, peerAddr, fromPeer } = await setup()
    await c.authed(StunMethod.ChannelBind, [ch(0x4004), peerAddr], creds)
    clock.now += 290_000
    await c.authed(StunMethod.CreatePermission, [peerAddr], creds) // permission until 590 s
    clock.now += 250_000
    await c.authed(StunMethod.CreatePermission, [peerAddr], creds)
    await c.authed(StunMethod.Refresh, [], creds)
    clock.now += 70_000 // 610 s after the bind
    c.sendRaw(encodeChannelData(0x4004, enc.encode('stale channel')))
    await quiet()
    expect(p.received).toBe(0)
    fromPeer('x')
    expect(decodeStun(await c.next()).method).toBe(StunMethod.Data)
  })
})

describe('Refresh and allocation lifetime (RFC 8656 §7, §8)', () => {
  it('deletes on LIFETIME 0, then answers 437', async () => {
    const { server, c, creds } = await setup()
    const r = await c.authed(StunMethod.Refresh, [{ name: 'LIFETIME', value: 1200 }], creds)
    expect(attr(r, 'LIFETIME')).toBe(1200)
    const del = await c.authed(StunMethod.Refresh, [{ name: 'LIFETIME', value: 0 }], creds)
    expect(attr(del, 'LIFETIME')).toBe(0)
    expect(server.stats().allocations).toBe(0)
    expect(errorCode(await c.authed(StunMethod.Refresh, [], creds))).toBe(437)
  })

  it('expires the allocation at the end of its lifetime', async () => {
    const { server, clock, c, creds } = await setup()
    clock.now += 601_000
    server.sweep()
    expect(server.stats().allocations).toBe(0)
    expect(errorCode(await c.authed(StunMethod.Refresh, [], creds))).toBe(437)
    // The relay port is free again: a new allocation works.
    expect((await c.authed(StunMethod.Allocate, UDP, creds)).class).toBe('success')
  })
})

describe('hostile input and limits', () => {
  it('ignores malformed datagrams and keeps answering', async () => {
    const { server, c } = await setup()
    const good = encodeStun(
      {
        method: StunMethod.Binding,
        class: 'request',
        transactionId: new Uint8Array(12),
        attributes: [],
      },
      { fingerprint: true },
    )
    const badFp = good.slice()
    badFp[badFp.length - 1]! ^= 1
    const badLen = good.slice()
    badLen[3] = 0xff
    const garbage = [new Uint8Array([1, 2, 3]), new Uint8Array(100).fill(0x80), badFp, badLen]
    garbage.push(good.slice(0, 24), new Uint8Array([0x40, 0x01, 0xff, 0xff, 1]))
    for (const g of garbage) c.sendRaw(g)
    await quiet()
    expect(c.inbox).toHaveLength(0)
    expect(server.stats().malformed).toBeGreaterThanOrEqual(4)
    expect((await c.request(StunMethod.Binding, [])).class).toBe('success')
    // An unknown method gets 400 (RFC 8489 §6.3.1).
    expect(errorCode(await c.request(0x0ff, []))).toBe(400)
  })

  it('rate-limits requests per source address (token bucket)', async () => {
    const { server, c } = await setup({ rateLimit: { ratePerS: 0.001, burst: 3 } })
    // The Allocate dance in setup used 2 tokens; one is left.
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => c.request(StunMethod.Binding, [], { timeoutMs: 300 })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(server.stats().rateLimited).toBe(2)
  })
})

describe('NonceIssuer', () => {
  it('accepts its own fresh nonces and calls the rest stale', () => {
    const n = new NonceIssuer(60_000)
    const now = Date.now()
    for (let i = 0; i < 200; i++) expect(n.check(n.issue(now + i), now)).toBe('ok')
    const nonce = n.issue(now)
    expect(n.check(nonce, now + 60_000)).toBe('stale')
    expect(new NonceIssuer(60_000).check(nonce, now)).toBe('stale')
    for (const bad of ['', '-', 'zz-abc', `${nonce}x`, nonce.replace(/^./, '0')]) {
      expect(n.check(bad, now)).toBe('stale')
    }
  })
})
