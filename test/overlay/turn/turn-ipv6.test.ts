/**
 * IPv6 relaying (RFC 8656 §7.2): REQUESTED-ADDRESS-FAMILY=IPv6, dual allocations with
 * ADDITIONAL-ADDRESS-FAMILY, XOR-RELAYED-ADDRESS per family, 440 only when the server has no
 * address of the family (ADDRESS-ERROR-CODE for the IPv6 half of a dual allocation), 443 for a
 * peer of a family the allocation has none of (§8.2, §10.2, §12.2), Send/Data and ChannelData
 * over IPv6, the peer policy on IPv6 peers, and coturn's turnutils_uclient with -x. Everything
 * lives on 127.0.0.1 and ::1.
 */
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { planFamilies, relayHosts } from '../../../src/overlay/turn/relay-families.js'
import { ipv6RelayHost } from '../../../src/overlay/turn/turn-service.js'
import {
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeChannelData,
  encodeStun,
} from '../../../src/overlay/turn/stun-message.js'
import type {
  AddressFamily,
  DecodedStunMessage,
  StunAddress,
  StunAttribute,
} from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const run = promisify(execFile)
const SECRET = 'ipv6-secret'
const UDP: StunAttribute = { name: 'REQUESTED-TRANSPORT', value: 17 }
const V6: StunAttribute = { name: 'REQUESTED-ADDRESS-FAMILY', value: 'IPv6' }
const DUAL: StunAttribute = { name: 'ADDITIONAL-ADDRESS-FAMILY', value: 'IPv6' }
const enc = new TextEncoder()
const dec = new TextDecoder()

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const relayedOf = (m: DecodedStunMessage) =>
  m.attributes.flatMap((a) => (a.name === 'XOR-RELAYED-ADDRESS' ? [a.value] : []))
const peerAttr = (family: AddressFamily, address: string, port: number): StunAttribute => ({
  name: 'XOR-PEER-ADDRESS',
  value: { family, address, port },
})
const ch = (n: number): StunAttribute => ({ name: 'CHANNEL-NUMBER', value: n })
const quiet = () => new Promise((r) => setTimeout(r, 150))

/** A UDP peer on ::1 (or 127.0.0.1) that queues what it receives. */
async function peer(host = '::1') {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  cleanup.push(() => socket.close())
  const queue: { data: string; address: string; port: number }[] = []
  socket.on('message', (b, r) => queue.push({ data: dec.decode(b), ...r }))
  return {
    socket,
    host,
    port: socket.address().port,
    queue,
    async next() {
      for (let i = 0; i < 40 && queue.length === 0; i++) await new Promise((r) => setTimeout(r, 50))
      const m = queue.shift()
      if (!m) throw new Error('peer received nothing')
      return m
    },
    send: (s: string, to: StunAddress) => socket.send(enc.encode(s), to.port, to.address),
  }
}

/** A server on 127.0.0.1 with IPv6 relays on ::1 (host6), loopback peers allowed. */
async function start(opts: Partial<TurnServerOptions> = {}) {
  const server = new TurnServer({
    secret: SECRET,
    host: '127.0.0.1',
    host6: '::1',
    allowLoopback: true,
    ...opts,
  })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port }
}

/** A client of the server at host:port, with an Allocate carrying `attrs`. */
async function allocate(port: number, attrs: StunAttribute[], host = '127.0.0.1') {
  const c = await TestClient.open(port, host)
  cleanup.push(() => c.close())
  const creds = issueTurnCredentials(SECRET, 'alice', 600)
  const r = await c.authed(StunMethod.Allocate, [UDP, ...attrs], creds)
  const req = (method: number, a: StunAttribute[]) => c.authed(method, a, creds)
  return { c, r, creds, req, relayed: relayedOf(r) }
}

