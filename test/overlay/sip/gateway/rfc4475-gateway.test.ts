/**
 * The gateway against hostile input, on real sockets: every RFC 4475 torture
 * message over UDP and over TCP (a new connection each), an oversized
 * datagram, random binary, a TCP sender that trickles bytes, and a UDP flood.
 * Invalid messages draw a 4xx/5xx or nothing, never a 2xx, and never reach the
 * router (a spy wraps `router.fromLocal`); the node keeps answering.
 */
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startTestNode } from '../../../helpers/nodes.js'
import {
  buildRequest,
  tcpExchange,
  udpExchange,
  wire,
  withCredentials,
} from '../../../helpers/sip-wire.js'
import type { Exchange } from '../../../helpers/sip-wire.js'
import type { KaiwaNode } from '../../../../src/main/kaiwa-node.js'
import type { SipMessage } from '../../../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../../../src/shared/sip/sip-parser.js'
import { parseDigestOption } from '../../../../src/overlay/sip/gateway/digest-auth.js'

const DIR = new URL('../../../../../shared/testdata/rfc4475/', import.meta.url)
const PASSWORD = 'torture-test-password'

interface Row {
  name: string
  verdict: 'valid' | 'invalid'
  section: string
}

const rows: Row[] = readFileSync(new URL('manifest.tsv', DIR), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [name, verdict, section] = line.split('\t')
    return { name: name!, verdict: verdict as Row['verdict'], section: section! }
  })

const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`${name}.sip`, DIR)))

/** Does the datagram parse as a request (valid requests must be answered)? */
function isRequest(bytes: Uint8Array): boolean {
  const r = parseSipMessage(bytes, { transport: 'datagram' })
  return r.ok && r.message.kind === 'request'
}

let node: KaiwaNode
let port: number
const routed: SipMessage[] = []

async function alive(transport: 'UDP' | 'TCP'): Promise<void> {
  const exchange = transport === 'UDP' ? udpExchange : tcpExchange
  const req = buildRequest({
    method: 'OPTIONS',
    uri: 'sip:alice@kaiwa',
    from: 'sip:alice@kaiwa',
    transport,
  })
  const first = await exchange(port, wire(req), 2000)
  expect(first.responses.map((r) => r.status)).toContain(407)
  const challenge = first.responses.find((r) => r.status === 407)!
  const before = routed.length
  // SHA-256 over TCP, MD5 over UDP: both algorithms are offered and accepted.
  const algorithm = transport === 'TCP' ? 'SHA-256' : 'MD5'
  const signed = withCredentials(req, challenge, 'alice', PASSWORD, algorithm)
  const second = await exchange(port, wire(signed), 5000)
  const final = second.responses.find((r) => r.status >= 200)
  expect(final, `${transport} OPTIONS with credentials got no final response`).toBeDefined()
  expect(final!.status).not.toBe(407)
  expect(routed.length).toBe(before + 1) // authenticated: it reached the router
}

function expectVerdict(row: Row, ex: Exchange, bytes: Uint8Array): void {
  const statuses = ex.responses.map((r) => r.status)
  const what = `${row.name} (${row.section}): got ${JSON.stringify(statuses)}`
  if (row.verdict === 'invalid') {
    for (const s of statuses) expect(s >= 400 && s <= 699, what).toBe(true)
  } else if (isRequest(bytes)) {
    expect(statuses.length, what).toBeGreaterThan(0)
  }
  for (const s of statuses) expect(s >= 200 && s < 300, what).toBe(false)
}

