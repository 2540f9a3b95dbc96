/**
 * Relay limits (relay-limits.ts): per-allocation packets/s and bytes/s in each direction, the
 * server-wide bandwidth cap and the cap on concurrent allocations, changed at runtime with
 * setCaps (0 = no relaying, 508 to new Allocates), and the counters in stats(). The server runs
 * on a fake clock that stands still, so no bucket refills during a flood and the counts are
 * exact.
 */
import { createSocket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import {
  DEFAULT_RELAY_CAPS,
  ServerCaps,
  TokenBucket,
  allocationLimits,
  allocationLimitsForKbps,
} from '../../../src/overlay/turn/relay-limits.js'
import { StunMethod, encodeChannelData } from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const SECRET = 'limits-secret'
const UDP: StunAttribute[] = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A UDP peer that counts what it receives. */
async function peer() {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  cleanup.push(() => socket.close())
  const p = { socket, port: socket.address().port, received: 0, bytes: 0 }
  socket.on('message', (b) => {
    p.received++
    p.bytes += b.length
  })
  return p
}

async function startServer(opts: Partial<TurnServerOptions> = {}) {
  const clock = { now: Date.now() }
  const server = new TurnServer({
    secret: SECRET,
    allowLoopback: true,
    now: () => clock.now,
    ...opts,
  })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port, clock }
}

/** A client with an allocation and channel 0x4000 bound to a fresh peer. */
async function relayed(port: number, peerId: string, now: number) {
  const c = await TestClient.open(port)
  cleanup.push(() => c.close())
  const creds = issueTurnCredentials(SECRET, peerId, 7200, now)
  const alloc = await c.authed(StunMethod.Allocate, UDP, creds)
  expect(alloc.class).toBe('success')
  const relay = attr<StunAddress>(alloc, 'XOR-RELAYED-ADDRESS')!
  const p = await peer()
  const peerAddr: StunAttribute = {
    name: 'XOR-PEER-ADDRESS',
    value: { family: 'IPv4', address: '127.0.0.1', port: p.port },
  }
  const bound = await c.authed(
    StunMethod.ChannelBind,
    [{ name: 'CHANNEL-NUMBER', value: 0x4000 }, peerAddr],
    creds,
  )
  expect(bound.class).toBe('success')
  const frames = (n: number, size: number) => {
    for (let i = 0; i < n; i++) c.sendRaw(encodeChannelData(0x4000, new Uint8Array(size)))
  }
  const fromPeer = (n: number, size: number) => {
    for (let i = 0; i < n; i++) p.socket.send(new Uint8Array(size), relay.port, '127.0.0.1')
  }
  return { c, creds, p, peerAddr, frames, fromPeer }
}

/** Wait until `f()` holds (UDP on loopback: milliseconds), then a little longer for stragglers. */
async function settle(f: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!f() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 150))
}

describe('TokenBucket and caps', () => {
  it('refills at its rate up to its burst, and keeps saved tokens on reset', () => {
    const b = new TokenBucket(10, 5, 0)
    for (let i = 0; i < 5; i++) expect(b.take(1, 0)).toBe(true)
    expect(b.take(1, 0)).toBe(false)
    expect(b.take(1, 100)).toBe(true) // 100 ms at 10/s = 1 token
    expect(b.take(1, 100)).toBe(false)
    expect(b.take(5, 10_000)).toBe(true) // capped at the burst, not 99 tokens
    expect(b.take(1, 10_000)).toBe(false)
    b.reset(1000, 2)
    expect(b.take(2, 10_002)).toBe(true)
    expect(b.take(1, 10_002)).toBe(false)
  })

  it('refuses negative or NaN caps and limits', () => {
    const caps = new ServerCaps({}, 0)
    expect(() => caps.set({ relayKbps: -1 })).toThrow(InvalidInputError)
    expect(() => caps.set({ maxAllocations: Number.NaN })).toThrow(InvalidInputError)
    expect(() => allocationLimits({ packetsPerS: 0 })).toThrow(InvalidInputError)
    expect(caps.get()).toEqual(DEFAULT_RELAY_CAPS)
  })

  it('has defaults that leave 1000 Opus streams (172 B every 20 ms each way) untouched', () => {
    const opusBytesPerS = (172 * 1000) / 20
    expect(DEFAULT_RELAY_CAPS.maxAllocations).toBeGreaterThanOrEqual(1000)
    expect((DEFAULT_RELAY_CAPS.relayKbps * 1000) / 8).toBeGreaterThan(1000 * 2 * opusBytesPerS)
    const perAllocation = allocationLimits()
    expect(perAllocation.packetsPerS).toBeGreaterThanOrEqual(50)
    expect(perAllocation.bytesPerS).toBeGreaterThanOrEqual(opusBytesPerS)
  })
})