describe('Allocate with REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §7.2)', () => {
  it('gives an IPv6 relayed address for REQUESTED-ADDRESS-FAMILY=IPv6', async () => {
    const { port } = await start()
    const { r, relayed } = await allocate(port, [V6])
    expect(r.class).toBe('success')
    expect(relayed).toHaveLength(1)
    expect(relayed[0]).toMatchObject({ family: 'IPv6', address: '::1' })
    expect(relayed[0]!.port).toBeGreaterThanOrEqual(61000)
  })

  it('gives an IPv4 and an IPv6 relayed address for ADDITIONAL-ADDRESS-FAMILY (dual)', async () => {
    const { server, port } = await start()
    const { r, relayed } = await allocate(port, [DUAL])
    expect(r.class).toBe('success')
    expect(relayed.map((a) => [a.family, a.address])).toEqual([
      ['IPv4', '127.0.0.1'],
      ['IPv6', '::1'],
    ])
    expect(relayed[0]!.port).not.toBe(relayed[1]!.port)
    expect(attr(r, 'ADDRESS-ERROR-CODE')).toBeUndefined()
    expect(server.stats().allocations).toBe(1)
  })

  it('answers 440 to IPv6 when the server has no IPv6 address, and gives a dual request IPv4 with ADDRESS-ERROR-CODE 440', async () => {
    const { port } = await start({ host6: undefined })
    expect(errorCode((await allocate(port, [V6])).r)).toBe(440)
    const dual = await allocate(port, [DUAL])
    expect(dual.r.class).toBe('success')
    expect(dual.relayed.map((a) => a.family)).toEqual(['IPv4'])
    expect(attr(dual.r, 'ADDRESS-ERROR-CODE')).toMatchObject({ family: 'IPv6', code: 440 })
  })

  it('keeps the IPv4 half of a dual allocation when IPv6 cannot be bound (440) or has no port (508)', async () => {
    // 2001:db8::99 is on no interface of this host: binding it fails with EADDRNOTAVAIL.
    const absent = await start({ host6: '2001:db8::99' })
    const t0 = Date.now()
    expect(errorCode((await allocate(absent.port, [V6])).r)).toBe(440)
    expect(Date.now() - t0).toBeLessThan(1000) // one failed bind, not a scan of the port range
    const dual = await allocate(absent.port, [DUAL])
    expect(dual.relayed.map((a) => a.family)).toEqual(['IPv4'])
    expect(attr(dual.r, 'ADDRESS-ERROR-CODE')).toMatchObject({ family: 'IPv6', code: 440 })
    // A retransmission gets the same answer, ADDRESS-ERROR-CODE included (§7.2).
    const again = await dual.c.authed(
      StunMethod.Allocate,
      [UDP, DUAL],
      dual.creds,
      dual.r.transactionId,
    )
    expect(relayedOf(again)).toEqual(dual.relayed)
    expect(attr(again, 'ADDRESS-ERROR-CODE')).toMatchObject({ family: 'IPv6', code: 440 })
    const one = await allocate(absent.port, [])
    expect(one.r.class).toBe('success')
    // One relay port: the IPv4 relay takes it, the IPv6 one finds none.
    const probe = await peer('127.0.0.1')
    const free = probe.port
    probe.socket.close()
    cleanup.pop()
    const narrow = await start({ relayPortRange: [free, free] })
    const full = await allocate(narrow.port, [DUAL])
    expect(full.relayed).toEqual([{ family: 'IPv4', address: '127.0.0.1', port: free }])
    expect(attr(full.r, 'ADDRESS-ERROR-CODE')).toMatchObject({ family: 'IPv6', code: 508 })
    expect(errorCode((await allocate(narrow.port, [V6])).r)).toBe(508)
  })

  it('answers 400 to both family attributes, and to ADDITIONAL-ADDRESS-FAMILY=IPv4', async () => {
    const { port } = await start()
    expect(errorCode((await allocate(port, [V6, DUAL])).r)).toBe(400)
    const v4: StunAttribute = { name: 'ADDITIONAL-ADDRESS-FAMILY', value: 'IPv4' }
    expect(errorCode((await allocate(port, [v4])).r)).toBe(400)
  })

  it('a server on ::1 only serves IPv6 clients, relays IPv6 and answers 440 to IPv4', async () => {
    const { port } = await start({ host: '::1', host6: undefined })
    const ipv4 = await allocate(port, [], '::1')
    expect(errorCode(ipv4.r)).toBe(440)
    const { c, r, relayed } = await allocate(port, [V6], '::1')
    expect(r.class).toBe('success')
    expect(relayed).toEqual([{ family: 'IPv6', address: '::1', port: relayed[0]!.port }])
    expect(attr(r, 'XOR-MAPPED-ADDRESS')).toEqual({ family: 'IPv6', address: '::1', port: c.port })
    const binding = await c.request(StunMethod.Binding, [])
    expect(attr<StunAddress>(binding, 'XOR-MAPPED-ADDRESS')?.family).toBe('IPv6')
  })
})

