/**
 * The node's end of the SIP bridge (protocol: src/shared/api/sip-bridge-protocol.ts).
 * Every authenticated control-API WebSocket is one local user agent (the UI's
 * sip.js): its `{sip}` frames are parsed and handed to the SIP router as if a
 * phone had sent them, and the router reaches it back through the socket.
 *
 * - Requests from the socket go to `router.fromLocal`, with a flow whose
 *   `deliver` sends the router's requests (for bindings this socket
 *   REGISTERed) down the same socket.
 * - Each delivered request waits, keyed by transaction (RFC 3261 §17.2.3), for
 *   the socket's responses, which go to that request's `onResponse`; a
 *   response matching nothing waiting is offered to the router as a stray.
 * - On close, bindings this socket registered are removed (REGISTER with
 *   Expires: 0, unless another socket took the contact over since) and the
 *   requests still waiting are answered 480.
 */
import { extractUri } from '../../overlay/sip/local-registrar.js'
import type { Deliver } from '../../overlay/sip/local-registrar.js'
import type { SipFlow } from '../../overlay/sip/sip-router-types.js'
import { SipFrameSchema, encodeSipFrame } from '../../shared/api/sip-bridge-protocol.js'
import { randomToken, respond } from '../../shared/sip/responses.js'
import {
  SipHeaders,
  cseq,
  serializeSipMessage,
  transactionKey,
} from '../../shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { parseSipMessage } from '../../shared/sip/sip-parser.js'
import type { SipParseError } from '../../shared/sip/sip-parser.js'

/** What the bridge needs of the router; `SipRouter` (node.sip.router) fits it. */
export interface SipBridgeTarget {
  fromLocal(msg: SipMessage, flow: SipFlow): Promise<void>
}

export interface SipBridgeOptions {
  router: SipBridgeTarget
  log: (msg: string) => void
  /** Requests delivered to one socket and not yet answered; more draw a 503. */
  maxPending?: number
  /** Forget a delivered request after this long (longer than Timer C, 3 min). */
  pendingTtlMs?: number
  now?: () => number
}

/** One socket's user agent. */
export interface SipBridgeSession {
  /** Handle a frame `isSipFrame` accepted; returns an error message if it is not a valid one. */
  receive(frame: unknown): string | undefined
  /** The socket closed: drop its bindings and fail what still waits for it. Idempotent. */
  close(): void
  /** Delivered requests still waiting for this socket's final response. */
  readonly pending: number
}

export interface SipBridge {
  /** A socket became a local UA; `send` writes one text frame to it. */
  open(send: (frame: string) => void): SipBridgeSession
}

export const DEFAULT_MAX_PENDING = 256
const DEFAULT_PENDING_TTL_MS = 200_000
const KEEPALIVE = /^(?:\r\n)+$/

interface Pending {
  req: SipRequest
  onResponse: (res: SipResponse) => void
  at: number
}

