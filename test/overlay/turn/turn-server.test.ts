/**
 * TURN server against coturn's client tools (turnutils_stunclient, turnutils_uclient) and our
 * hand-written client: Binding, long-term auth (401/438), Allocate errors (437/442/486), 420.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  StunMethod,
  longTermKey,
  verifyFingerprint,
  verifyIntegrity,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAddress, StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { TestClient, attr, errorCode } from './turn-test-client.js'

const run = promisify(execFile)
const SECRET = 'test-secret'
const UDP: StunAttribute[] = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function start(opts: Partial<TurnServerOptions> = {}) {
  // allowLoopback: everything in these tests lives on 127.0.0.1.
  const server = new TurnServer({ secret: SECRET, allowLoopback: true, ...opts })
  const { port } = await server.listen()
  cleanup.push(() => server.close())
  return { server, port }
}

async function client(port: number) {
  const c = await TestClient.open(port)
  cleanup.push(() => c.close())
  return c
}

describe('coturn client tools', () => {
  it('turnutils_stunclient gets its mapped address', async () => {
    const { port } = await start()
    const { stdout } = await run('turnutils_stunclient', ['-p', String(port), '127.0.0.1'])
    expect(stdout).toMatch(/UDP reflexive addr: 127\.0\.0\.1:\d+/)
  })

  const uclient = async (port: number, extra: string[]) => {
    const c = issueTurnCredentials(SECRET, 'uclient', 600)
    const args = ['-y', '-c', ...extra, '-u', c.username, '-w', c.password, '-p', String(port)]
    args.push('-n', '20', '-m', '2', '-l', '172', '-e', '127.0.0.1', '127.0.0.1')
    const { stdout } = await run('turnutils_uclient', args, { timeout: 30_000 })
    return stdout
  }

  // -t: client-to-server over TCP (RFC 8656 §3.1, relays stay UDP); default UDP.
  for (const [transport, flags] of [
    ['UDP', []],
    ['TCP', ['-t']],
  ] as const) {
    it(`turnutils_uclient over ${transport} relays with Send/Data indications (-s)`, async () => {
      const { server, port } = await start()
      const out = await uclient(port, [...flags, '-s'])
      expect(out).toContain('tot_send_msgs=40, tot_recv_msgs=40')
      expect(out).toMatch(/Total lost packets 0 \(0\.0+%\)/)
      expect(server.stats().packetsToPeers).toBe(40)
      expect(server.stats().bytesToClients).toBe(40 * 172)
    })

    it(`turnutils_uclient over ${transport} relays over channels (RFC 5766 range)`, async () => {
      const { server, port } = await start({ legacyChannelRange: true })
      const out = await uclient(port, [...flags])
      expect(out).toContain('tot_send_msgs=40, tot_recv_msgs=40')
      expect(out).toMatch(/Total lost packets 0 \(0\.0+%\)/)
      expect(server.stats().packetsToClients).toBe(40)
      if (transport === 'TCP') {
        // Closing the TCP connection ends its 5-tuple and so its allocation.
        await expect.poll(() => server.stats().allocations).toBe(0)
      }
    })
  }
  // uclient picks random channel numbers up to 0x7FFF (RFC 5766 §11): the server accepts them by
  // default, covered deterministically in turn-channel-range.test.ts.
})

describe('Binding (RFC 8489 §6.3)', () => {
  it('answers with XOR-MAPPED-ADDRESS, FINGERPRINT only if the request had one', async () => {
    const { port } = await start()
    const c = await client(port)
    const r = await c.request(StunMethod.Binding, [], { fingerprint: true })
    expect(r.class).toBe('success')
    expect(attr<StunAddress>(r, 'XOR-MAPPED-ADDRESS')).toEqual({
      family: 'IPv4',
      address: '127.0.0.1',
      port: c.port,
    })
    expect(verifyFingerprint(r.raw, r)).toBe(true)
    const r2 = await c.request(StunMethod.Binding, [])
    expect(r2.fingerprint).toBeUndefined()
    expect(r2.integrity).toBeUndefined()
  })

  it('answers 420 with UNKNOWN-ATTRIBUTES for unknown comprehension-required attributes', async () => {
    const { port } = await start()
    const c = await client(port)
    const unknown: StunAttribute = { name: 'UNKNOWN', type: 0x7777, value: new Uint8Array(4) }
    const optional: StunAttribute = { name: 'UNKNOWN', type: 0xc777, value: new Uint8Array(4) }
    const r = await c.request(StunMethod.Binding, [unknown, optional])
    expect(errorCode(r)).toBe(420)
    expect(attr(r, 'UNKNOWN-ATTRIBUTES')).toEqual([0x7777])
  })
})

describe('Allocate (RFC 8656 §7) and long-term auth (RFC 8489 §9.2)', () => {
  it('challenges with 401 + REALM + NONCE, then allocates with integrity on the answer', async () => {
    const { server, port } = await start()
    const c = await client(port)
    const first = await c.request(StunMethod.Allocate, UDP)
    expect(errorCode(first)).toBe(401)
    expect(attr(first, 'REALM')).toBe('kaiwa')
    expect(attr<string>(first, 'NONCE')).toMatch(/.+/)
    expect(first.integrity).toBeUndefined()
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const r = await c.authed(StunMethod.Allocate, UDP, creds)
    expect(r.class).toBe('success')
    const relayed = attr<StunAddress>(r, 'XOR-RELAYED-ADDRESS')!
    expect(relayed.address).toBe('127.0.0.1')
    expect(relayed.port).toBeGreaterThanOrEqual(61000)
    expect(relayed.port).toBeLessThanOrEqual(65535)
    expect(attr<StunAddress>(r, 'XOR-MAPPED-ADDRESS')?.port).toBe(c.port)
    expect(attr(r, 'LIFETIME')).toBe(600)
    const key = longTermKey(creds.username, 'kaiwa', creds.password)
    expect(verifyIntegrity(r.raw, r, key)).toBe(true)
    expect(verifyFingerprint(r.raw, r)).toBe(true)
    expect(server.stats()).toMatchObject({ allocations: 1, allocationsTotal: 1 })
  })

  it('clamps LIFETIME to 3600 s and answers a retransmitted Allocate with the same success', async () => {
    const { port } = await start()
    const c = await client(port)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const tid = new Uint8Array(12).fill(7)
    const attrs: StunAttribute[] = [...UDP, { name: 'LIFETIME', value: 999_999 }]
    const r = await c.authed(StunMethod.Allocate, attrs, creds, tid)
    expect(attr(r, 'LIFETIME')).toBe(3600)
    const again = await c.authed(StunMethod.Allocate, attrs, creds, tid)
    expect(again.class).toBe('success')
    expect(attr(again, 'XOR-RELAYED-ADDRESS')).toEqual(attr(r, 'XOR-RELAYED-ADDRESS'))
    // A new Allocate on the same 5-tuple: 437 Allocation Mismatch, still with integrity.
    const other = await c.authed(StunMethod.Allocate, UDP, creds)
    expect(errorCode(other)).toBe(437)
    expect(verifyIntegrity(other.raw, other, c.key!)).toBe(true)
  })

  it('answers 401 to a wrong password and to expired credentials', async () => {
    const { server, port } = await start()
    const c = await client(port)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const wrong = await c.authed(StunMethod.Allocate, UDP, { ...creds, password: 'nope' })
    expect(errorCode(wrong)).toBe(401)
    expect(attr(wrong, 'NONCE')).toBeDefined()
    const old = issueTurnCredentials(SECRET, 'alice', 60, Date.now() - 120_000)
    expect(errorCode(await c.authed(StunMethod.Allocate, UDP, old))).toBe(401)
    const otherRealm = await c.authed(StunMethod.Allocate, UDP, { ...creds, realm: 'evil' })
    expect(errorCode(otherRealm)).toBe(401)
    expect(server.stats().allocations).toBe(0)
  })

  it('answers 438 to a stale nonce with a fresh one that then works', async () => {
    let now = Date.now()
    const { port } = await start({ now: () => now, nonceTtlS: 60 })
    const c = await client(port)
    const creds = issueTurnCredentials(SECRET, 'alice', 3600, now)
    await c.request(StunMethod.Allocate, UDP).then((r) => (c.nonce = attr<string>(r, 'NONCE')!))
    now += 61_000
    const stale = c.nonce
    const r = await c.authed(StunMethod.Allocate, UDP, creds) // retries once on 438
    expect(r.class).toBe('success')
    expect(c.nonce).not.toBe(stale)
    c.nonce = 'forged-nonce'
    const forged = await c.request(
      StunMethod.Refresh,
      [
        { name: 'USERNAME', value: creds.username },
        { name: 'REALM', value: 'kaiwa' },
        { name: 'NONCE', value: c.nonce },
      ],
      { key: c.key! },
    )
    expect(errorCode(forged)).toBe(438)
    expect(attr(forged, 'REALM')).toBe('kaiwa')
  })

  it('answers 400 to MESSAGE-INTEGRITY without USERNAME/REALM/NONCE', async () => {
    const { port } = await start()
    const c = await client(port)
    const r = await c.request(StunMethod.Allocate, UDP, { key: new Uint8Array(16) })
    expect(errorCode(r)).toBe(400)
  })

  it('answers 442 for a non-UDP REQUESTED-TRANSPORT and 400 without one', async () => {
    const { port } = await start()
    const c = await client(port)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const tcp = await c.authed(
      StunMethod.Allocate,
      [{ name: 'REQUESTED-TRANSPORT', value: 6 }],
      creds,
    )
    expect(errorCode(tcp)).toBe(442)
    expect(errorCode(await c.authed(StunMethod.Allocate, [], creds))).toBe(400)
  })

  it('accepts DONT-FRAGMENT in an Allocate (RFC 8656 §7.2), never 420', async () => {
    const { port } = await start()
    const c = await client(port)
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const r = await c.authed(StunMethod.Allocate, [...UDP, { name: 'DONT-FRAGMENT' }], creds)
    expect(r.class).toBe('success')
  })

  it('enforces the per-user allocation quota with 486', async () => {
    const { server, port } = await start({ maxAllocationsPerUser: 2 })
    const creds = issueTurnCredentials(SECRET, 'alice', 600)
    const codes: (number | undefined)[] = []
    for (let i = 0; i < 3; i++) {
      const c = await client(port)
      codes.push(errorCode(await c.authed(StunMethod.Allocate, UDP, creds)))
    }
    expect(codes).toEqual([undefined, undefined, 486])
    const bob = await client(port)
    const r = await bob.authed(StunMethod.Allocate, UDP, issueTurnCredentials(SECRET, 'bob', 600))
    expect(r.class).toBe('success')
    expect(server.stats().allocations).toBe(3)
  })
})