describe('per-allocation limits', () => {
  it('drops a ChannelData flood above its packet rate and counts it; another stream is unaffected', async () => {
    const { server, port, clock } = await startServer({ allocationLimits: { packetsPerS: 50 } })
    const flood = await relayed(port, 'flooder', clock.now)
    const calm = await relayed(port, 'calm', clock.now)
    flood.frames(300, 172)
    calm.frames(40, 172)
    await settle(() => flood.p.received >= 50 && calm.p.received >= 40)
    expect(flood.p.received).toBe(50) // burst = 1 s of rate; the clock stands still
    expect(calm.p.received).toBe(40)
    const s = server.stats()
    expect(s.droppedPacketRate).toBe(250)
    expect(s.packetsDropped).toBe(250)
    expect(s.packetsToPeers).toBe(90)
    // One second later the bucket is full again.
    clock.now += 1000
    flood.frames(10, 172)
    await settle(() => flood.p.received >= 60)
    expect(flood.p.received).toBe(60)
  })

  it('applies the packet rate to Send indications too', async () => {
    const { server, port, clock } = await startServer({ allocationLimits: { packetsPerS: 20 } })
    const r = await relayed(port, 'sender', clock.now)
    for (let i = 0; i < 50; i++) {
      r.c.indication(StunMethod.Send, [r.peerAddr, { name: 'DATA', value: new Uint8Array(100) }])
    }
    await settle(() => r.p.received >= 20)
    expect(r.p.received).toBe(20)
    expect(server.stats().droppedPacketRate).toBe(30)
  })

  it('caps bytes/s in both directions', async () => {
    const { server, port, clock } = await startServer({ allocationLimits: { bytesPerS: 10_000 } })
    const r = await relayed(port, 'bulk', clock.now)
    r.frames(50, 500)
    await settle(() => r.p.received >= 20)
    expect(r.p.received).toBe(20) // 10,000 bytes of burst / 500
    r.fromPeer(50, 500)
    await settle(() => r.c.inbox.length >= 20)
    expect(r.c.inbox).toHaveLength(20)
    const s = server.stats()
    expect(s.droppedAllocationBandwidth).toBe(60)
    expect(s.bytesToPeers).toBe(10_000)
    expect(s.bytesToClients).toBe(10_000)
    expect(s.bytesRelayed).toBe(20_000)
    expect(s.packetsRelayed).toBe(40)
  })

  it('lets an Opus-rate stream through the defaults without a drop', async () => {
    const { server, port, clock } = await startServer()
    const r = await relayed(port, 'opus', clock.now)
    // 10 s of a call: a 172-byte frame every 20 ms each way.
    for (let i = 0; i < 500; i++) {
      clock.now += 20
      r.frames(1, 172)
      r.fromPeer(1, 172)
      if (i % 50 === 49) await new Promise((res) => setTimeout(res, 10))
    }
    await settle(() => r.p.received >= 500 && r.c.inbox.length >= 500)
    expect(r.p.received).toBe(500)
    expect(r.c.inbox).toHaveLength(500)
    expect(server.stats().packetsDropped).toBe(0)
  })
})

