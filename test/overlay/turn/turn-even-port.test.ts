/**
 * EVEN-PORT and RESERVATION-TOKEN (RFC 8656 §7.2, §18.7, §18.10; RFC 5766 §6.2, §14.6, §14.9):
 * the attribute rules (planPort), the even pair binding (bindEvenPair), the reservation table
 * and the server's Allocate with them, on a fake clock for the 30 s reservation lifetime.
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { RelayPortsExhaustedError, tryBind } from '../../../src/overlay/turn/allocation.js'
import { bindEvenPair, planPort } from '../../../src/overlay/turn/even-port.js'
import {
  RESERVATION_LIFETIME_MS,
  ReservationTable,
} from '../../../src/overlay/turn/relay-reservations.js'
import { StunMethod, decodeStun, encodeStun } from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const SECRET = 'even-port-secret'
const UDP: StunAttribute = { name: 'REQUESTED-TRANSPORT', value: 17 }
const EVEN: StunAttribute = { name: 'EVEN-PORT', value: false }
const EVEN_R: StunAttribute = { name: 'EVEN-PORT', value: true }
const token = (value: Uint8Array): StunAttribute => ({ name: 'RESERVATION-TOKEN', value })
const IPV4: StunAttribute = { name: 'REQUESTED-ADDRESS-FAMILY', value: 'IPv4' }
const DUAL: StunAttribute = { name: 'ADDITIONAL-ADDRESS-FAMILY', value: 'IPv6' }
/** Relay ports of these tests: inside this suite's own port block, away from other tests. */
const RELAYS: [number, number] = [36700, 36799]

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A port is bound by someone when binding it ourselves fails. */
async function isBound(port: number): Promise<boolean> {
  const s = await tryBind('127.0.0.1', port, 'IPv4')
  s?.close()
  return s === undefined
}

async function hold(port: number): Promise<Socket> {
  const s = await tryBind('127.0.0.1', port, 'IPv4')
  if (!s) throw new Error(`port ${port} is taken`)
  cleanup.push(() => s.close())
  return s
}

const allocate = (attributes: StunAttribute[]) =>
  decodeStun(
    encodeStun({
      method: StunMethod.Allocate,
      class: 'request',
      transactionId: new Uint8Array(12).fill(7),
      attributes: [UDP, ...attributes],
    }),
  )

describe('planPort (RFC 8656 §7.2)', () => {
  it('reads EVEN-PORT and its R bit, and RESERVATION-TOKEN', () => {
    expect(planPort(allocate([]))).toEqual({ even: false, reserve: false })
    expect(planPort(allocate([EVEN]))).toEqual({ even: true, reserve: false })
    expect(planPort(allocate([EVEN_R]))).toEqual({ even: true, reserve: true })
    expect(planPort(allocate([EVEN, DUAL]))).toEqual({ even: true, reserve: false })
    const t = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
    expect(planPort(allocate([token(t)]))).toEqual({ token: t })
  })

  it('refuses a token with EVEN-PORT or a family attribute, and R with a dual allocation', () => {
    const t = token(new Uint8Array(8))
    for (const attrs of [
      [t, EVEN],
      [t, EVEN_R],
      [t, IPV4],
      [t, DUAL],
      [EVEN_R, DUAL],
    ]) {
      expect(planPort(allocate(attrs))).toEqual({ code: 400 })
    }
  })
})

describe('bindEvenPair', () => {
  it('binds an even port N and N+1', async () => {
    const pair = await bindEvenPair('127.0.0.1', [36600, 36609], new Set(), 'IPv4')
    cleanup.push(
      () => pair.even.socket.close(),
      () => pair.next.socket.close(),
    )
    expect(pair.even.port % 2).toBe(0)
    expect(pair.next.port).toBe(pair.even.port + 1)
    expect(pair.even.socket.address().port).toBe(pair.even.port)
    expect(pair.next.socket.address().port).toBe(pair.next.port)
  })

  it('skips pairs whose N+1 is taken or in use, and starts at the first even port', async () => {
    await hold(36611)
    const pair = await bindEvenPair('127.0.0.1', [36611, 36615], new Set([36615]), 'IPv4')
    cleanup.push(
      () => pair.even.socket.close(),
      () => pair.next.socket.close(),
    )
    expect([pair.even.port, pair.next.port]).toEqual([36612, 36613])
  })

  it('throws RelayPortsExhaustedError without a free pair, and leaves N unbound', async () => {
    await hold(36621)
    await expect(bindEvenPair('127.0.0.1', [36620, 36621], new Set(), 'IPv4')).rejects.toThrow(
      RelayPortsExhaustedError,
    )
    expect(await isBound(36620)).toBe(false)
    // A range with no even port that has N+1 in it.
    await expect(bindEvenPair('127.0.0.1', [36623, 36624], new Set(), 'IPv4')).rejects.toThrow(
      RelayPortsExhaustedError,
    )
  })
})

