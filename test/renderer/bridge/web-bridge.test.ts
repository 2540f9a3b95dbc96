/**
 * The web bridge against a real control API server (startApiServer) with a
 * small hand-written API: calls and their errors, queueing before the socket
 * opens, events, timeouts, the socket dropping and coming back, a wrong
 * token, replies that break the contract, and a SIP user agent registering
 * through one of its pipes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiEventSource, ApiServer } from '../../../src/main/api/api-server.js'
import type { SipBridgeTarget } from '../../../src/main/api/sip-bridge.js'
import type { ApiEvent, KaiwaApi, StoredMessageJson } from '../../../src/shared/api/contract.js'
import { NotFoundError } from '../../../src/shared/errors.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { createWebBridge } from '../../../src/renderer/bridge/web-bridge.js'
import type { ConnectionState, WebBridge } from '../../../src/renderer/bridge/web-bridge.js'
import { channelFromPipe } from '../../../src/renderer/sip/bridge-channel.js'
import { createKaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'

const TOKEN = 'W'.repeat(43)

const usage = {
  role: 'client' as const,
  bytesRelayed: 0,
  relayKbps: 0,
  relayedCalls: 0,
  peersServed: 0,
  recordsStored: 0,
  mailboxBytes: 0,
  mailboxMessages: 0,
  caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 },
}

const message: StoredMessageJson = {
  id: '0001',
  direction: 'in',
  peer: 'sip:bob@kaiwa',
  from: 'sip:bob@kaiwa',
  to: 'sip:alice@kaiwa',
  date: '2025-01-01T00:00:00.000Z',
  contentType: 'text/plain',
  text: 'hi',
  status: 'received',
  code: 200,
}

// Only what the tests call; the server validates inputs and outputs against the contract.
const api = {
  usage: async () => usage,
  lookup: async ({ name }) => {
    if (name === 'slow') await new Promise((r) => setTimeout(r, 1500))
    throw new NotFoundError(`no user "${name}" in the overlay`)
  },
  settings: async () => ({
    supernodeMode: 'auto',
    caps: { relayKbps: 1000, relayedCalls: 2, storageMiB: 64 },
  }),
} as Partial<KaiwaApi> as KaiwaApi

const listeners = new Set<(event: string, data: unknown) => void>()
const events: ApiEventSource = {
  on(listener) {
    listeners.add(listener)
    return () => listeners.delete(listener)
  },
}

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function server(port = 0, sip?: SipBridgeTarget): Promise<ApiServer> {
  const s = await startApiServer({
    port,
    token: TOKEN,
    api,
    events,
    log: () => {},
    ...(sip ? { sip } : {}),
  })
  cleanup.push(() => s.close())
  return s
}

function bridge(url: string, opts: Partial<Parameters<typeof createWebBridge>[0]> = {}): WebBridge {
  const b = createWebBridge({
    baseUrl: url,
    token: TOKEN,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    ...opts,
  })
  cleanup.push(() => b.close())
  return b
}

function until(b: WebBridge, state: ConnectionState): Promise<void> {
  if (b.connection === state) return Promise.resolve()
  return new Promise((resolve) => {
    const off = b.onConnection((s) => {
      if (s === state) {
        off()
        resolve()
      }
    })
  })
}

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof ApiError ? err.code : `not an ApiError: ${String(err)}`),
  )

describe('web bridge', () => {
  it('calls methods (queued until the socket opens) and maps API errors to codes', async () => {
    const s = await server()
    const b = bridge(s.url)
    expect(b.kind).toBe('web')
    // Issued before the socket is open: sent once it is.
    const settings = b.call('settings', {})
    expect(await settings).toEqual({
      supernodeMode: 'auto',
      caps: { relayKbps: 1000, relayedCalls: 2, storageMiB: 64 },
    })
    expect(b.connection).toBe('open')
    expect(await codeOf(b.call('lookup', { name: 'nobody' }))).toBe('not_found')
    // Input the server's contract refuses.
    expect(await codeOf(b.call('lookup', { name: '' }))).toBe('invalid_input')
    // A method this hand-written API does not implement: the server's own 500.
    expect(await codeOf(b.call('about', {}))).toBe('internal')
  })

  it('delivers contract-valid events and drops invalid and unknown ones', async () => {
    const s = await server()
    const b = bridge(s.url)
    await b.call('usage', {})
    const got: ApiEvent[] = []
    b.onEvent((e) => got.push(e))
    s.broadcast('message', { ...message, status: 'bogus' })
    s.broadcast('no-such-event', {})
    s.broadcast('message', message)
    s.broadcast('usage', usage)
    await expect.poll(() => got.length).toBe(2)
    expect(got).toEqual([
      { event: 'message', data: message },
      { event: 'usage', data: usage },
    ])
  })

  it('fails a request that gets no answer in time with `timeout`', async () => {
    const s = await server()
    const b = bridge(s.url, { requestTimeoutMs: 200 })
    expect(await codeOf(b.call('lookup', { name: 'slow' }))).toBe('timeout')
    // The late answer is dropped and the bridge keeps working.
    await new Promise((r) => setTimeout(r, 1500))
    expect((await b.call('usage', {})).role).toBe('client')
  })

  it('fails in-flight requests when the node goes, and reconnects when it is back', async () => {
    const first = await server()
    const port = first.port
    const b = bridge(first.url)
    await b.call('usage', {})
    const inFlight = codeOf(b.call('lookup', { name: 'slow' }))
    await new Promise((r) => setTimeout(r, 100))
    await first.close()
    expect(await inFlight).toBe('disconnected')
    await until(b, 'connecting')
    // A call made while the node is away waits for it.
    const waiting = b.call('usage', {})
    await server(port)
    await until(b, 'open')
    expect((await waiting).role).toBe('client')
  })

  it('stops retrying on a wrong token and says so', async () => {
    const s = await server()
    const b = bridge(s.url, { token: 'not-the-token' })
    const pending = codeOf(b.call('usage', {}))
    await until(b, 'unauthorized')
    expect(await pending).toBe('unauthorized')
    expect(await codeOf(b.call('usage', {}))).toBe('unauthorized')
  })

  it('refuses replies that break the contract (`invalid_reply`)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanup.push(() => new Promise<void>((r) => wss.close(() => r())))
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const { id } = JSON.parse(String(data)) as { id: number }
        ws.send(JSON.stringify({ id, result: { role: 'emperor' } }))
      }),
    )
    await new Promise((r) => wss.once('listening', r))
    const { port } = wss.address() as { port: number }
    const b = bridge(`http://127.0.0.1:${port}`)
    expect(await codeOf(b.call('usage', {}))).toBe('invalid_reply')
  })

  it('gives a SIP user agent its own pipe to register through', async () => {
    const seen: string[] = []
    const router: SipBridgeTarget = {
      async fromLocal(msg, flow) {
        if (msg.kind !== 'request') return
        seen.push(msg.method)
        const req = msg as SipRequest
        const contact = req.headers.get('contact')
        flow.send(respond(req, 200, 'OK', contact ? [['Contact', `${contact};expires=600`]] : []))
      },
    }
    const s = await server(0, router)
    const b = bridge(s.url)
    const ua = await createKaiwaUserAgent({ channel: channelFromPipe(b.sip()), user: 'alice' })
    cleanup.push(() => ua.stop())
    expect(await ua.register()).toEqual({ status: 200, reason: 'OK' })
    expect(seen).toContain('REGISTER')
  })
})
