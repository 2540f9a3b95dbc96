/**
 * The node side of the bridge tests: a real control API server
 * (startApiServer, which validates every input and output against the
 * contract) over a small hand-written API, a SIP router that answers every
 * request 200 (a REGISTER gets its Contact back with an expiry, RFC 3261
 * §10.3 step 8), and a switch to take the node away and bring it back on the
 * same port, as a restart does.
 */
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiEventSource, ApiServer } from '../../../src/main/api/api-server.js'
import type { SipBridgeTarget } from '../../../src/main/api/sip-bridge.js'
import type { KaiwaApi, StoredMessageJson, Usage } from '../../../src/shared/api/contract.js'
import { NotFoundError } from '../../../src/shared/errors.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'

export const TOKEN = 'W'.repeat(43)

/** How long `lookup {name: 'slow'}` takes: long enough to lose the node meanwhile. */
export const SLOW_MS = 1500

export const usage: Usage = {
  role: 'client',
  bytesRelayed: 0,
  relayKbps: 0,
  relayedCalls: 0,
  peersServed: 0,
  recordsStored: 0,
  mailboxBytes: 0,
  mailboxMessages: 0,
  caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 },
}

export const message: StoredMessageJson = {
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

export const settings = {
  supernodeMode: 'auto' as const,
  caps: { relayKbps: 1000, relayedCalls: 2, storageMiB: 64 },
}

// Only what the tests call; any other method fails inside the server (`internal`).
const api = {
  usage: async () => usage,
  lookup: async ({ name }) => {
    if (name === 'slow') await new Promise((r) => setTimeout(r, SLOW_MS))
    throw new NotFoundError(`no user "${name}" in the overlay`)
  },
  settings: async () => settings,
} as Partial<KaiwaApi> as KaiwaApi

export interface TestNode {
  readonly url: string
  readonly port: number
  readonly token: string
  /** SIP request methods the node's router received, in order. */
  readonly sipSeen: string[]
  /** Push an event to every connected client (not validated: the bridges must check). */
  broadcast(event: string, data: unknown): void
  /** The node goes away: its sockets close, its port refuses. */
  stop(): Promise<void>
  /** The node comes back on the same port. */
  start(): Promise<void>
}

export async function startTestNode(): Promise<TestNode> {
  const listeners = new Set<(event: string, data: unknown) => void>()
  const events: ApiEventSource = {
    on(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  const sipSeen: string[] = []
  const sip: SipBridgeTarget = {
    async fromLocal(msg, flow) {
      if (msg.kind !== 'request') return
      sipSeen.push(msg.method)
      const req = msg as SipRequest
      const contact = req.headers.get('contact')
      flow.send(respond(req, 200, 'OK', contact ? [['Contact', `${contact};expires=600`]] : []))
    },
  }
  const listen = (port: number): Promise<ApiServer> =>
    startApiServer({ port, token: TOKEN, api, events, sip, log: () => {} })
  let server: ApiServer | undefined = await listen(0)
  const port = server.port
  return {
    url: server.url,
    port,
    token: TOKEN,
    sipSeen,
    broadcast: (event, data) => server?.broadcast(event, data),
    async stop() {
      const s = server
      server = undefined
      await s?.close()
    },
    async start() {
      server ??= await listen(port)
    },
  }
}
