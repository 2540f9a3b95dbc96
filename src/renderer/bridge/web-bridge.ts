/**
 * KaiwaBridge over the headless node's control API WebSocket (`kaiwa node
 * --ui` serves this UI on the same origin). One socket carries requests
 * `{id, method, params}`, replies and pushed events; each SIP pipe is a socket
 * of its own, so a user agent's registration lives and dies with its pipe.
 *
 * - Requests made while the socket is down wait for it (their timeout runs
 *   from the call); requests in flight when it drops fail with `disconnected`,
 *   as nobody can tell whether the node ran them.
 * - The socket reconnects by itself with capped exponential backoff. A socket
 *   refused before opening is probed over HTTP once: a 401 means the token is
 *   wrong (state `unauthorized`, no more retries), anything else a node that
 *   is down or restarting.
 * - Replies and events are validated against the contract; a reply that does
 *   not match fails with `invalid_reply`, an event that does not is dropped.
 */
import type { ZodType } from 'zod'
import type { ConnectionState, KaiwaBridge, SipPipe } from '../../shared/api/bridge.js'
import {
  API_PREFIX,
  WS_TOKEN_PROTOCOL_PREFIX,
  WsReplySchema,
  apiContract,
  apiEvents,
} from '../../shared/api/contract.js'
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput } from '../../shared/api/contract.js'
import { bridgeSocketUrl, createWebSocketChannel, pipeFromChannel } from '../sip/bridge-channel.js'
import { ApiError } from './api-error.js'
import { createWebFiles } from './web-files.js'

export interface WebBridgeOptions {
  /** The node's API origin, e.g. `http://127.0.0.1:39001` (the page's own origin). */
  baseUrl: string
  /** The node's API token (from the address `kaiwa node --ui` printed; see access-token.ts). */
  token: string
  /**
   * Fail a request with `timeout` after this long; the node's own limit.
   * @default 30000
   */
  requestTimeoutMs?: number
  /**
   * First reconnect delay, doubling (with jitter) up to `reconnectMaxMs`.
   * @default 500
   */
  reconnectMinMs?: number
  /**
   * Longest reconnect delay.
   * @default 10000
   */
  reconnectMaxMs?: number
  /**
   * The WebSocket constructor.
   * @default globalThis.WebSocket
   */
  WebSocket?: typeof WebSocket
  /**
   * Used to tell a wrong token (401) from a stopped node.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch
}

export interface WebBridge extends KaiwaBridge {
  /** Close for good: state `closed`; pending and later requests fail with `disconnected`. */
  close(): void
}

interface Pending {
  method: string
  frame: string
  sent: boolean
  resolve: (value: unknown) => void
  reject: (err: ApiError) => void
  timer: ReturnType<typeof setTimeout>
}