describe('ReservationTable', () => {
  const endpoint = async (port: number) => ({
    family: 'IPv4' as const,
    port,
    socket: (await tryBind('127.0.0.1', port, 'IPv4'))!,
  })

  it('hands a reservation out once, for its 8-byte token only', async () => {
    const table = new ReservationTable()
    cleanup.push(() => table.closeAll())
    const e = await endpoint(36631)
    const t = table.add(e, 'alice', 0)
    expect(t).toHaveLength(8)
    expect(table.ports()).toEqual([36631])
    expect(table.countFor('alice', 0)).toBe(1)
    expect(table.countFor('bob', 0)).toBe(0)
    expect(table.take(t.subarray(0, 7), 0)).toBeUndefined()
    expect(table.take(new Uint8Array(8), 0)).toBeUndefined()
    expect(table.take(t, RESERVATION_LIFETIME_MS - 1)?.endpoint).toBe(e)
    expect(table.take(t, 0)).toBeUndefined()
    expect(table.size).toBe(0)
    e.socket.close()
  })

  it('expires reservations after 30 s and frees their ports', async () => {
    const table = new ReservationTable()
    cleanup.push(() => table.closeAll())
    const late = table.add(await endpoint(36633), 'alice', 0)
    table.add(await endpoint(36635), 'alice', 10_000)
    expect(table.take(late, RESERVATION_LIFETIME_MS)).toBeUndefined()
    expect(await isBound(36633)).toBe(false)
    expect(table.countFor('alice', RESERVATION_LIFETIME_MS)).toBe(1)
    table.sweep(10_000 + RESERVATION_LIFETIME_MS)
    expect(table.size).toBe(0)
    expect(await isBound(36635)).toBe(false)
  })
})

