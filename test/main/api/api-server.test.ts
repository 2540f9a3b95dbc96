import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { ApiCallError, createApiClient } from '../../../src/main/api/api-client.js'
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiEventSource, ApiServer } from '../../../src/main/api/api-server.js'
import { API_PREFIX, WS_TOKEN_PROTOCOL_PREFIX } from '../../../src/shared/api/contract.js'
import type { ContactRecordJson, KaiwaApi, Status } from '../../../src/shared/api/contract.js'
import { NameTakenError, NotFoundError } from '../../../src/shared/errors.js'

const TOKEN = 'A'.repeat(43)

const status: Status = {
  peerId: '12D3KooWtest',
  role: 'client',
  supernodeMode: 'auto',
  name: null,
  fingerprint: 'ab:cd',
  addrs: [],
  peers: 0,
  supernodes: [],
  reachability: 'unknown',
  recordsHeld: 0,
  uptimeSeconds: 1,
  sip: null,
  turn: null,
  usage: {
    role: 'client',
    bytesRelayed: 0,
    relayKbps: 0,
    relayedCalls: 0,
    peersServed: 0,
    recordsStored: 0,
    mailboxBytes: 0,
    mailboxMessages: 0,
    caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 },
  },
  connections: [],
}

const record = (name: string): ContactRecordJson => ({
  name,
  publicKey: 'pk',
  fingerprint: 'ab:cd',
  seq: 1,
  claimedAt: '2025-01-01T00:00:00.000Z',
  issuedAt: '2025-01-01T00:00:00.000Z',
  expiresAt: '2025-01-02T00:00:00.000Z',
  devices: [],
  online: true,
})

// A hand-written implementation of part of the API: this tests the server mechanics, not the node.
const api = {
  status: async () => status,
  claim: async ({ name }) => {
    if (name === 'taken') throw new NameTakenError(name)
    return { record: record(name) }
  },
  lookup: async ({ name }) => {
    if (name === 'nobody') throw new NotFoundError(`no record for "${name}"`)
    if (name === 'slow') await new Promise((r) => setTimeout(r, 2000))
    if (name === 'broken') return { record: { name } } as never
    if (name === 'crash') throw new Error('boom')
    return { record: record(name) }
  },
  message: async () => ({ status: 'delivered', code: 200, reason: 'OK' }),
  inbox: async () => ({ messages: [] }),
  turnCredentials: async () => ({
    username: '1:peer',
    password: 'pw',
    realm: 'kaiwa',
    expiresAt: 1,
    urls: [],
    from: 'peer',
  }),
} as Partial<KaiwaApi> as KaiwaApi

const listeners = new Set<(event: string, data: unknown) => void>()
const events: ApiEventSource = {
  on(listener) {
    listeners.add(listener)
    return () => listeners.delete(listener)
  },
}

const logs: string[] = []
let server: ApiServer

beforeAll(async () => {
  server = await startApiServer({
    port: 0,
    token: TOKEN,
    tokenHint: '/data/api-token',
    api,
    events,
    log: (m) => logs.push(m),
  })
})
afterAll(async () => {
  await server.close()
  expect(listeners.size).toBe(0)
})

type ErrorJson = { error: { code: string; message: string } }
type Frame = Partial<ErrorJson> & { id?: number; result?: unknown; event?: string; data?: unknown }
type RawOpts = { method?: string; headers?: Record<string, string>; body?: string | Buffer }

/** node:http rather than fetch, so tests can forge Host and stream bodies. */
function raw(path: string, o: RawOpts = {}): Promise<{ status: number; json: ErrorJson }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: o.method ?? 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...o.headers } },
      (res) => {
        let text = ''
        res.on('data', (c) => (text += c))
        res.on('end', () => {
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = text
          }
          resolve({ status: res.statusCode ?? 0, json: json as ErrorJson })
        })
      },
    )
    req.on('error', reject)
    req.end(o.body)
  })
}