describe('the SIP gateway under RFC 4475 torture and abuse', () => {
  beforeAll(async () => {
    port = await freePort()
    node = await startTestNode({
      supernode: 'on',
      name: 'alice',
      sipPort: port,
      sipPassword: PASSWORD,
      sipTuning: {
        slowSenderMs: 300,
        rateLimit: { perSecond: 100, burst: 200 },
        algorithms: parseDigestOption('both'), // both are offered and accepted below
      },
    })
    const router = node.sip.router
    const original = router.fromLocal.bind(router)
    router.fromLocal = async (msg, flow) => {
      routed.push(msg)
      return original(msg, flow)
    }
  }, 60_000)
  afterAll(async () => {
    await node?.stop()
  })

  it('reports its address in the status', async () => {
    const st = await node.api.status({})
    expect(st.sip).toEqual({
      address: `127.0.0.1:${port}`,
      domain: 'kaiwa',
      username: 'alice',
      password: PASSWORD,
    })
  })

  for (const transport of ['UDP', 'TCP'] as const) {
    it(`answers or drops every torture message over ${transport}; no invalid one reaches the router`, async () => {
      const exchange = transport === 'UDP' ? udpExchange : tcpExchange
      for (const row of rows) {
        const bytes = load(row.name)
        const before = routed.length
        const ex = await exchange(port, bytes, 500)
        expectVerdict(row, ex, bytes)
        if (row.verdict === 'invalid') {
          expect(routed.slice(before), `${row.name} reached the router`).toEqual([])
        }
      }
      await alive(transport)
    }, 60_000)
  }

  it('drops an oversized datagram and random binary, and keeps answering', async () => {
    const big = buildRequest({
      method: 'OPTIONS',
      uri: 'sip:alice@kaiwa',
      from: 'sip:alice@kaiwa',
      extra: [['X-Padding', 'a'.repeat(40_000)]],
    })
    expect((await udpExchange(port, wire(big), 500)).responses).toEqual([])
    for (let i = 0; i < 20; i++) {
      const junk = randomBytes(64 + i * 97)
      const u = await udpExchange(port, junk, 100)
      const t = await tcpExchange(port, junk, 100)
      for (const r of [...u.responses, ...t.responses]) expect(r.status).toBeGreaterThanOrEqual(400)
    }
    await alive('UDP')
    await alive('TCP')
  }, 30_000)

  it('disconnects a TCP sender that trickles a message (slow sender timeout)', async () => {
    const sock = connect({ port, host: '127.0.0.1' })
    const text = wire(
      buildRequest({ method: 'OPTIONS', uri: 'sip:alice@kaiwa', from: 'sip:x@kaiwa' }),
    )
    const started = Date.now()
    let i = 0
    const drip = setInterval(() => {
      if (!sock.destroyed && i < text.length) sock.write(text.subarray(i, ++i))
    }, 20)
    const closedAfter = await new Promise<number>((resolve) => {
      sock.on('error', () => {})
      sock.on('close', () => resolve(Date.now() - started))
    })
    clearInterval(drip)
    expect(closedAfter).toBeGreaterThanOrEqual(250)
    expect(closedAfter).toBeLessThan(3000)
    expect(i).toBeLessThan(text.length) // it never finished the message
  })

  it('answers a TCP framing error with 400 and closes the connection', async () => {
    const req = buildRequest({ method: 'OPTIONS', uri: 'sip:alice@kaiwa', from: 'sip:x@kaiwa' })
    // §18.3: Content-Length is mandatory on a stream; without it the boundaries are lost.
    const text = new TextDecoder().decode(wire(req)).replace(/Content-Length: 0\r\n/i, '')
    const ex = await tcpExchange(port, new TextEncoder().encode(text), 2000)
    expect(ex.responses.map((r) => r.status)).toEqual([400])
    expect(ex.closed).toBe(true)
  })

  it('accepts at most 64 TCP connections at once', async () => {
    const socks = Array.from({ length: 70 }, () => connect({ port, host: '127.0.0.1' }))
    const closedEarly = await new Promise<number>((resolve) => {
      let n = 0
      for (const s of socks) {
        s.on('error', () => {})
        s.on('close', () => n++)
      }
      // Well before the slow-sender timeout (300 ms) closes the idle ones.
      setTimeout(() => resolve(n), 150)
    })
    for (const s of socks) s.destroy()
    expect(closedEarly).toBeGreaterThanOrEqual(6)
    await new Promise((r) => setTimeout(r, 100))
    await alive('TCP')
  })

  it('answers a UDP flood from one source with 503 + Retry-After', async () => {
    const s = createSocket('udp4')
    const statuses: number[] = []
    let retryAfter: string | undefined
    s.on('message', (buf) => {
      const r = parseSipMessage(new Uint8Array(buf), { transport: 'datagram' })
      if (!r.ok || r.message.kind !== 'response') return
      statuses.push(r.message.status)
      if (r.message.status === 503) retryAfter ??= r.message.headers.get('retry-after')
    })
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()))
    for (let i = 0; i < 1000; i++) {
      const req = buildRequest({ method: 'OPTIONS', uri: 'sip:alice@kaiwa', from: 'sip:x@kaiwa' })
      s.send(wire(req), port, '127.0.0.1')
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5))
    }
    await new Promise((r) => setTimeout(r, 500))
    s.close()
    expect(statuses.filter((x) => x === 407).length).toBeGreaterThan(100)
    expect(statuses.filter((x) => x === 503).length).toBeGreaterThan(50)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    // Far above the rate, the rest is dropped unanswered.
    expect(statuses.length).toBeLessThan(1000)
    await alive('UDP') // another source is not affected
  })
})