describe('relaying over IPv6 (RFC 8656 §9-§12)', () => {
  it('relays Send indications to a ::1 peer and its answers back as Data indications', async () => {
    const { server, port } = await start()
    const { c, req, relayed } = await allocate(port, [V6])
    const p = await peer()
    const to = peerAttr('IPv6', '::1', p.port)
    expect((await req(StunMethod.CreatePermission, [to])).class).toBe('success')
    c.indication(StunMethod.Send, [to, { name: 'DATA', value: enc.encode('hello six') }])
    const got = await p.next()
    expect(got).toMatchObject({ data: 'hello six', address: '::1', port: relayed[0]!.port })
    p.send('back', relayed[0]!)
    const ind = decodeStun(await c.next())
    expect(ind).toMatchObject({ method: StunMethod.Data, class: 'indication' })
    expect(attr(ind, 'XOR-PEER-ADDRESS')).toEqual({ family: 'IPv6', address: '::1', port: p.port })
    expect(dec.decode(attr<Uint8Array>(ind, 'DATA'))).toBe('back')
    expect(server.stats()).toMatchObject({ packetsToPeers: 1, packetsToClients: 1 })
  })

  it('relays ChannelData both ways over an IPv6 channel', async () => {
    const { server, port } = await start()
    const { c, req, relayed } = await allocate(port, [V6])
    const p = await peer()
    const to = peerAttr('IPv6', '::1', p.port)
    expect((await req(StunMethod.ChannelBind, [to, ch(0x4001)])).class).toBe('success')
    c.sendRaw(encodeChannelData(0x4001, enc.encode('over the channel')))
    expect((await p.next()).data).toBe('over the channel')
    p.send('channel back', relayed[0]!)
    const frame = decodeChannelData(await c.next())
    expect(frame.channel).toBe(0x4001)
    expect(dec.decode(frame.data)).toBe('channel back')
    expect(server.stats()).toMatchObject({ packetsToPeers: 1, packetsToClients: 1 })
  })

  it('relays each family through its own relayed address in a dual allocation', async () => {
    const { port } = await start()
    const { c, req, relayed } = await allocate(port, [DUAL])
    const [r4, r6] = relayed as [StunAddress, StunAddress]
    const p4 = await peer('127.0.0.1')
    const p6 = await peer('::1')
    const to4 = peerAttr('IPv4', '127.0.0.1', p4.port)
    const to6 = peerAttr('IPv6', '::1', p6.port)
    expect((await req(StunMethod.CreatePermission, [to4, to6])).class).toBe('success')
    c.indication(StunMethod.Send, [to4, { name: 'DATA', value: enc.encode('four') }])
    c.indication(StunMethod.Send, [to6, { name: 'DATA', value: enc.encode('six') }])
    expect(await p4.next()).toMatchObject({ data: 'four', port: r4.port })
    expect(await p6.next()).toMatchObject({ data: 'six', address: '::1', port: r6.port })
    p6.send('from six', r6)
    const ind = decodeStun(await c.next())
    expect(attr<StunAddress>(ind, 'XOR-PEER-ADDRESS')?.family).toBe('IPv6')
  })
})

describe('Peer Address Family Mismatch (443) and the peer policy on IPv6', () => {
  it('answers 443 to an IPv6 peer of an IPv4 allocation, and to an IPv4 peer of an IPv6 one', async () => {
    const { server, port } = await start()
    const a4 = await allocate(port, [])
    const six = peerAttr('IPv6', '::1', 5000)
    expect(errorCode(await a4.req(StunMethod.CreatePermission, [six]))).toBe(443)
    expect(errorCode(await a4.req(StunMethod.ChannelBind, [six, ch(0x4000)]))).toBe(443)
    // §8.2: a Refresh naming a family the allocation does not have.
    const refresh = await a4.req(StunMethod.Refresh, [V6])
    expect(errorCode(refresh)).toBe(443)
    const a6 = await allocate(port, [V6])
    const four = peerAttr('IPv4', '127.0.0.1', 5000)
    expect(errorCode(await a6.req(StunMethod.CreatePermission, [four]))).toBe(443)
    expect(errorCode(await a6.req(StunMethod.ChannelBind, [four, ch(0x4000)]))).toBe(443)
    expect((await a6.req(StunMethod.Refresh, [V6])).class).toBe('success')
    expect(server.stats().permissionsDenied).toBe(0)
  })

  it('drops a Send indication to a peer of the other family', async () => {
    const { server, port } = await start()
    const { c } = await allocate(port, [])
    const p = await peer()
    const six = peerAttr('IPv6', '::1', p.port)
    c.indication(StunMethod.Send, [six, { name: 'DATA', value: enc.encode('nope') }])
    await quiet()
    expect(p.queue).toHaveLength(0)
    expect(server.stats()).toMatchObject({ packetsToPeers: 0, droppedNoPermission: 1 })
  })

  it('refuses IPv6 loopback without allowLoopback and special-purpose IPv6 peers (403)', async () => {
    const { server, port } = await start({ allowLoopback: false })
    const { req } = await allocate(port, [V6])
    for (const address of ['::1', 'fd00::2', 'fe80::1', '2001:db8::1', 'ff02::1']) {
      const r = await req(StunMethod.CreatePermission, [peerAttr('IPv6', address, 5000)])
      expect(errorCode(r), address).toBe(403)
    }
    const mapped = peerAttr('IPv6', '::ffff:10.0.0.1', 5000)
    expect(errorCode(await req(StunMethod.CreatePermission, [mapped]))).toBe(403)
    expect(server.stats().permissionsDenied).toBe(6)
    const open = await req(StunMethod.CreatePermission, [peerAttr('IPv6', '2a00:1450::1', 5000)])
    expect(open.class).toBe('success')
  })
})

