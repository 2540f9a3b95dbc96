/**
 * The web bridge against a real control API server (test-node.ts): the
 * KaiwaBridge compliance suite, then what only the web bridge does: request
 * timeouts, a wrong token, and closing it for good.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { createWebBridge } from '../../../src/renderer/bridge/web-bridge.js'
import type { WebBridge, WebBridgeOptions } from '../../../src/renderer/bridge/web-bridge.js'
import type { ConnectionState } from '../../../src/shared/api/bridge.js'
import { bridgeCompliance } from './bridge-compliance.js'
import { SLOW_MS, TOKEN, startTestNode } from './test-node.js'
import type { TestNode } from './test-node.js'

function webBridge(url: string, opts: Partial<WebBridgeOptions> = {}): WebBridge {
  return createWebBridge({
    baseUrl: url,
    token: TOKEN,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    ...opts,
  })
}

/** A bare WebSocket server that answers every request `{role: 'emperor'}`. */
async function contractBreaker(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const { id } = JSON.parse(String(data)) as { id: number }
      ws.send(JSON.stringify({ id, result: { role: 'emperor' } }))
    }),
  )
  await new Promise((r) => wss.once('listening', r))
  const { port } = wss.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  }
}

bridgeCompliance(async () => {
  const node = await startTestNode()
  const bridge = webBridge(node.url)
  const extra: Array<() => Promise<void> | void> = []
  return {
    bridge,
    node,
    // The browser notices by itself: its socket closes, and reopens when the node is back.
    loseNode: () => node.stop(),
    restoreNode: () => node.start(),
    async brokenReplies() {
      const rogue = await contractBreaker()
      const b = webBridge(rogue.url)
      extra.push(rogue.close, () => b.close())
      return b
    },
    async teardown() {
      for (const c of extra.reverse()) await c()
      bridge.close()
      await node.stop()
    },
  }
})

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function setup(
  opts: Partial<WebBridgeOptions> = {},
): Promise<{ node: TestNode; b: WebBridge }> {
  const node = await startTestNode()
  cleanup.push(() => node.stop())
  const b = webBridge(node.url, opts)
  cleanup.push(() => b.close())
  return { node, b }
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
  it('fails a request that gets no answer in time with `timeout`', async () => {
    const { b } = await setup({ requestTimeoutMs: 200 })
    expect(await codeOf(b.call('lookup', { name: 'slow' }))).toBe('timeout')
    // The late answer is dropped and the bridge keeps working.
    await new Promise((r) => setTimeout(r, SLOW_MS))
    expect((await b.call('usage', {})).role).toBe('client')
  })

  it('stops retrying on a wrong token and says so', async () => {
    const { b } = await setup({ token: 'not-the-token' })
    expect(b.connection).toBe('connecting')
    const pending = codeOf(b.call('usage', {}))
    await until(b, 'unauthorized')
    expect(await pending).toBe('unauthorized')
    expect(await codeOf(b.call('usage', {}))).toBe('unauthorized')
  })

  it('closes for good: pending and later calls fail with `disconnected`', async () => {
    const { b } = await setup()
    await b.call('usage', {})
    const states: ConnectionState[] = []
    b.onConnection((s) => states.push(s))
    const pending = codeOf(b.call('lookup', { name: 'slow' }))
    await new Promise((r) => setTimeout(r, 50))
    b.close()
    expect(await pending).toBe('disconnected')
    expect(b.connection).toBe('closed')
    expect(states).toEqual(['closed'])
    expect(await codeOf(b.call('usage', {}))).toBe('disconnected')
    // No reconnect follows.
    await new Promise((r) => setTimeout(r, 300))
    expect(states).toEqual(['closed'])
  })
})
