/**
 * What RFC 5766 clients such as coturn's turnutils_uclient need beyond RFC 8656: channel numbers
 * 0x4000-0x7FFF (RFC 5766 §11; RFC 8656 §12 narrowed them to 0x4FFF) with ChannelData both ways
 * over UDP and over TCP, padded there (RFC 8656 §12.5), and DONT-FRAGMENT accepted instead of
 * answered with 420 (RFC 8656 §7.2, §18.9; turn-allocate.ts says what DF the relay then sends).
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import {
  StunMethod,
  decodeChannelData,
  encodeChannelData,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TcpTestClient } from './turn-tcp-test-client.js'
import { TestClient, errorCode } from './turn-test-client.js'

const SECRET = 'channel-secret'
const UDP: StunAttribute = { name: 'REQUESTED-TRANSPORT', value: 17 }
const ch = (n: number): StunAttribute => ({ name: 'CHANNEL-NUMBER', value: n })
const creds = issueTurnCredentials(SECRET, 'alice', 600)
const enc = new TextEncoder()
const dec = new TextDecoder()

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function start(opts: Partial<TurnServerOptions> = {}) {
  const server = new TurnServer({
    secret: SECRET,
    allowLoopback: true,
    relayPortRange: [36800, 36899],
    ...opts,
  })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port }
}

/** A peer on 127.0.0.1 that queues what it receives. */
async function peer() {
  const socket: Socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  cleanup.push(() => socket.close())
  const got: { data: string; port: number }[] = []
  socket.on('message', (m, r) => got.push({ data: dec.decode(m), port: r.port }))
  const addr: StunAttribute = {
    name: 'XOR-PEER-ADDRESS',
    value: { family: 'IPv4', address: '127.0.0.1', port: socket.address().port },
  }
  const next = async () => {
    await expect.poll(() => got.length).toBeGreaterThan(0)
    return got.shift()!
  }
  return { socket, addr, next }
}

describe('channel numbers 0x4000-0x7FFF (RFC 5766 §11)', () => {
  it('binds channels up to 0x7FFF and relays ChannelData both ways over UDP', async () => {
    const { server, port } = await start()
    const c = await TestClient.open(port)
    cleanup.push(() => c.close())
    const p = await peer()
    await c.authed(StunMethod.Allocate, [UDP], creds)
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x5000), p.addr], creds)).class).toBe(
      'success',
    )
    c.sendRaw(encodeChannelData(0x5000, enc.encode('via 0x5000'), { legacyRange: true }))
    expect((await p.next()).data).toBe('via 0x5000')
    // The top of the range, to another peer (one channel per peer, RFC 8656 §12.2).
    const q = await peer()
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x7fff), q.addr], creds)).class).toBe(
      'success',
    )
    c.sendRaw(encodeChannelData(0x7fff, enc.encode('via 0x7fff'), { legacyRange: true }))
    const { port: relay } = await q.next()
    q.socket.send('back', relay, '127.0.0.1')
    const frame = decodeChannelData(await c.next())
    expect(frame.channel).toBe(0x7fff)
    expect(dec.decode(frame.data)).toBe('back')
    expect(server.stats()).toMatchObject({ packetsToPeers: 2, packetsToClients: 1 })
  })

  it('relays ChannelData of high channels over TCP, padded to 4 bytes both ways', async () => {
    const { port } = await start()
    const c = await TcpTestClient.open(port)
    cleanup.push(() => c.close())
    const p = await peer()
    expect((await c.authed(StunMethod.Allocate, [UDP], creds)).class).toBe('success')
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x6abc), p.addr], creds)).class).toBe(
      'success',
    )
    // Two frames of odd lengths in one write: the padding must delimit them (RFC 8656 §12.5).
    const one = encodeChannelData(0x6abc, enc.encode('odd'), { pad: true, legacyRange: true })
    const two = encodeChannelData(0x6abc, enc.encode('fives'), { pad: true, legacyRange: true })
    c.sendRaw(new Uint8Array([...one, ...two]))
    expect((await p.next()).data).toBe('odd')
    const { port: relay } = await p.next()
    p.socket.send('reply', relay, '127.0.0.1')
    const frame = await c.next()
    expect(frame.length).toBe(12) // 4-byte header + 5 bytes + 3 of padding
    expect(decodeChannelData(frame, { stream: true })).toMatchObject({ channel: 0x6abc, size: 12 })
    expect(dec.decode(decodeChannelData(frame).data)).toBe('reply')
  })

  it('answers 400 above 0x7FFF, and above 0x4FFF with legacyChannelRange: false', async () => {
    const strict = await start({ legacyChannelRange: false })
    const c = await TestClient.open(strict.port)
    cleanup.push(() => c.close())
    const p = await peer()
    await c.authed(StunMethod.Allocate, [UDP], creds)
    expect(errorCode(await c.authed(StunMethod.ChannelBind, [ch(0x5000), p.addr], creds))).toBe(400)
    expect((await c.authed(StunMethod.ChannelBind, [ch(0x4fff), p.addr], creds)).class).toBe(
      'success',
    )
    const wide = await start()
    const d = await TestClient.open(wide.port)
    cleanup.push(() => d.close())
    await d.authed(StunMethod.Allocate, [UDP], creds)
    for (const n of [0x3fff, 0x8000, 0xffff]) {
      expect(errorCode(await d.authed(StunMethod.ChannelBind, [ch(n), p.addr], creds))).toBe(400)
    }
  })

  it('encodes ChannelData up to 0x7FFF only when asked for the RFC 5766 range', () => {
    expect(encodeChannelData(0x7fff, new Uint8Array(1), { legacyRange: true })[0]).toBe(0x7f)
    expect(() => encodeChannelData(0x7fff, new Uint8Array(1))).toThrow(/0x4000\.\.0x4FFF/)
    expect(() => encodeChannelData(0x8000, new Uint8Array(1), { legacyRange: true })).toThrow(
      /0x4000\.\.0x7FFF/,
    )
  })
})

describe('DONT-FRAGMENT (RFC 8656 §7.2, §18.9)', () => {
  it('is accepted in an Allocate (no 420) and in Send indications, which are relayed', async () => {
    const { port } = await start()
    const c = await TestClient.open(port)
    cleanup.push(() => c.close())
    const p = await peer()
    const r = await c.authed(StunMethod.Allocate, [UDP, { name: 'DONT-FRAGMENT' }], creds)
    expect(r.class).toBe('success')
    expect(errorCode(r)).toBeUndefined()
    await c.authed(StunMethod.CreatePermission, [p.addr], creds)
    c.indication(StunMethod.Send, [
      p.addr,
      { name: 'DONT-FRAGMENT' },
      { name: 'DATA', value: enc.encode('no fragments') },
    ])
    expect((await p.next()).data).toBe('no fragments')
  })
})
