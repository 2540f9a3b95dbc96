/**
 * The pipe between the UI's SIP user agent and its node: whole SIP messages,
 * as text, over the control API WebSocket's `{sip}` frames (see
 * src/shared/api/sip-bridge-protocol.ts). The transport depends only on the
 * SipBridgeChannel interface, so an Electron IPC pipe can replace the socket.
 */
import type { SipPipe } from '../../shared/api/bridge.js'
import { API_PREFIX, WS_TOKEN_PROTOCOL_PREFIX } from '../../shared/api/contract.js'
import { decodeSipFrame, encodeSipFrame } from '../../shared/api/sip-bridge-protocol.js'

export interface SipBridgeChannel {
  /** Send one raw SIP message. Throws when the channel is not open. */
  send(raw: string): void
  /** Every SIP message the node sends; returns an unsubscribe function. */
  onMessage(cb: (raw: string) => void): () => void
  /** The channel was lost after opening (not after `close()`); returns an unsubscribe function. */
  onClose(cb: (error: Error) => void): () => void
  /** Open (or reopen after a close); rejects if it cannot. */
  connect(): Promise<void>
  /** Close; no `onClose` follows. Safe to call in any state. */
  close(): void
  readonly open: boolean
}

export interface WebSocketChannelOptions {
  /** Give up opening after this long (default 10 s). */
  connectTimeoutMs?: number
  /** The WebSocket constructor (default: the global one). */
  WebSocket?: typeof WebSocket
}

/**
 * A channel over the control API WebSocket. `url` is the socket URL
 * (`ws://127.0.0.1:PORT/api/v1/ws`) or the API base (`http://127.0.0.1:PORT`).
 * The token rides in the `kaiwa.token.<token>` subprotocol, as browsers cannot
 * set headers on a WebSocket upgrade.
 */
export function createWebSocketChannel(
  url: string,
  token: string,
  opts: WebSocketChannelOptions = {},
): SipBridgeChannel {
  const target = bridgeSocketUrl(url)
  const Socket = opts.WebSocket ?? globalThis.WebSocket
  const messageListeners = new Set<(raw: string) => void>()
  const closeListeners = new Set<(error: Error) => void>()
  let ws: WebSocket | undefined

  const emit = <T>(listeners: Set<(v: T) => void>, value: T): void => {
    for (const l of [...listeners]) {
      try {
        l(value)
      } catch (err) {
        console.error('sip bridge channel listener failed', err)
      }
    }
  }

  const close = (): void => {
    const s = ws
    ws = undefined // detaches: events of a closed socket are ignored
    if (s != null && s.readyState !== s.CLOSED && s.readyState !== s.CLOSING) s.close(1000)
  }

  const connect = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      close()
      let s: WebSocket
      try {
        s = new Socket(target, [`${WS_TOKEN_PROTOCOL_PREFIX}${token}`])
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
        return
      }
      ws = s
      let opened = false
      let settled = false
      const fail = (err: Error): void => {
        clearTimeout(timer)
        if (settled) return
        settled = true
        reject(err)
      }
      const timeoutMs = opts.connectTimeoutMs ?? 10_000
      const timer = setTimeout(() => {
        if (ws === s) close()
        fail(new Error(`the node did not accept the SIP bridge within ${timeoutMs} ms`))
      }, timeoutMs)
      s.addEventListener('open', () => {
        clearTimeout(timer)
        if (settled) return
        settled = true
        if (ws !== s) return reject(new Error('the SIP bridge was closed while connecting'))
        opened = true
        resolve()
      })
      s.addEventListener('message', (ev: MessageEvent) => {
        if (ws !== s || typeof ev.data !== 'string') return
        const raw = decodeSipFrame(ev.data)
        if (raw !== undefined) emit(messageListeners, raw)
      })
      const ended = (why: string): void => {
        const mine = ws === s
        if (mine) ws = undefined
        // A refused upgrade (wrong token: 401) ends before 'open'.
        fail(new Error(`the SIP bridge could not connect (${why})`))
        if (mine && opened) emit(closeListeners, new Error(`the SIP bridge closed (${why})`))
      }
      s.addEventListener('close', (ev: CloseEvent) => ended(`WebSocket closed, code ${ev.code}`))
      // Browsers follow 'error' with 'close'; Node's WebSocket may not after a failed handshake.
      s.addEventListener('error', () => {
        const mine = ws === s
        ended('WebSocket error')
        if (mine) {
          try {
            s.close()
          } catch {
            // not closable in this state; it is detached already
          }
        }
      })
    })

  return {
    send(raw) {
      if (ws == null || ws.readyState !== ws.OPEN) throw new Error('the SIP bridge is not open')
      ws.send(encodeSipFrame(raw))
    },
    onMessage(cb) {
      messageListeners.add(cb)
      return () => messageListeners.delete(cb)
    },
    onClose(cb) {
      closeListeners.add(cb)
      return () => closeListeners.delete(cb)
    },
    connect,
    close,
    get open() {
      return ws != null && ws.readyState === ws.OPEN
    },
  }
}

/** The control API WebSocket URL for a socket URL or an API base URL. */
export function bridgeSocketUrl(url: string): string {
  const u = new URL(url)
  if (u.protocol === 'http:') u.protocol = 'ws:'
  else if (u.protocol === 'https:') u.protocol = 'wss:'
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new Error(`the SIP bridge needs a ws:, wss:, http: or https: URL, not ${u.protocol}`)
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = `${API_PREFIX}/ws`
  return u.toString()
}

/**
 * A SipBridgeChannel over a bridge's SipPipe (KaiwaBridge.sip(): the preload's
 * IPC pipe or the web bridge's socket), so the transport needs no second kind
 * of channel.
 */
export function channelFromPipe(pipe: SipPipe): SipBridgeChannel {
  return {
    send: (raw) => pipe.send(raw),
    onMessage: (cb) => pipe.onMessage(cb),
    onClose: (cb) => pipe.onClose(cb),
    connect: () => pipe.open(),
    close: () => pipe.close(),
    get open() {
      return pipe.isOpen
    },
  }
}

/** The SipPipe face of a channel (what the web bridge hands out). */
export function pipeFromChannel(channel: SipBridgeChannel): SipPipe {
  return {
    open: () => channel.connect(),
    send: (raw) => channel.send(raw),
    onMessage: (cb) => channel.onMessage(cb),
    onClose: (cb) => channel.onClose(cb),
    close: () => channel.close(),
    get isOpen() {
      return channel.open
    },
  }
}