describe('Allocate with EVEN-PORT and RESERVATION-TOKEN', () => {
  const clock = { now: Date.now() }
  const creds = issueTurnCredentials(SECRET, 'alice', 3600)

  async function start(opts: Partial<TurnServerOptions> = {}) {
    clock.now = Date.now()
    const server = new TurnServer({
      secret: SECRET,
      allowLoopback: true,
      relayPortRange: RELAYS,
      now: () => clock.now,
      ...opts,
    })
    const { port } = await server.listen()
    cleanup.push(() => server.close())
    return { server, port }
  }
  async function client(port: number) {
    const c = await TestClient.open(port)
    cleanup.push(() => c.close())
    return c
  }
  const relayPort = (r: Parameters<typeof attr>[0]) =>
    attr<StunAddress>(r, 'XOR-RELAYED-ADDRESS')!.port

  it('gives an even port for EVEN-PORT without the R bit, and no token', async () => {
    const { port } = await start()
    const r = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN], creds)
    expect(r.class).toBe('success')
    expect(relayPort(r) % 2).toBe(0)
    expect(attr(r, 'RESERVATION-TOKEN')).toBeUndefined()
  })

  it('reserves N+1 with the R bit; the Allocate with the token gets it, once', async () => {
    const { port } = await start()
    const first = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN_R], creds)
    const n = relayPort(first)
    expect(n % 2).toBe(0)
    const t = attr<Uint8Array>(first, 'RESERVATION-TOKEN')!
    expect(t).toHaveLength(8)
    // The reserved port is held: nobody else can bind it meanwhile.
    expect(await isBound(n + 1)).toBe(true)
    const second = await (await client(port)).authed(StunMethod.Allocate, [UDP, token(t)], creds)
    expect(second.class).toBe('success')
    expect(relayPort(second)).toBe(n + 1)
    // RFC 8656 §7.2: a token that is no longer valid gets 508.
    const third = await (await client(port)).authed(StunMethod.Allocate, [UDP, token(t)], creds)
    expect(errorCode(third)).toBe(508)
  })

  it('relays through the reserved port like any other relay', async () => {
    const { port } = await start()
    const first = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN_R], creds)
    const t = attr<Uint8Array>(first, 'RESERVATION-TOKEN')!
    const c = await client(port)
    await c.authed(StunMethod.Allocate, [UDP, token(t)], creds)
    const peer = createSocket('udp4')
    cleanup.push(() => peer.close())
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve))
    const peerAddr: StunAttribute = {
      name: 'XOR-PEER-ADDRESS',
      value: { family: 'IPv4', address: '127.0.0.1', port: peer.address().port },
    }
    await c.authed(StunMethod.CreatePermission, [peerAddr], creds)
    const got = new Promise<number>((resolve) => peer.once('message', (_m, r) => resolve(r.port)))
    c.indication(StunMethod.Send, [peerAddr, { name: 'DATA', value: Uint8Array.of(1, 2, 3) }])
    expect(await got).toBe(relayPort(first) + 1)
  })

  it('answers a retransmitted R-bit Allocate with the same token', async () => {
    const { port } = await start()
    const c = await client(port)
    const tid = new Uint8Array(12).fill(9)
    const a = await c.authed(StunMethod.Allocate, [UDP, EVEN_R], creds, tid)
    const b = await c.authed(StunMethod.Allocate, [UDP, EVEN_R], creds, tid)
    expect(attr(b, 'RESERVATION-TOKEN')).toEqual(attr(a, 'RESERVATION-TOKEN'))
    expect(relayPort(b)).toBe(relayPort(a))
  })

  it('answers 400 to a token with EVEN-PORT or REQUESTED-ADDRESS-FAMILY, 508 to an unknown one', async () => {
    const { port } = await start()
    const first = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN_R], creds)
    const t = token(attr<Uint8Array>(first, 'RESERVATION-TOKEN')!)
    const c = await client(port)
    expect(errorCode(await c.authed(StunMethod.Allocate, [UDP, t, EVEN], creds))).toBe(400)
    expect(errorCode(await c.authed(StunMethod.Allocate, [UDP, t, IPV4], creds))).toBe(400)
    expect(errorCode(await c.authed(StunMethod.Allocate, [UDP, EVEN_R, DUAL], creds))).toBe(400)
    const unknown = token(Uint8Array.of(1, 1, 2, 3, 5, 8, 13, 21))
    expect(errorCode(await c.authed(StunMethod.Allocate, [UDP, unknown], creds))).toBe(508)
    // The refused requests left the reservation alone.
    expect((await c.authed(StunMethod.Allocate, [UDP, t], creds)).class).toBe('success')
  })

  it('releases a reservation after 30 s (fake clock)', async () => {
    const { server, port } = await start()
    const first = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN_R], creds)
    const t = token(attr<Uint8Array>(first, 'RESERVATION-TOKEN')!)
    clock.now += RESERVATION_LIFETIME_MS
    server.sweep()
    expect(await isBound(relayPort(first) + 1)).toBe(false)
    expect(errorCode(await (await client(port)).authed(StunMethod.Allocate, [UDP, t], creds))).toBe(
      508,
    )
  })

  it("bounds each user's reservations by the allocation quota (508 beyond)", async () => {
    const { port } = await start({ maxAllocationsPerUser: 1 })
    const c = await client(port)
    expect((await c.authed(StunMethod.Allocate, [UDP, EVEN_R], creds)).class).toBe('success')
    await c.authed(StunMethod.Refresh, [{ name: 'LIFETIME', value: 0 }], creds)
    const again = await client(port)
    expect(errorCode(await again.authed(StunMethod.Allocate, [UDP, EVEN_R], creds))).toBe(508)
    expect((await again.authed(StunMethod.Allocate, [UDP, EVEN], creds)).class).toBe('success')
  })

  it('answers 508 when the relay range has no free even pair', async () => {
    const { port } = await start({ relayPortRange: [36790, 36791] })
    await hold(36791)
    const r = await (await client(port)).authed(StunMethod.Allocate, [UDP, EVEN_R], creds)
    expect(errorCode(r)).toBe(508)
  })
})