export function createWebBridge(opts: WebBridgeOptions): WebBridge {
  const Socket = opts.WebSocket ?? globalThis.WebSocket
  const fetchFn = opts.fetch ?? globalThis.fetch?.bind(globalThis)
  const url = bridgeSocketUrl(opts.baseUrl)
  const timeoutMs = opts.requestTimeoutMs ?? 30_000
  const minDelay = opts.reconnectMinMs ?? 500
  const maxDelay = opts.reconnectMaxMs ?? 10_000
  const pending = new Map<number, Pending>()
  const eventListeners = new Set<(event: ApiEvent) => void>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  let nextId = 1
  let ws: WebSocket | undefined
  let state: ConnectionState = 'connecting'
  let failures = 0
  let retry: ReturnType<typeof setTimeout> | undefined

  const setState = (next: ConnectionState): void => {
    if (next === state) return
    state = next
    for (const l of [...connectionListeners]) l(next)
  }

  const failAll = (onlySent: boolean, err: ApiError): void => {
    for (const [id, p] of pending) {
      if (onlySent && !p.sent) continue
      pending.delete(id)
      clearTimeout(p.timer)
      p.reject(err)
    }
  }

  const flush = (): void => {
    const s = ws
    if (s == null || s.readyState !== s.OPEN) return
    for (const p of pending.values()) {
      if (p.sent) continue
      p.sent = true
      s.send(p.frame)
    }
  }

  const scheduleRetry = (): void => {
    if (state === 'closed' || state === 'unauthorized') return
    setState('connecting')
    const base = Math.min(maxDelay, minDelay * 2 ** Math.min(failures, 16))
    failures++
    // Jitter, so several tabs do not hammer a restarting node in step.
    retry = setTimeout(connect, base * (0.8 + Math.random() * 0.4))
  }

  /** A socket that never opened: wrong token, or no node? Only HTTP can tell. */
  const probe = async (): Promise<void> => {
    if (fetchFn == null) return scheduleRetry()
    try {
      const res = await fetchFn(`${opts.baseUrl.replace(/\/$/, '')}${API_PREFIX}/status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        body: '{}',
      })
      if (res.status === 401) {
        setState('unauthorized')
        failAll(
          false,
          new ApiError(
            'unauthorized',
            'The node refused the access token. Open the address `kaiwa node --ui` printed again.',
          ),
        )
        return
      }
    } catch {
      // The node is not there (yet): keep trying.
    }
    scheduleRetry()
  }

  function connect(): void {
    retry = undefined
    if (state === 'closed' || state === 'unauthorized') return
    let s: WebSocket
    try {
      s = new Socket(url, [`${WS_TOKEN_PROTOCOL_PREFIX}${opts.token}`])
    } catch {
      return scheduleRetry()
    }
    ws = s
    let opened = false
    s.addEventListener('open', () => {
      if (ws !== s) return
      opened = true
      failures = 0
      setState('open')
      flush()
    })
    s.addEventListener('message', (ev: MessageEvent) => {
      if (ws === s && typeof ev.data === 'string') onFrame(ev.data)
    })
    const ended = (): void => {
      if (ws !== s) return
      ws = undefined
      failAll(
        true,
        new ApiError(
          'disconnected',
          'Lost the connection to your Kaiwa node before it answered. Try again.',
        ),
      )
      if (opened) scheduleRetry()
      else void probe()
    }
    s.addEventListener('close', ended)
    // Browsers follow 'error' with 'close'; Node's WebSocket may not after a failed handshake.
    s.addEventListener('error', () => {
      ended()
      try {
        s.close()
      } catch {
        // not closable in this state; it is detached already
      }
    })
  }

  function onFrame(text: string): void {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return
    }
    const frame = WsReplySchema.safeParse(json)
    if (!frame.success) return // e.g. {sip} frames: not ours
    const f = frame.data
    if ('event' in f) {
      if (!Object.hasOwn(apiEvents, f.event)) return
      const name = f.event as keyof typeof apiEvents
      const data = (apiEvents[name] as ZodType).safeParse(f.data)
      if (!data.success) {
        console.warn(`kaiwa: dropped an invalid "${name}" event from the node`)
        return
      }
      const event = { event: name, data: data.data } as ApiEvent
      for (const l of [...eventListeners]) {
        try {
          l(event)
        } catch (err) {
          console.error('kaiwa: event listener failed', err)
        }
      }
      return
    }
    const p = pending.get(f.id)
    if (p == null) {
      if ('error' in f && f.id === -1) console.warn(`kaiwa: node error: ${f.error.message}`)
      return
    }
    pending.delete(f.id)
    clearTimeout(p.timer)
    if ('error' in f) return p.reject(new ApiError(f.error.code, f.error.message))
    const schema = apiContract[p.method as ApiMethod].output as ZodType
    const out = schema.safeParse(f.result)
    if (out.success) p.resolve(out.data)
    else
      p.reject(
        new ApiError(
          'invalid_reply',
          `The node sent an unexpected answer to "${p.method}". Update Kaiwa and the node to the same version.`,
        ),
      )
  }

  connect()

  return {
    kind: 'web',
    get connection() {
      return state
    },
    call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
      return new Promise<ApiOutput<M>>((resolve, reject) => {
        if (state === 'closed' || state === 'unauthorized') {
          return reject(new ApiError(state === 'closed' ? 'disconnected' : state, 'not connected'))
        }
        const id = nextId++
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(
            new ApiError(
              'timeout',
              `Your Kaiwa node did not answer within ${Math.round(timeoutMs / 1000)} s. Check that it is still running.`,
            ),
          )
        }, timeoutMs)
        pending.set(id, {
          method,
          frame: JSON.stringify({ id, method, params: input }),
          sent: false,
          resolve: resolve as (v: unknown) => void,
          reject,
          timer,
        })
        flush()
      })
    },
    onEvent(listener) {
      eventListeners.add(listener)
      return () => eventListeners.delete(listener)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      return () => connectionListeners.delete(listener)
    },
    // Browsers hand kaiwa: links to the desktop app, never to this page: nothing to deliver.
    onLink: () => () => {},
    files: createWebFiles({
      baseUrl: opts.baseUrl,
      token: opts.token,
      ...(opts.fetch != null ? { fetch: opts.fetch } : {}),
    }),
    sip(): SipPipe {
      return pipeFromChannel(
        createWebSocketChannel(opts.baseUrl, opts.token, { WebSocket: Socket }),
      )
    },
    close() {
      if (retry !== undefined) clearTimeout(retry)
      setState('closed')
      const s = ws
      ws = undefined
      if (s != null && s.readyState !== s.CLOSED && s.readyState !== s.CLOSING) s.close(1000)
      failAll(false, new ApiError('disconnected', 'The connection to the node was closed.'))
    },
  }
}
