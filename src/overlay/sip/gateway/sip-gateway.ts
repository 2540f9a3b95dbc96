/**
 * The local SIP gateway: a standard SIP phone on this machine becomes a device
 * of the node's account. It listens on 127.0.0.1 only, UDP and TCP on one port
 * (RFC 3261 §18), and sits between phones and the SIP router:
 *
 *   phone ──UDP/TCP──► rate limit ─► parse (RFC 4475-strict) ─► server
 *   transaction ─► Proxy-Require / Route / Digest auth ─► router.fromLocal
 *
 * and back: the router answers through the flow's `send`; requests for a
 * registered phone come through the REGISTER's `deliver`, run in a client
 * transaction over the phone's TCP connection or over UDP to its contact.
 * Between the transactions and the router, media-edge.ts Record-Routes
 * dialogs through the gateway (dialog-routes.ts says why) and passes every
 * SDP body through the GatewayMedia.
 *
 * Only well-formed requests that passed authentication reach the router (ACK
 * and CANCEL are never challenged, §22.1); a malformed request that can be
 * answered gets its status (400/505/501/513...) with a To tag, anything else
 * is dropped with a rate-limited debug line.
 */
import type { Logger } from '../../../shared/logger.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { serializeSipMessage } from '../../../shared/sip/sip-message.js'
import { DEFAULT_MAX_SIP_BYTES, parseSipMessage } from '../../../shared/sip/sip-parser.js'
import type { ParseResult } from '../../../shared/sip/sip-parser.js'
import { respond } from '../../../shared/sip/responses.js'
import type { Deliver } from '../local-registrar.js'
import type { SipFlow } from '../sip-router-types.js'
import { ClientTransactions } from './client-transactions.js'
import { DEFAULT_ALGORITHMS, DEFAULT_NONCE_TTL_MS } from './digest-auth.js'
import type { DigestAlgorithm } from './digest-auth.js'
import { DialogRoutes } from './dialog-routes.js'
import { FlowBindings, unregisterRequest } from './flow-bindings.js'
import { GatewayAuth } from './gateway-auth.js'
import type { GatewayRestartInit } from './restart-hooks.js'
import { PASSTHROUGH_MEDIA } from './gateway-media.js'
import type { GatewayMedia } from './gateway-media.js'
import { DEFAULT_TIMERS, bindError, contactAddress, isLoopbackHost } from './gateway-types.js'
import type { GatewayFlow, SipTimers } from './gateway-types.js'
import { MediaEdge } from './media-edge.js'
import { DEFAULT_RATE_LIMIT, LogThrottle, RateLimiter } from './rate-limiter.js'
import type { RateLimit } from './rate-limiter.js'
import { ServerTransactions } from './server-transactions.js'
import { TcpTransport } from './tcp-transport.js'
import { UdpTransport } from './udp-transport.js'

export const DEFAULT_SIP_PORT = 5060
export const GATEWAY_HOST = '127.0.0.1'

export interface SipGatewayTuning {
  /** Per source: ip:port on UDP, one connection on TCP. */
  rateLimit: RateLimit
  /** A TCP message (and a connection's first one) must be complete within this. */
  slowSenderMs: number
  maxTcpConnections: number
  /** Larger UDP datagrams are dropped unread (§18.1.1 puts big requests on TCP). */
  maxDatagramBytes: number
  /** Largest message on TCP (413/framing error past it). */
  maxMessageBytes: number
  timers: SipTimers
  nonceTtlMs: number
  algorithms: readonly DigestAlgorithm[]
  /** Wrong credentials from one source within the window, before it gets 403. */
  maxAuthFailures: number
  authFailureWindowMs: number
}