/** What is needed to take a binding down again: the REGISTER that made it. */
interface Registration {
  contact: string
  uri: string
  from: string
  to: string
  callId: string
  seq: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function createSipBridge(opts: SipBridgeOptions): SipBridge {
  const { router, log } = opts
  const now = opts.now ?? Date.now
  const maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING
  const ttl = opts.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS
  /** Normalized contact URI -> the session whose REGISTER bound it last. */
  const owners = new Map<string, SipBridgeSession>()

  function open(send: (frame: string) => void): SipBridgeSession {
    const pending = new Map<string, Pending>()
    const registered = new Map<string, Registration>()
    let closed = false

    const sendMsg = (msg: SipMessage): void => {
      if (closed) return
      try {
        send(encodeSipFrame(decoder.decode(serializeSipMessage(msg))))
      } catch (err) {
        log(`sip bridge: could not send a SIP message to the socket: ${String(err)}`)
      }
    }

    const prune = (): void => {
      const oldest = now() - ttl
      for (const [key, p] of pending) {
        if (p.at > oldest) break // insertion order: the rest are younger
        pending.delete(key)
      }
    }

    const deliver: Deliver = (_contact, req, onResponse) => {
      if (closed) {
        if (req.method !== 'ACK') onResponse(respond(req, 480, 'Temporarily Unavailable'))
        return
      }
      // ACK has no response, and shares the INVITE's key: it must not replace its entry.
      if (req.method !== 'ACK') {
        prune()
        if (pending.size >= maxPending) {
          onResponse(respond(req, 503, 'Service Unavailable', [['Retry-After', '5']]))
          return
        }
        let key: string
        try {
          key = transactionKey(req)
        } catch (err) {
          log(`sip bridge: request ${req.method} without a transaction key: ${String(err)}`)
          return
        }
        pending.delete(key) // a re-delivery moves to the young end
        pending.set(key, { req, onResponse, at: now() })
      }
      sendMsg(req)
    }

    const route = (msg: SipMessage, flow: SipFlow): void => {
      router.fromLocal(msg, flow).catch((err: unknown) => {
        log(`sip bridge: routing ${describe(msg)} failed: ${String(err)}`)
        if (msg.kind === 'request' && msg.method !== 'ACK')
          sendMsg(respond(msg, 500, 'Internal Server Error'))
      })
    }

    const onRequest = (req: SipRequest): void => {
      const send =
        req.method === 'REGISTER' ? (res: SipResponse) => registeredBy(req, res) : sendMsg
      route(req, { send, deliver })
    }

    /** Remember which contacts this socket bound, for unregistering them on close. */
    const registeredBy = (req: SipRequest, res: SipResponse): void => {
      sendMsg(res)
      if (res.status !== 200) return
      const contacts = req.headers.getAll('contact')
      if (contacts.length === 1 && contacts[0]!.trim() === '*') {
        owners.clear() // every binding of the node is gone
        registered.clear()
        return
      }
      const headerExpires = req.headers.get('expires')
      for (const c of contacts) {
        const contact = extractUri(c)
        const key = contact.trim().toLowerCase()
        const expires = /;\s*expires\s*=\s*(\d+)/i.exec(c)?.[1] ?? headerExpires
        if (expires != null && /^\s*0+\s*$/.test(expires)) {
          registered.delete(key)
          if (owners.get(key) === session) owners.delete(key)
          continue
        }
        const h = req.headers
        registered.set(key, {
          contact,
          uri: req.uri,
          from: h.get('from') ?? '',
          to: h.get('to') ?? '',
          callId: h.get('call-id') ?? '',
          seq: cseq(req).seq,
        })
        owners.set(key, session)
      }
    }

    const onResponse = (res: SipResponse): void => {
      let key: string | undefined
      try {
        key = transactionKey(res)
      } catch {
        key = undefined
      }
      const p = key != null ? pending.get(key) : undefined
      if (p == null) {
        route(res, { send() {} }) // e.g. a 2xx retransmission: the router matches it itself
        return
      }
      if (res.status >= 200) pending.delete(key!)
      p.onResponse(res)
    }

    const reject = (error: SipParseError): void => {
      if (error.respondable && error.request != null && error.status != null) {
        sendMsg(respond(error.request, error.status, error.reason))
      } else log(`sip bridge: dropped an unparsable SIP message: ${error.reason}`)
    }

    const session: SipBridgeSession = {
      get pending() {
        return pending.size
      },
      receive(frame) {
        const parsed = SipFrameSchema.safeParse(frame)
        if (!parsed.success) return 'expected {sip: string} with one SIP message of at most 64 KiB'
        if (closed) return undefined
        const text = parsed.data.sip
        if (KEEPALIVE.test(text)) return undefined // RFC 5626 §3.5.1 CRLF keep-alive
        const bytes = encoder.encode(text)
        const result = parseSipMessage(bytes, { transport: 'stream' })
        if (!result.ok) {
          // A frame is a whole message: "wait for more bytes" means a truncated one. Parsing
          // it as a datagram says why, with a request to answer when there is one.
          const again = result.error.incomplete
            ? parseSipMessage(bytes, { transport: 'datagram' })
            : result
          reject(again.ok ? result.error : again.error)
          return undefined
        }
        const msg = result.message
        if (result.consumed < bytes.length) {
          if (msg.kind === 'request' && msg.method !== 'ACK')
            sendMsg(respond(msg, 400, 'One SIP message per frame'))
          else log('sip bridge: dropped a frame holding more than one SIP message')
          return undefined
        }
        if (msg.kind === 'request') onRequest(msg)
        else onResponse(msg)
        return undefined
      },
      close() {
        if (closed) return
        closed = true
        for (const [key, r] of registered) {
          if (owners.get(key) !== session) continue // re-registered by another socket
          owners.delete(key)
          unregister(r)
        }
        registered.clear()
        const waiting = [...pending.values()]
        pending.clear()
        for (const p of waiting) p.onResponse(respond(p.req, 480, 'Temporarily Unavailable'))
      },
    }
    return session
  }

  /** REGISTER with Expires: 0 for a contact whose socket closed (RFC 3261 §10.2.2). */
  function unregister(r: Registration): void {
    const headers = new SipHeaders([
      ['Via', `SIP/2.0/TCP kaiwa-bridge.invalid;branch=z9hG4bK${randomToken(10)}`],
      ['Max-Forwards', '70'],
      ['From', r.from],
      ['To', r.to],
      ['Call-ID', r.callId],
      ['CSeq', `${(r.seq + 1) % 2 ** 31} REGISTER`],
      ['Contact', `<${r.contact}>`],
      ['Expires', '0'],
    ])
    const req: SipRequest = {
      kind: 'request',
      method: 'REGISTER',
      uri: r.uri,
      version: 'SIP/2.0',
      headers,
      body: new Uint8Array(0),
    }
    const send = (res: SipResponse): void => {
      if (res.status >= 300) log(`sip bridge: removing binding ${r.contact}: ${res.status}`)
    }
    router.fromLocal(req, { send }).catch((err: unknown) => {
      log(`sip bridge: removing binding ${r.contact} failed: ${String(err)}`)
    })
  }

  return { open }
}

function describe(msg: SipMessage): string {
  return msg.kind === 'request' ? msg.method : `response ${msg.status}`
}
