/**
 * The SIP bridge end to end: real nodes (a supernode, alice and bob), a
 * control API server on each client node, and real sip.js user agents (the
 * UI's, run here in Node) talking SIP to their node over the API WebSocket
 * through OverlayTransport. Also the bridge's edges: garbage frames, unknown
 * users, no token, and a closed socket taking its binding with it.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket as WsClient } from 'ws'
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiServer } from '../../../src/main/api/api-server.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { WS_TOKEN_PROTOCOL_PREFIX } from '../../../src/shared/api/contract.js'
import { createWebSocketChannel } from '../../../src/renderer/sip/overlay-transport.js'
import { createKaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import type { IncomingText, KaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import { startTestNode, waitFor, startClient } from '../../helpers/nodes.js'

const TOKEN = 'S'.repeat(43)

let sn: KaiwaNode
let alice: KaiwaNode
let bob: KaiwaNode
let apiA: ApiServer
let apiB: ApiServer
let uaA: KaiwaUserAgent
let uaB: KaiwaUserAgent
const servers: ApiServer[] = []
const uas: KaiwaUserAgent[] = []

async function client(name: string): Promise<KaiwaNode> {
  return startClient(sn, { name })
}

async function api(node: KaiwaNode, withSip = true): Promise<ApiServer> {
  const s = await startApiServer({
    port: 0,
    token: TOKEN,
    api: node.api,
    ...(withSip ? { sip: node.sip.router } : {}),
    log: () => {},
  })
  servers.push(s)
  return s
}

async function userAgent(server: ApiServer, user: string): Promise<KaiwaUserAgent> {
  const ua = await createKaiwaUserAgent({
    channel: createWebSocketChannel(server.url, TOKEN),
    user,
  })
  uas.push(ua)
  return ua
}

/** A bare socket on the API WebSocket (Node's global WebSocket, as a browser would). */
async function rawSocket(server: ApiServer) {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/ws`, [
    `${WS_TOKEN_PROTOCOL_PREFIX}${TOKEN}`,
  ])
  const frames: Array<Record<string, unknown>> = []
  ws.addEventListener('message', (ev) => frames.push(JSON.parse(String(ev.data))))
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve)
    ws.addEventListener('error', reject)
  })
  const next = async (pred: (f: Record<string, unknown>) => boolean, what: string) => {
    await waitFor(() => frames.some(pred), 10_000, what)
    const i = frames.findIndex(pred)
    return frames.splice(i, 1)[0]!
  }
  return { ws, frames, next, sip: (raw: string) => ws.send(JSON.stringify({ sip: raw })) }
}

function sipRequest(method: string, uri: string, to: string, extra = ''): string {
  const id = Math.random().toString(36).slice(2)
  return (
    `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/TCP raw.invalid;branch=z9hG4bK${id}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:bob@kaiwa>;tag=${id}\r\nTo: <${to}>\r\nCall-ID: ${id}\r\n` +
    `CSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`
  )
}

const statusOf = (f: Record<string, unknown>): number =>
  Number(/^SIP\/2\.0 (\d{3})/.exec(String(f.sip))?.[1] ?? 0)

describe('SIP bridge', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    alice = await client('alice')
    bob = await client('bob')
    apiA = await api(alice)
    apiB = await api(bob)
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled(uas.map((u) => u.stop()))
    await Promise.allSettled(servers.map((s) => s.close()))
    await Promise.allSettled([sn, alice, bob].map((n) => n.stop()))
    await Promise.allSettled(
      [sn, alice, bob].map((n) => rm(n.dataDir, { recursive: true, force: true })),
    )
  })

  it('registers real sip.js user agents and carries a MESSAGE between them over the overlay', async () => {
    uaA = await userAgent(apiA, 'alice')
    uaB = await userAgent(apiB, 'bob')
    expect(await uaA.register()).toEqual({ status: 200, reason: 'OK' })
    expect(await uaB.register()).toEqual({ status: 200, reason: 'OK' })
    expect(bob.sip.router.registrar.active()).toHaveLength(1)
    expect(bob.sip.router.registrar.active()[0]!.contact).toMatch(/\.invalid;transport=tcp$/)

    const got: IncomingText[] = []
    uaB.onMessage((m) => got.push(m))
    const res = await uaA.sendMessage('bob', 'hello from sip.js')
    expect(res).toEqual({ status: 200, reason: 'OK' })
    expect(got).toEqual([
      expect.objectContaining({
        from: 'sip:alice@kaiwa',
        fromUser: 'alice',
        text: 'hello from sip.js',
        contentType: 'text/plain;charset=utf-8',
      }),
    ])
    // Bob's node keeps it in his history once his UA has answered 2xx.
    await waitFor(
      async () => (await bob.api.inbox({})).messages.some((m) => m.text === 'hello from sip.js'),
      5000,
      "the message in bob's history",
    )
    expect((await bob.api.inbox({})).messages.at(-1)).toMatchObject({
      direction: 'in',
      from: 'sip:alice@kaiwa',
      text: 'hello from sip.js',
      status: 'received',
    })
    // The sender's history is written as the final response passes through.
    await waitFor(
      async () => (await alice.sip.history.list({ direction: 'out' })).length > 0,
      5000,
      "the message in alice's history",
    )
    expect((await alice.sip.history.list({ direction: 'out' })).at(-1)).toMatchObject({
      to: 'sip:bob@kaiwa',
      status: 'delivered',
      code: 200,
    })

    // And back: alice has no listener yet, so her UA refuses (480) ...
    expect((await uaB.sendMessage('alice', 'anyone?')).status).toBe(480)
    const gotA: IncomingText[] = []
    uaA.onMessage((m) => gotA.push(m))
    expect((await uaB.sendMessage('alice', 'hi alice')).status).toBe(200)
    expect(gotA.map((m) => [m.fromUser, m.text])).toEqual([['bob', 'hi alice']])
  })

  it('a MESSAGE to a user nobody claimed comes back 404 to sip.js', async () => {
    const res = await uaA.sendMessage('nobody-here', 'hello?')
    expect(res.status).toBe(404)
  })

  it('answers a malformed request 400, ignores garbage, and the socket keeps working', async () => {
    const raw = await rawSocket(apiB)
    raw.sip('garbage, not SIP')
    // Mandatory headers present but the CSeq method is wrong: answerable, 400.
    raw.sip(sipRequest('OPTIONS', 'sip:bob@kaiwa', 'sip:bob@kaiwa').replace('1 OPTIONS', '1 BYE'))
    const bad = await raw.next((f) => 'sip' in f, 'a SIP answer to the malformed request')
    expect(statusOf(bad)).toBe(400)
    raw.ws.send(JSON.stringify({ sip: 42 }))
    const err = await raw.next((f) => f.id === -1, 'an API error frame')
    expect(err).toMatchObject({ error: { code: 'invalid_input' } })
    // The same socket still serves the API and SIP.
    raw.ws.send(JSON.stringify({ id: 7, method: 'status', params: {} }))
    const reply = await raw.next((f) => f.id === 7, 'the status reply')
    expect(reply).toMatchObject({ result: { name: 'bob' } })
    raw.sip(sipRequest('MESSAGE', 'sip:nobody-here@kaiwa', 'sip:nobody-here@kaiwa'))
    const notFound = await raw.next((f) => 'sip' in f, 'the 404')
    expect(statusOf(notFound)).toBe(404)
    expect(raw.frames).toEqual([]) // nothing for the garbage
    raw.ws.close()
  })

  it('refuses the bridge without the token (401), and on a server without a router', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WsClient(`${apiA.url.replace('http', 'ws')}/api/v1/ws`)
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('open', () => reject(new Error('opened without a token')))
      ws.on('error', () => {})
    })
    expect(status).toBe(401)
    await expect(createWebSocketChannel(apiA.url, 'wrong-token').connect()).rejects.toThrow(
      /could not connect/,
    )
    const plain = await api(alice, false)
    const raw = await rawSocket(plain)
    raw.sip(sipRequest('OPTIONS', 'sip:alice@kaiwa', 'sip:alice@kaiwa'))
    const err = await raw.next((f) => f.id === -1, 'an error frame')
    expect(err).toMatchObject({ error: { code: 'unavailable' } })
    raw.ws.close()
  })

  it('a closed socket takes its binding with it; a stopped UA unregisters', async () => {
    const raw = await rawSocket(apiB)
    raw.sip(
      sipRequest('REGISTER', 'sip:kaiwa', 'sip:bob@kaiwa', 'Contact: <sip:raw@raw.invalid>\r\n'),
    )
    expect(statusOf(await raw.next((f) => 'sip' in f, 'the REGISTER answer'))).toBe(200)
    expect(bob.sip.router.registrar.active()).toHaveLength(2)
    raw.ws.close()
    await waitFor(
      () => bob.sip.router.registrar.active().length === 1,
      5000,
      'the closed socket binding to go',
    )
    expect(bob.sip.router.registrar.byContact('sip:raw@raw.invalid')).toBeUndefined()

    await uaB.stop()
    await waitFor(
      () => bob.sip.router.registrar.active().length === 0,
      5000,
      "the stopped UA's binding to go",
    )
    // With no UA registered, bob's node takes the message itself.
    expect((await uaA.sendMessage('bob', 'are you there?')).status).toBe(200)
    expect((await bob.api.inbox({})).messages.at(-1)).toMatchObject({ text: 'are you there?' })
  })
})