export const DEFAULT_GATEWAY_TUNING: SipGatewayTuning = {
  rateLimit: DEFAULT_RATE_LIMIT,
  slowSenderMs: 10_000,
  maxTcpConnections: 64,
  maxDatagramBytes: 32 * 1024,
  maxMessageBytes: DEFAULT_MAX_SIP_BYTES,
  timers: DEFAULT_TIMERS,
  nonceTtlMs: DEFAULT_NONCE_TTL_MS,
  algorithms: DEFAULT_ALGORITHMS,
  maxAuthFailures: 5,
  authFailureWindowMs: 60_000,
}

/** What the gateway needs of the router (called through the object, so tests can wrap it). */
export interface GatewayRouter {
  fromLocal(msg: SipMessage, flow: SipFlow): Promise<void>
}

export interface SipGatewayInit extends GatewayRestartInit {
  router: GatewayRouter
  /** The overlay domain: the digest realm. */
  domain: string
  /** The node's user ID (the digest username); null before one is claimed. */
  username: () => Promise<string | null>
  password: string
  log: Logger
  tuning?: Partial<SipGatewayTuning>
  /**
   * Every SDP body between a phone and the overlay crosses it (the media
   * anchor, issue 12 §3). The gateway owns it: stop() closes it.
   * @default PASSTHROUGH_MEDIA (bodies cross untouched)
   */
  media?: GatewayMedia
}

export class SipGateway {
  readonly tuning: SipGatewayTuning
  private readonly log: Logger
  private readonly udp: UdpTransport
  private readonly tcp: TcpTransport
  private readonly limiter: RateLimiter
  private readonly auth: GatewayAuth
  private readonly servers: ServerTransactions
  private readonly clients: ClientTransactions
  private readonly badInput: LogThrottle
  private readonly flowBindings = new FlowBindings()
  private readonly routes = new DialogRoutes(() => this.address)
  private readonly media: GatewayMedia
  private readonly edge: MediaEdge
  private boundPort = 0

  constructor(private readonly init: SipGatewayInit) {
    const t = (this.tuning = { ...DEFAULT_GATEWAY_TUNING, ...init.tuning })
    this.log = init.log
    this.badInput = new LogThrottle((m) => this.log.debug(m))
    this.limiter = new RateLimiter(t.rateLimit)
    this.auth = new GatewayAuth({
      realm: init.domain,
      password: init.password,
      username: init.username,
      nonceTtlMs: t.nonceTtlMs,
      algorithms: t.algorithms,
      maxFailures: t.maxAuthFailures,
      windowMs: t.authFailureWindowMs,
      log: this.log,
      ...(init.nonceKey != null ? { secret: init.nonceKey } : {}),
    })
    this.servers = new ServerTransactions({ timers: t.timers, log: this.log })
    this.clients = new ClientTransactions({
      timers: t.timers,
      log: this.log,
      sentBy: () => `${GATEWAY_HOST}:${this.boundPort}`,
    })
    this.media = init.media ?? PASSTHROUGH_MEDIA
    this.edge = new MediaEdge({
      media: this.media,
      routes: this.routes,
      log: this.log,
      toOverlay: (req) => void this.toRouter(req, { send: () => {} }).catch(() => {}),
      toPhone: (contact, req, flow, onResponse) =>
        this.clients.send(contact, req, flow, onResponse),
      sentBy: () => this.address,
    })
    this.media.whenIdle?.((id, reason) => this.edge.hangUp(id, reason))
    this.udp = new UdpTransport({
      host: GATEWAY_HOST,
      maxDatagramBytes: t.maxDatagramBytes,
      log: this.log,
      onDatagram: (bytes, flow) => this.onDatagram(bytes, flow),
      onOversized: (size, flow) =>
        this.badInput.log(`dropped a ${size}-byte datagram from ${flow.remote.port}: too large`),
    })
    this.tcp = new TcpTransport({
      host: GATEWAY_HOST,
      maxConnections: t.maxTcpConnections,
      slowSenderMs: t.slowSenderMs,
      maxMessageBytes: t.maxMessageBytes,
      log: this.log,
      onMessage: (r, flow) => this.onStreamMessage(r, flow),
      onClose: (flow) => this.onTcpClosed(flow),
    })
  }