describe('HTTP', () => {
  it('refuses hosts other than 127.0.0.1', async () => {
    await expect(
      startApiServer({ host: '0.0.0.0' as '127.0.0.1', port: 0, token: TOKEN, api, log: () => {} }),
    ).rejects.toThrow(/127\.0\.0\.1/)
  })

  it('requires the token', async () => {
    const none = await raw(`${API_PREFIX}/status`, { headers: { authorization: '' } })
    expect(none.status).toBe(401)
    expect(none.json.error.code).toBe('unauthorized')
    // It says what to do, and names no path (issue 11: no path in error bodies).
    expect(none.json.error.message).toContain('kaiwa status --data DIR')
    expect(none.json.error.message).not.toContain('/data')
    const wrong = await raw(`${API_PREFIX}/status`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
  })

  it('rejects a foreign Host header (DNS rebinding)', async () => {
    const r = await raw(`${API_PREFIX}/status`, {
      headers: { host: `evil.example:${server.port}` },
    })
    expect(r.status).toBe(403)
    const ok = await raw(`${API_PREFIX}/status`, { headers: { host: `localhost:${server.port}` } })
    expect(ok.status).toBe(200)
  })

  it('serves GET and POST', async () => {
    expect((await raw(`${API_PREFIX}/status`, { method: 'GET' })).json).toEqual(status)
    const r = await raw(`${API_PREFIX}/status`, { body: '{}' })
    expect(r.status).toBe(200)
    expect(r.json).toEqual(status)
  })

  it('maps bad input, bad JSON and unknown methods', async () => {
    const bad = await raw(`${API_PREFIX}/claim`, { body: '{"name":""}' })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('invalid_input')
    const extra = await raw(`${API_PREFIX}/status`, { body: '{"x":1}' })
    expect(extra.status).toBe(400)
    const json = await raw(`${API_PREFIX}/claim`, { body: '{"name":' })
    expect(json.status).toBe(400)
    expect(json.json.error.code).toBe('invalid_input')
    const unknown = await raw(`${API_PREFIX}/nope`, { body: '{}' })
    expect(unknown.status).toBe(404)
    expect((await raw(`${API_PREFIX}/__proto__`, { body: '{}' })).status).toBe(404)
    expect((await raw(`${API_PREFIX}/toString`, { body: '{}' })).status).toBe(404)
    expect((await raw('/elsewhere', { method: 'GET' })).status).toBe(404)
  })

  it('maps named errors to statuses', async () => {
    const taken = await raw(`${API_PREFIX}/claim`, { body: '{"name":"taken"}' })
    expect(taken.status).toBe(409)
    expect(taken.json.error.code).toBe('name_taken')
    const missing = await raw(`${API_PREFIX}/lookup`, { body: '{"name":"nobody"}' })
    expect(missing.status).toBe(404)
    expect(missing.json.error).toEqual({ code: 'not_found', message: 'no record for "nobody"' })
    const crash = await raw(`${API_PREFIX}/lookup`, { body: '{"name":"crash"}' })
    expect(crash.status).toBe(500)
    expect(crash.json.error.code).toBe('internal')
  })

  it('treats an invalid result as a logged 500', async () => {
    const r = await raw(`${API_PREFIX}/lookup`, { body: '{"name":"broken"}' })
    expect(r.status).toBe(500)
    expect(logs.some((l) => l.includes('invalid result'))).toBe(true)
  })

  it('limits the body size, with and without Content-Length', async () => {
    const huge = JSON.stringify({ name: 'x'.repeat(100 * 1024) })
    expect((await raw(`${API_PREFIX}/claim`, { body: huge })).status).toBe(413)
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.url}${API_PREFIX}/claim`,
        { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => resolve(res.statusCode ?? 0),
      )
      req.on('error', reject)
      for (let i = 0; i < 10; i++) req.write('x'.repeat(10 * 1024))
      req.end()
    })
    expect(chunked).toBe(413)
  })

  it('round-trips through createApiClient', async () => {
    const client = createApiClient({ url: server.url, token: TOKEN })
    expect(await client.status({})).toEqual(status)
    expect((await client.claim({ name: 'alice' })).record.name).toBe('alice')
    const err = await client.claim({ name: 'taken' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiCallError)
    expect(err).toMatchObject({ status: 409, code: 'name_taken' })
    const unauth = createApiClient({ url: server.url, token: 'wrong' })
    await expect(unauth.status({})).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
  })

  it('client reports timeouts and a stopped node', async () => {
    const slow = createApiClient({ url: server.url, token: TOKEN, timeoutMs: 200 })
    await expect(slow.lookup({ name: 'slow' })).rejects.toMatchObject({ code: 'timeout' })
    const other = await startApiServer({ port: 0, token: TOKEN, api, log: () => {} })
    await other.close()
    const dead = createApiClient({ url: other.url, token: TOKEN })
    const err = await dead.status({}).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'unreachable' })
    expect((err as Error).message).toContain(other.url)
  })
})

function openWs(o: { protocols?: string[]; headers?: Record<string, string>; origin?: string }) {
  return new WebSocket(`ws://127.0.0.1:${server.port}${API_PREFIX}/ws`, o.protocols, {
    headers: o.headers,
    origin: o.origin,
  })
}

/** Resolves with the HTTP status of a refused upgrade, or 101 if it opened. */
function upgradeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('open', () => {
      ws.close()
      resolve(101)
    })
    ws.on('error', () => {})
  })
}