describe('server-wide caps at runtime (setCaps)', () => {
  it('caps the total bandwidth across allocations and follows changes', async () => {
    const { server, port, clock } = await startServer()
    const a = await relayed(port, 'a', clock.now)
    const b = await relayed(port, 'b', clock.now)
    server.setCaps({ relayKbps: 80 }) // 10,000 bytes/s, burst one second
    expect(server.caps().relayKbps).toBe(80)
    a.frames(15, 500)
    b.frames(15, 500)
    await settle(() => a.p.received + b.p.received >= 20)
    expect(a.p.received + b.p.received).toBe(20)
    expect(server.stats().droppedServerBandwidth).toBe(10)
    server.setCaps({ relayKbps: 100_000 })
    clock.now += 1000
    a.frames(15, 500)
    await settle(() => a.p.received + b.p.received >= 35)
    expect(a.p.received + b.p.received).toBe(35)
    expect(server.stats().droppedServerBandwidth).toBe(10)
  })

  it('relayKbps 0 drops every packet and refuses new Allocates with 508', async () => {
    const { server, port, clock } = await startServer()
    const r = await relayed(port, 'caller', clock.now)
    server.setCaps({ relayKbps: 0 })
    r.frames(5, 172)
    r.fromPeer(5, 172)
    await settle(() => server.stats().packetsDropped >= 10)
    expect(r.p.received).toBe(0)
    expect(r.c.inbox).toHaveLength(0)
    expect(server.stats().droppedRelayOff).toBe(10)
    const other = await TestClient.open(port)
    cleanup.push(() => other.close())
    const refused = await other.authed(
      StunMethod.Allocate,
      UDP,
      issueTurnCredentials(SECRET, 'late', 600, clock.now),
    )
    expect(errorCode(refused)).toBe(508)
    expect(server.stats().allocationsRefused).toBe(1)
    // The allocation in progress lives on (Refresh works) and relays again once the cap rises.
    expect((await r.c.authed(StunMethod.Refresh, [], r.creds)).class).toBe('success')
    server.setCaps({ relayKbps: 1000 })
    clock.now += 1000
    r.frames(3, 172)
    await settle(() => r.p.received >= 3)
    expect(r.p.received).toBe(3)
  })

  it('maxAllocations caps concurrent allocations (508), 0 admits none, raising it admits again', async () => {
    const { server, port, clock } = await startServer({ caps: { maxAllocations: 1 } })
    await relayed(port, 'first', clock.now)
    const c = await TestClient.open(port)
    cleanup.push(() => c.close())
    const creds = issueTurnCredentials(SECRET, 'second', 600, clock.now)
    expect(errorCode(await c.authed(StunMethod.Allocate, UDP, creds))).toBe(508)
    server.setCaps({ maxAllocations: 0 })
    expect(errorCode(await c.authed(StunMethod.Allocate, UDP, creds))).toBe(508)
    expect(server.stats()).toMatchObject({ allocations: 1, allocationsRefused: 2 })
    server.setCaps({ maxAllocations: 2 })
    expect((await c.authed(StunMethod.Allocate, UDP, creds)).class).toBe('success')
    expect(server.stats().allocations).toBe(2)
  })

  it('rejects bad caps without changing the current ones', async () => {
    const { server } = await startServer({ caps: { relayKbps: 5000 } })
    expect(() => server.setCaps({ relayKbps: -5 })).toThrow(InvalidInputError)
    expect(server.caps()).toEqual({ relayKbps: 5000, maxAllocations: 5000 })
  })
})

describe('stats()', () => {
  it('counts distinct peers served by the peer ID in their usernames', async () => {
    const { server, port, clock } = await startServer()
    await relayed(port, 'alice', clock.now)
    await relayed(port, 'alice', clock.now) // a second device or call of the same peer
    await relayed(port, 'bob', clock.now)
    expect(server.stats()).toMatchObject({ allocations: 3, allocationsTotal: 3, peersServed: 2 })
  })

  it('counts packets without a channel or permission as dropped, not relayed', async () => {
    const { server, port, clock } = await startServer()
    const r = await relayed(port, 'nobody', clock.now)
    r.c.sendRaw(encodeChannelData(0x4001, new Uint8Array(10))) // channel never bound
    await settle(() => server.stats().droppedNoPermission >= 1)
    expect(server.stats()).toMatchObject({ droppedNoPermission: 1, packetsRelayed: 0 })
    expect(Object.values(server.stats()).every((v) => typeof v === 'number')).toBe(true)
  })
})

describe('--turn-allocation-kbps', () => {
  it('sets bytes/s at the rate and packets/s so full-size datagrams meet the byte limit first', () => {
    // The default, 4 Mbit/s: 500 kB/s and 500 packets/s.
    expect(allocationLimitsForKbps(4000)).toEqual(allocationLimits())
    // A file through TURN at 80 Mbit/s: 10 MB/s, 10,000 packets/s (1,200-byte packets need 8,334).
    expect(allocationLimitsForKbps(80_000)).toEqual({
      bytesPerS: 10_000_000,
      packetsPerS: 10_000,
      burstS: 1,
    })
    // Below the default rate the packet limit stays at the default.
    expect(allocationLimitsForKbps(100).packetsPerS).toBe(500)
  })
})