  get port(): number {
    return this.boundPort
  }

  get address(): string {
    return `${GATEWAY_HOST}:${this.boundPort}`
  }

  get password(): string {
    return this.init.password
  }

  get domain(): string {
    return this.init.domain
  }

  /** Listen on UDP and TCP `port` (0: any port free for both). Throws SipGatewayError. */
  async start(port: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let tcpPort: number
      try {
        tcpPort = await this.tcp.listen(port)
      } catch (err) {
        throw bindError(err, GATEWAY_HOST, port, 'TCP')
      }
      try {
        this.boundPort = await this.udp.bind(tcpPort)
        this.log.info(
          `SIP gateway listening on ${this.address} (UDP and TCP), realm ${this.domain}`,
        )
        return
      } catch (err) {
        await this.tcp.close()
        if (port !== 0 || attempt >= 20) throw bindError(err, GATEWAY_HOST, tcpPort, 'UDP')
      }
    }
  }

  async stop(): Promise<void> {
    this.servers.close()
    this.clients.close()
    await Promise.all([this.udp.close(), this.tcp.close()])
    await this.media.close()
  }

  // ---- input ---------------------------------------------------------------

  private onDatagram(bytes: Uint8Array, flow: GatewayFlow): void {
    const verdict = this.limiter.take(flow.key)
    if (verdict === 'drop') return
    const r = parseSipMessage(bytes, {
      transport: 'datagram',
      maxBytes: this.tuning.maxDatagramBytes,
    })
    if (verdict === 'reject') return this.refuseOverLimit(r, flow)
    this.handle(r, flow)
  }

  private onStreamMessage(r: ParseResult, flow: GatewayFlow): void {
    const verdict = this.limiter.take(flow.key)
    if (verdict === 'drop') return
    if (verdict === 'reject') return this.refuseOverLimit(r, flow)
    this.handle(r, flow)
  }

  /** RFC 3261 §21.5.4: 503 with Retry-After to a source over its rate. */
  private refuseOverLimit(r: ParseResult, flow: GatewayFlow): void {
    if (!r.ok || r.message.kind !== 'request' || r.message.method === 'ACK') return
    const after = String(this.limiter.retryAfter(flow.key))
    this.sendStateless(
      flow,
      respond(r.message, 503, 'Rate limit exceeded', [['Retry-After', after]]),
    )
  }

  private handle(r: ParseResult, flow: GatewayFlow): void {
    if (!r.ok) {
      const e = r.error
      if (e.respondable && e.request != null && e.status != null) {
        this.badInput.log(`${e.status} to ${flow.key}: ${e.reason}`)
        this.sendStateless(flow, respond(e.request, e.status, e.reason))
      } else this.badInput.log(`dropped unanswerable input from ${flow.key}: ${e.reason}`)
      return
    }
    const msg = r.message
    if (msg.kind === 'response') {
      if (!this.clients.onResponse(msg))
        this.badInput.log(
          `dropped a stray ${msg.status} from ${flow.key} (§17.1.3: no transaction)`,
        )
      return
    }
    let rx
    try {
      rx = this.servers.receive(msg, flow)
    } catch (err) {
      this.badInput.log(`dropped ${msg.method} from ${flow.key}: ${String(err)}`)
      return
    }
    if (rx.kind === 'absorbed') return
    if (rx.kind === 'ack') {
      this.routes.popOwnRoutes(msg, this.boundPort, DEFAULT_SIP_PORT)
      void this.edge
        .ackFromPhone(msg, flow)
        .then((ack) => this.toRouter(ack, { send: () => {} }))
        .catch((err) => this.log.debug(`ACK from ${flow.key} not routed: ${String(err)}`))
      return
    }
    void this.process(msg, flow, rx.reply)
  }

  private async process(
    req: SipRequest,
    flow: GatewayFlow,
    reply: (res: SipResponse) => void,
  ): Promise<void> {
    try {
      // §16.3 step 5: we implement no extension a proxy must understand.
      const pr = req.method === 'CANCEL' ? [] : req.headers.getAll('proxy-require')
      if (pr.length > 0) {
        reply(respond(req, 420, 'Bad Extension', [['Unsupported', pr.join(', ')]]))
        return
      }
      this.routes.popOwnRoutes(req, this.boundPort, DEFAULT_SIP_PORT)
      if (req.method !== 'CANCEL') {
        const refusal = await this.auth.check(req, flow)
        if (refusal != null) {
          reply(refusal)
          return
        }
      }
      if (req.method !== 'REGISTER') {
        const routed = await this.edge.fromPhone(req, flow, reply)
        if (routed != null) await this.toRouter(routed.req, { send: routed.reply })
        return
      }
      await this.toRouter(req, {
        send: (res) => {
          if (res.status >= 200 && res.status < 300) this.flowBindings.registered(req, flow)
          reply(res)
        },
        deliver: this.deliverOver(flow),
      })
    } catch (err) {
      this.log.warn(`${req.method} from ${flow.key} failed: ${String(err)}`)
      reply(respond(req, 500, 'Server Internal Error'))
    }
  }

  /** The phone's connection is gone, and with it the way to its bindings. */
  private onTcpClosed(flow: GatewayFlow): void {
    this.limiter.forget(flow.key)
    const contacts = this.flowBindings.closed(flow)
    if (contacts.length === 0) return
    void (async () => {
      const name = await this.init.username()
      if (name == null) return
      this.log.debug(`TCP ${flow.key} closed: unregistering ${contacts.join(', ')}`)
      const req = unregisterRequest(name, this.domain, contacts, this.address)
      await this.toRouter(req, { send: () => {} })
    })().catch((err) => this.log.debug(`unregistering after a TCP close: ${String(err)}`))
  }

  private async toRouter(req: SipRequest, flow: SipFlow): Promise<void> {
    try {
      await this.init.router.fromLocal(req, flow)
    } catch (err) {
      if (req.method === 'ACK') this.log.debug(`ACK not routed: ${String(err)}`)
      else throw err
    }
  }

  // ---- routing helpers -----------------------------------------------------

  /**
   * How the router reaches a phone that registered on `regFlow`: its TCP
   * connection, or UDP to the contact's host:port (loopback only; any other
   * host means the phone is behind us, so the REGISTER's source is used).
   */
  private deliverOver(regFlow: GatewayFlow): Deliver {
    return (contact, req, onResponse) => {
      let flow = regFlow
      if (regFlow.transport === 'UDP') {
        const dest = contactAddress(contact, DEFAULT_SIP_PORT)
        flow =
          dest != null && isLoopbackHost(dest.host)
            ? this.udp.flow(
                dest.host.toLowerCase() === 'localhost' ? GATEWAY_HOST : dest.host,
                dest.port,
              )
            : this.udp.flow(regFlow.remote.address, regFlow.remote.port)
      }
      this.edge.deliver(contact, req, flow, onResponse)
    }
  }

  /**
   * restart-hooks.ts: how the router reaches a phone whose UDP binding was
   * restored after a restart (no REGISTER flow in this process): UDP to the
   * contact's loopback host:port, else 127.0.0.1 at the contact's port.
   */
  readonly deliverRestored: Deliver = (contact, req, onResponse) => {
    const dest = contactAddress(contact, DEFAULT_SIP_PORT)
    const host =
      dest != null && isLoopbackHost(dest.host) && dest.host.toLowerCase() !== 'localhost'
        ? dest.host
        : GATEWAY_HOST
    const flow = this.udp.flow(host, dest?.port ?? DEFAULT_SIP_PORT)
    this.edge.deliver(contact, req, flow, onResponse)
  }

  private sendStateless(flow: GatewayFlow, res: SipResponse): void {
    try {
      flow.send(serializeSipMessage(res))
    } catch (err) {
      this.badInput.log(`cannot answer ${flow.key}: ${String(err)}`)
    }
  }
}