async function connected(ws: WebSocket): Promise<(frame: unknown) => Promise<Frame>> {
  const queue: Frame[] = []
  const waiters: ((v: Frame) => void)[] = []
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Frame
    const w = waiters.shift()
    if (w) w(msg)
    else queue.push(msg)
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const next = (): Promise<Frame> =>
    queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))
  return (frame) => {
    if (frame !== undefined) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
    return next()
  }
}

describe('WebSocket', () => {
  const tokenProto = `${WS_TOKEN_PROTOCOL_PREFIX}${TOKEN}`

  it('requires the token', async () => {
    expect(await upgradeStatus(openWs({}))).toBe(401)
    expect(await upgradeStatus(openWs({ protocols: [`${WS_TOKEN_PROTOCOL_PREFIX}nope`] }))).toBe(
      401,
    )
    expect(await upgradeStatus(openWs({ headers: { authorization: 'Bearer nope' } }))).toBe(401)
  })

  it('rejects a foreign Host or Origin', async () => {
    const host = openWs({
      protocols: [tokenProto],
      headers: { host: `evil.example:${server.port}` },
    })
    expect(await upgradeStatus(host)).toBe(403)
    expect(
      await upgradeStatus(openWs({ protocols: [tokenProto], origin: 'http://evil.example' })),
    ).toBe(403)
    const local = openWs({ protocols: [tokenProto], origin: `http://localhost:${server.port}` })
    expect(await upgradeStatus(local)).toBe(101)
  })

  it('answers requests with the subprotocol token', async () => {
    const ws = openWs({ protocols: [tokenProto] })
    const call = await connected(ws)
    expect(ws.protocol).toBe(tokenProto)
    expect(await call({ id: 1, method: 'status', params: {} })).toEqual({ id: 1, result: status })
    expect(await call({ id: 2, method: 'lookup', params: { name: 'nobody' } })).toMatchObject({
      id: 2,
      error: { code: 'not_found' },
    })
    ws.close()
  })

  it('answers requests with the header token and receives broadcasts', async () => {
    const ws = openWs({ headers: { authorization: `Bearer ${TOKEN}` } })
    const call = await connected(ws)
    expect(await call({ id: 7, method: 'claim', params: { name: 'bob' } })).toMatchObject({
      id: 7,
      result: { record: { name: 'bob' } },
    })
    server.broadcast('hello', { n: 1 })
    expect(await call(undefined)).toEqual({ event: 'hello', data: { n: 1 } })
    for (const l of listeners) l('incoming', { from: 'carol' })
    expect(await call(undefined)).toEqual({ event: 'incoming', data: { from: 'carol' } })
    ws.close()
  })

  it('subscribes to node events only while a client is connected', async () => {
    const until = async (ok: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      expect(ok()).toBe(true)
    }
    // Producing events runs timers: an idle node with no UI attached runs none.
    await until(() => listeners.size === 0)
    const first = openWs({ protocols: [tokenProto] })
    const second = openWs({ protocols: [tokenProto] })
    await connected(first)
    await connected(second)
    expect(listeners.size).toBe(1)
    first.close()
    await new Promise((r) => first.once('close', r))
    expect(listeners.size).toBe(1)
    second.close()
    await until(() => listeners.size === 0)
  })

  it('survives garbage frames', async () => {
    const ws = openWs({ protocols: [tokenProto] })
    const call = await connected(ws)
    expect(await call('not json')).toMatchObject({ id: -1, error: { code: 'invalid_input' } })
    expect(await call({ method: 'status' })).toMatchObject({ id: -1, error: {} })
    expect(await call({ id: 3, method: 5 })).toMatchObject({ id: 3, error: {} })
    expect(await call({ id: 4, method: 'nope' })).toMatchObject({
      id: 4,
      error: { code: 'not_found' },
    })
    expect(await call({ id: 5, method: 'claim', params: 'x' })).toMatchObject({ id: 5, error: {} })
    ws.send(Buffer.from([0xff, 0x00]))
    expect(await call(undefined)).toMatchObject({ id: -1, error: {} })
    expect(await call({ id: 6, method: 'status' })).toEqual({ id: 6, result: status })
    // An oversized frame closes only that socket.
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)))
    ws.send('x'.repeat(300 * 1024))
    expect(await closed).toBe(1009)
    const again = await connected(openWs({ protocols: [tokenProto] }))
    expect(await again({ id: 8, method: 'status' })).toEqual({ id: 8, result: status })
  })
})
