/**
 * The node's local control API: `POST /api/v1/<method>` over HTTP and
 * `{id, method, params}` frames over a WebSocket, both generic over
 * `apiContract`. Bound to loopback only; every API route needs the bearer
 * token, and Host/Origin checks stop DNS-rebinding pages in a browser.
 * With `sip`, `{sip}` frames on the WebSocket make it the UI's SIP bridge.
 */
import { errorText, fail, STATUS_BY_CODE, unauthorizedMessage } from './api-errors.js'
import type { Outcome } from './api-errors.js'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { RawData, WebSocket } from 'ws'
import { z } from 'zod'
import {
  API_PREFIX,
  WS_TOKEN_PROTOCOL_PREFIX,
  WsRequestSchema,
  apiContract,
} from '../../shared/api/contract.js'
import type { ApiMethod, KaiwaApi } from '../../shared/api/contract.js'
import type { ErrorCode } from '../../shared/errors.js'
import { isSipFrame } from '../../shared/api/sip-bridge-protocol.js'
import { bearerToken, fromLocalPage, sendError, sendJson, tokenMatches } from './local-http.js'
import { createSipBridge } from './sip-bridge.js'
import type { SipBridgeTarget } from './sip-bridge.js'

/** Server-pushed events (e.g. incoming calls); `on` returns an unsubscribe function. */
export type ApiEventSource = {
  on(listener: (event: string, data: unknown) => void): () => void
}

export type ApiServerOptions = {
  host?: '127.0.0.1'
  /** 0 picks a free port. */
  port: number
  token: string
  /**
   * How the user gets a token, for the 401 message (e.g. "the desktop app (a
   * new token each run)"). Never a filesystem path: error bodies go to
   * whoever connects, and a hint that names a path is not used.
   * @default how to find the token of a `kaiwa node` (UNAUTHORIZED_HELP)
   */
  tokenHint?: string
  api: KaiwaApi
  events?: ApiEventSource
  log: (msg: string) => void
  /** Serves non-API GET requests (the UI); returns false if it did not handle one. */
  staticHandler?: (req: IncomingMessage, res: ServerResponse) => boolean
  /** The SIP router (node.sip.router): each WebSocket may then act as a SIP user agent. */
  sip?: SipBridgeTarget
  /**
   * Raw routes under the API prefix (file upload and download: file-routes.ts),
   * tried after the token check and before the JSON methods; true when handled.
   */
  routes?: RawRoutes
}

/** What a raw route gets: the request, and the contract's methods as the JSON API runs them. */
export type RawRoutes = (ctx: {
  req: IncomingMessage
  res: ServerResponse
  path: string
  invoke: (method: string, params: unknown) => Promise<Outcome>
}) => Promise<boolean>

export type ApiServer = {
  url: string
  port: number
  close(): Promise<void>
  broadcast(event: string, data: unknown): void
}