describe('relay-families.ts', () => {
  const msg = (attributes: StunAttribute[]) =>
    decodeStun(
      encodeStun({
        method: StunMethod.Allocate,
        class: 'request',
        transactionId: new Uint8Array(12),
        attributes,
      }),
    )

  it('plans one family, a dual allocation, or the error (RFC 8656 §7.2)', () => {
    const both = relayHosts('127.0.0.1', '::1', undefined, undefined)
    const v4 = relayHosts('0.0.0.0', undefined, () => '192.0.2.1', undefined)
    expect(planFamilies(msg([]), both)).toEqual({ families: ['IPv4'] })
    expect(planFamilies(msg([V6]), both)).toEqual({ families: ['IPv6'] })
    expect(planFamilies(msg([DUAL]), both)).toEqual({ families: ['IPv4', 'IPv6'] })
    expect(planFamilies(msg([V6]), v4)).toEqual({ code: 440 })
    expect(planFamilies(msg([DUAL]), v4)).toEqual({ families: ['IPv4'], missing: 'IPv6' })
    expect(planFamilies(msg([V6, DUAL]), both)).toEqual({ code: 400 })
    expect(planFamilies(msg([]), relayHosts('::1', undefined, undefined, undefined))).toEqual({
      code: 440,
    })
  })

  it('binds and announces per family', () => {
    const hosts = relayHosts(
      '0.0.0.0',
      '::',
      () => '198.51.100.7',
      () => '2001:db8::7',
    )
    expect(hosts.IPv4?.bind).toBe('0.0.0.0')
    expect(hosts.IPv4?.announced()).toBe('198.51.100.7')
    expect(hosts.IPv6?.bind).toBe('::')
    expect(hosts.IPv6?.announced()).toBe('2001:db8::7')
    const v6only = relayHosts('::', undefined, () => '2001:db8::8', undefined)
    expect(v6only.IPv4).toBeUndefined()
    expect(v6only.IPv6?.announced()).toBe('2001:db8::8')
  })

  it('puts IPv6 relays on ::1 beside a loopback server, on :: beside 0.0.0.0 with IPv6', () => {
    const info = (address: string, internal = false) =>
      ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', internal }) as never
    const lo = [info('127.0.0.1', true), info('::1', true)]
    expect(ipv6RelayHost('127.0.0.1', { lo })).toBe('::1')
    expect(ipv6RelayHost('127.0.0.1', { lo: [info('127.0.0.1', true)] })).toBeUndefined()
    const linkLocal = { lo, eth0: [info('192.0.2.4'), info('fe80::1')] }
    expect(ipv6RelayHost('0.0.0.0', linkLocal)).toBeUndefined()
    const global = { lo, eth0: [info('192.0.2.4'), info('2001:db8::4')] }
    expect(ipv6RelayHost('0.0.0.0', global)).toBe('::')
    expect(ipv6RelayHost('192.0.2.4', global)).toBeUndefined()
  })

  it('round-trips ADDITIONAL-ADDRESS-FAMILY and ADDRESS-ERROR-CODE', () => {
    const err: StunAttribute = {
      name: 'ADDRESS-ERROR-CODE',
      value: { family: 'IPv6', code: 508, reason: 'Insufficient Capacity' },
    }
    expect(msg([DUAL, err]).attributes).toEqual([DUAL, err])
  })
})

describe('coturn turnutils_uclient -x (IPv6 relay address requested)', () => {
  const uclient = (port: number) => {
    const c = issueTurnCredentials(SECRET, 'uclient', 600)
    const args = ['-y', '-x', '-c', '-u', c.username, '-w', c.password, '-p', String(port)]
    args.push('-n', '20', '-m', '2', '-l', '172', '127.0.0.1')
    return run('turnutils_uclient', args, { timeout: 30_000 }).then(
      (r) => r.stdout + r.stderr,
      (e: { stdout?: string; stderr?: string }) => (e.stdout ?? '') + (e.stderr ?? ''),
    )
  }

  it('relays between two IPv6 relayed addresses over channels', async () => {
    const { server, port } = await start({ legacyChannelRange: true })
    const out = await uclient(port)
    expect(out).toContain('tot_send_msgs=40, tot_recv_msgs=40')
    expect(out).toMatch(/Total lost packets 0 \(0\.0+%\)/)
    expect(server.stats().packetsToPeers).toBe(40)
  })

  it('gets 440 from a server without an IPv6 address (so -x did ask for IPv6)', async () => {
    const { server, port } = await start({ legacyChannelRange: true, host6: undefined })
    const out = await uclient(port)
    expect(out).toMatch(/440/)
    expect(server.stats()).toMatchObject({ allocations: 0, packetsToPeers: 0 })
  })
})
