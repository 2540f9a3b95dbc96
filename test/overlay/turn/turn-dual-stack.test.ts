/**
 * A dual-stack TURN server (turn-listener.ts, TurnServerOptions.listen6): clients reach it over
 * IPv4 and IPv6 on one port, UDP and TCP, and the family a client arrives on does not limit what
 * it relays (RFC 8656 §3). An IPv6-only client that asks for nothing gets an IPv4 relayed address
 * (REQUESTED-ADDRESS-FAMILY absent means IPv4, §7.2), which is what Chromium does, and the server
 * translates between its IPv6 client and IPv4 peers. An IPv6 listener that cannot be bound leaves
 * the IPv4 one serving, and says why. Everything lives on 127.0.0.1 and ::1.
 */
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import {
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeChannelData,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TcpTestClient } from './turn-tcp-test-client.js'
import { TestClient, attr } from './turn-test-client.js'

const SECRET = 'dual-stack-secret'
const UDP: StunAttribute = { name: 'REQUESTED-TRANSPORT', value: 17 }
const V6: StunAttribute = { name: 'REQUESTED-ADDRESS-FAMILY', value: 'IPv6' }
const enc = new TextEncoder()
const dec = new TextDecoder()
const creds = issueTurnCredentials(SECRET, 'alice', 600)

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A server on 127.0.0.1 that also listens on ::1 (and relays IPv6 there), loopback allowed. */
async function start(opts: Partial<TurnServerOptions> = {}) {
  const server = new TurnServer({
    secret: SECRET,
    host: '127.0.0.1',
    listen6: '::1',
    host6: '::1',
    allowLoopback: true,
    ...opts,
  })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port }
}

/** A UDP peer on `host` that queues what it receives. */
async function peer(host: string) {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  cleanup.push(() => socket.close())
  const queue: { data: string; address: string; port: number }[] = []
  socket.on('message', (b, r) => queue.push({ data: dec.decode(b), ...r }))
  return {
    port: socket.address().port,
    async next() {
      for (let i = 0; i < 40 && queue.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      const m = queue.shift()
      if (!m) throw new Error('peer received nothing')
      return m
    },
    send: (s: string, to: StunAddress) => socket.send(enc.encode(s), to.port, to.address),
  }
}

const relayedOf = (m: { attributes: StunAttribute[] }) =>
  m.attributes.flatMap((a) => (a.name === 'XOR-RELAYED-ADDRESS' ? [a.value] : []))

describe('a dual-stack TURN server (0.0.0.0 and :: in production; 127.0.0.1 and ::1 here)', () => {
  it('listens on both families on one port, UDP and TCP', async () => {
    const { server, port } = await start()
    expect(server.listening()).toEqual(['127.0.0.1', '::1'])
    expect(server.listen6Error()).toBeUndefined()
    for (const host of ['127.0.0.1', '::1']) {
      const c = await TestClient.open(port, host)
      cleanup.push(() => c.close())
      const binding = await c.request(StunMethod.Binding, [])
      // RFC 8489 §14.2: the mapped address is the client's own, in its own family.
      expect(attr(binding, 'XOR-MAPPED-ADDRESS')).toEqual({
        family: host === '::1' ? 'IPv6' : 'IPv4',
        address: host,
        port: c.port,
      })
      const t = await TcpTestClient.open(port, host)
      cleanup.push(() => t.close())
      expect((await t.authed(StunMethod.Allocate, [UDP], creds)).class).toBe('success')
    }
  })

  it('gives an IPv6 client an IPv4 relayed address by default and translates both ways (Send/Data, ChannelData)', async () => {
    const { server, port } = await start()
    const c = await TestClient.open(port, '::1')
    cleanup.push(() => c.close())
    const r = await c.authed(StunMethod.Allocate, [UDP], creds)
    expect(r.class).toBe('success')
    const [relayed] = relayedOf(r) as [StunAddress]
    expect(relayed).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
    expect(attr(r, 'XOR-MAPPED-ADDRESS')).toEqual({ family: 'IPv6', address: '::1', port: c.port })

    const p = await peer('127.0.0.1')
    const to: StunAttribute = {
      name: 'XOR-PEER-ADDRESS',
      value: { family: 'IPv4', address: '127.0.0.1', port: p.port },
    }
    expect((await c.authed(StunMethod.CreatePermission, [to], creds)).class).toBe('success')
    c.indication(StunMethod.Send, [to, { name: 'DATA', value: enc.encode('six to four') }])
    expect(await p.next()).toMatchObject({ data: 'six to four', port: relayed.port })
    p.send('four to six', relayed)
    const ind = decodeStun(await c.next())
    expect(ind).toMatchObject({ method: StunMethod.Data, class: 'indication' })
    expect(dec.decode(attr<Uint8Array>(ind, 'DATA'))).toBe('four to six')

    const bind = [to, { name: 'CHANNEL-NUMBER', value: 0x4002 } as StunAttribute]
    expect((await c.authed(StunMethod.ChannelBind, bind, creds)).class).toBe('success')
    c.sendRaw(encodeChannelData(0x4002, enc.encode('channel six to four')))
    expect((await p.next()).data).toBe('channel six to four')
    p.send('channel four to six', relayed)
    expect(dec.decode(decodeChannelData(await c.next()).data)).toBe('channel four to six')
    expect(server.stats()).toMatchObject({ packetsToPeers: 2, packetsToClients: 2 })
  })

  it('gives either client an IPv6 relayed address when it asks (REQUESTED-ADDRESS-FAMILY)', async () => {
    const { port } = await start()
    for (const host of ['127.0.0.1', '::1']) {
      const c = await TestClient.open(port, host)
      cleanup.push(() => c.close())
      const r = await c.authed(StunMethod.Allocate, [UDP, V6], creds)
      expect(relayedOf(r), host).toMatchObject([{ family: 'IPv6', address: '::1' }])
    }
  })

  it('serves IPv4 alone, saying why, when the IPv6 address cannot be bound', async () => {
    // 2001:db8::99 is on no interface of this host.
    const absent = await start({ listen6: '2001:db8::99' })
    expect(absent.server.listening()).toEqual(['127.0.0.1'])
    expect(absent.server.listen6Error()).toMatch(/^2001:db8::99: .*EADDRNOTAVAIL/)
    const c = await TestClient.open(absent.port, '127.0.0.1')
    cleanup.push(() => c.close())
    expect((await c.authed(StunMethod.Allocate, [UDP], creds)).class).toBe('success')

    // A fixed port whose IPv6 side someone else holds: the IPv4 side still serves.
    const squatter = createServer()
    await new Promise<void>((resolve) => squatter.listen({ port: 0, host: '::1' }, resolve))
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)))
    const taken = (squatter.address() as { port: number }).port
    const fixed = await start({ port: taken }).catch((err: unknown) => {
      // The IPv4 side of that port number may be taken too (another process): nothing to test.
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined
      throw err
    })
    if (fixed != null) {
      expect(fixed.server.listening()).toEqual(['127.0.0.1'])
      expect(fixed.server.listen6Error()).toMatch(/EADDRINUSE/)
    }
  })

  it('closes both listeners', async () => {
    const { server, port } = await start()
    await server.close()
    expect(server.listening()).toEqual([])
    const c = await TestClient.open(port, '::1')
    cleanup.push(() => c.close())
    await expect(c.request(StunMethod.Binding, [], { timeoutMs: 300 })).rejects.toThrow(
      'no response',
    )
  })
})