const MAX_BODY_BYTES = 64 * 1024
const MAX_WS_FRAME_BYTES = 256 * 1024
const REQUEST_TIMEOUT_MS = 30_000
const MAX_WS_BUFFERED_BYTES = 4 * 1024 * 1024
const WS_PATH = `${API_PREFIX}/ws`

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') {
    // The API is a local-only control channel; exposing it would hand the account to the network.
    throw new Error(`the control API only listens on 127.0.0.1, not ${String(host)}`)
  }
  const { api, log, token } = opts
  const unauthorized = unauthorizedMessage(opts.tokenHint)
  let port = 0

  const wsToken = (req: IncomingMessage): string | undefined => {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
    const proto = offered.find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX))
    return bearerToken(req) ?? proto?.slice(WS_TOKEN_PROTOCOL_PREFIX.length)
  }

  /** Validates, calls and validates again; shared by HTTP and WebSocket. Never throws. */
  async function invoke(name: string, params: unknown): Promise<Outcome> {
    if (!Object.hasOwn(apiContract, name)) return fail(404, 'not_found', `unknown method "${name}"`)
    const method = name as ApiMethod
    const contract = apiContract[method]
    const input = contract.input.safeParse(params ?? {})
    if (!input.success) return fail(400, 'invalid_input', z.prettifyError(input.error))
    let result: unknown
    try {
      const fn = api[method] as (input: unknown) => Promise<unknown>
      result = await fn.call(api, input.data)
    } catch (err) {
      // Named errors carry an ErrorCode; anything else is an unexpected failure (500).
      const code = (err as { code?: unknown } | null)?.code
      const known = typeof code === 'string' && Object.hasOwn(STATUS_BY_CODE, code)
      const status = known ? STATUS_BY_CODE[code as ErrorCode] : 500
      if (status === 500) {
        // The detail (often a file path, e.g. a corrupt file's) goes to the log, not the wire.
        log(`api ${method} failed: ${errorText(err)}`)
        return fail(500, 'internal', `${method} failed inside the node; see the node's log`)
      }
      const message = err instanceof Error ? err.message : String(err)
      return fail(status, code as string, message)
    }
    const output = contract.output.safeParse(result)
    if (!output.success) {
      // The implementation broke the contract: our bug, not the caller's.
      log(`api ${method} returned an invalid result: ${z.prettifyError(output.error)}`)
      return fail(500, 'internal', `the node returned an invalid result for ${method}; see its log`)
    }
    return { ok: true, result: output.data }
  }

  // ---- HTTP ----

  /** Resolves to the body, or null after answering 413 itself. */
  const readBody = (req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> =>
    new Promise((resolve, reject) => {
      const tooLarge = (): void => {
        sendError(res, 413, 'too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`)
        // Let Node drain the rest (bounded by requestTimeout) so the client can read the 413.
        req.removeAllListeners('data')
        req.resume()
        resolve(null)
      }
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge()
      const chunks: Buffer[] = []
      let size = 0
      req.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY_BYTES) return tooLarge()
        chunks.push(chunk)
      })
      req.on('end', () => resolve(Buffer.concat(chunks)))
      req.on('error', reject)
    })

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const given = bearerToken(req)
    if (given === undefined || !tokenMatches(given, token)) {
      res.setHeader('www-authenticate', 'Bearer')
      return sendError(res, 401, 'unauthorized', unauthorized)
    }
    if (opts.routes != null && (await opts.routes({ req, res, path, invoke }))) return
    if (req.method !== 'POST' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST')
      return sendError(res, 405, 'invalid_input', `use POST for ${path}`)
    }
    if (path === WS_PATH) return sendError(res, 426, 'invalid_input', `${WS_PATH} is a WebSocket`)
    let params: unknown = {}
    if (req.method === 'POST') {
      const body = await readBody(req, res)
      if (body === null) return
      const text = body.toString('utf8').trim()
      if (text !== '') {
        try {
          params = JSON.parse(text)
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err)
          return sendError(res, 400, 'invalid_input', `request body is not valid JSON: ${why}`)
        }
      }
    }
    const outcome = await invoke(path.slice(API_PREFIX.length + 1), params)
    if (outcome.ok) sendJson(res, 200, outcome.result)
    else sendError(res, outcome.status, outcome.code, outcome.message)
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!fromLocalPage(req, port)) {
      return sendError(res, 403, 'forbidden', 'requests must come from 127.0.0.1 or localhost')
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    if (path.startsWith(`${API_PREFIX}/`)) return handleApi(req, res, path)
    if (opts.staticHandler && (req.method === 'GET' || req.method === 'HEAD')) {
      if (opts.staticHandler(req, res)) return
    }
    sendError(res, 404, 'not_found', `no such path: ${path}`)
  }

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      log(`api request ${req.method} ${req.url} failed: ${errorText(err)}`)
      sendError(res, 500, 'internal', 'internal error; see the node log')
    })
  })
  server.requestTimeout = REQUEST_TIMEOUT_MS
  server.headersTimeout = Math.min(server.headersTimeout, REQUEST_TIMEOUT_MS)
  // Malformed HTTP and timeouts are answered (400/408) and dropped by Node's default clientError.

  // ---- WebSocket ----

  const sockets = new Set<WebSocket>()
  const sipBridge = opts.sip && createSipBridge({ router: opts.sip, log })
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_FRAME_BYTES,
    // Echo the token subprotocol: browsers drop the connection unless one offered protocol is chosen.
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return p
      return false
    },
  })

  const rejectUpgrade = (socket: Duplex, status: number, text: string, message: string): void => {
    const body = JSON.stringify({ error: { code: text.toLowerCase().replace(/ /g, '_'), message } })
    socket.once('finish', () => socket.destroy())
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log(`api websocket socket error: ${err.message}`))
    try {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
      if (path !== WS_PATH) {
        return rejectUpgrade(socket, 404, 'Not Found', `no WebSocket at ${path}`)
      }
      if (!fromLocalPage(req, port)) {
        return rejectUpgrade(socket, 403, 'Forbidden', 'connections must come from localhost')
      }
      const given = wsToken(req)
      if (given === undefined || !tokenMatches(given, token)) {
        return rejectUpgrade(socket, 401, 'Unauthorized', unauthorized)
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws))
    } catch (err) {
      log(`api websocket upgrade failed: ${errorText(err)}`)
      socket.destroy()
    }
  })

  const send = (ws: WebSocket, frame: string): void => {
    if (ws.readyState !== ws.OPEN) return
    // A socket that stops reading is dropped rather than buffered without bound.
    if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      log('api websocket client is not reading; dropping it')
      ws.terminate()
      return
    }
    ws.send(frame) // write errors surface as the socket's 'error' event, logged below
  }

  // Node events are produced only while a client listens: producing them runs
  // timers (status every 5 s, transfers every 1 s) that cost an idle node CPU.
  let unsubscribe: (() => void) | undefined
  const listening = (on: boolean): void => {
    if (on && unsubscribe == null) unsubscribe = opts.events?.on(broadcast)
    if (!on) {
      unsubscribe?.()
      unsubscribe = undefined
    }
  }

  function onConnection(ws: WebSocket): void {
    sockets.add(ws)
    listening(true)
    // Each socket is one SIP user agent of the node (see sip-bridge-protocol.ts).
    const sip = sipBridge?.open((frame) => send(ws, frame))
    ws.on('close', () => {
      sockets.delete(ws)
      if (sockets.size === 0) listening(false)
      sip?.close()
    })
    ws.on('error', (err) => log(`api websocket error: ${err.message}`))
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const reply = (id: number, body: { result: unknown } | { error: object }): void => {
        try {
          send(ws, JSON.stringify({ id, ...body }))
        } catch (err) {
          // A result JSON cannot encode (e.g. a bigint) is our bug; the caller still gets an answer.
          log(`api websocket reply ${id} failed: ${errorText(err)}`)
          replyError(id, 'internal', 'the result could not be encoded; see the node log')
        }
      }
      const replyError = (id: number, code: string, message: string): void =>
        reply(id, { error: { code, message } })
      if (isBinary) return replyError(-1, 'invalid_input', 'frames must be JSON text')
      let json: unknown
      try {
        json = JSON.parse(data.toString())
      } catch {
        return replyError(-1, 'invalid_input', 'frame is not valid JSON')
      }
      if (isSipFrame(json)) {
        if (sip == null) return replyError(-1, 'unavailable', 'this node has no SIP bridge')
        const problem = sip.receive(json)
        return problem === undefined ? undefined : replyError(-1, 'invalid_input', problem)
      }
      const frame = WsRequestSchema.safeParse(json)
      if (!frame.success) {
        const id = (json as { id?: unknown } | null)?.id
        const replyId = Number.isInteger(id) ? (id as number) : -1
        return replyError(replyId, 'invalid_input', 'expected {id, method, params}')
      }
      const { id, method, params } = frame.data
      void invoke(method, params).then((outcome) => {
        if (outcome.ok) reply(id, { result: outcome.result })
        else replyError(id, outcome.code, outcome.message)
      })
    })
  }

  function broadcast(event: string, data: unknown): void {
    let frame: string
    try {
      frame = JSON.stringify({ event, data })
    } catch (err) {
      log(`api event ${event} is not serialisable: ${errorText(err)}`)
      return
    }
    for (const ws of sockets) send(ws, frame)
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => log(`api server error: ${err.message}`))
  port = (server.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  async function close(): Promise<void> {
    listening(false)
    for (const ws of sockets) ws.close(1001, 'node shutting down')
    // Give peers a moment to acknowledge the close frame, then cut off the rest.
    const deadline = Date.now() + 1000
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    for (const ws of sockets) ws.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  return {
    url: `http://${host}:${port}`,
    port,
    close: () => (closing ??= close()),
    broadcast,
  }
}
