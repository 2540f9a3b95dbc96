/**
 * The overlay over WebSocket-TLS (`/ip4/…/tcp/443/tls/ws`), a libp2p transport: supernodes listen
 * on the bridge port (port-demux.ts shares it with TURN over TLS), and every node can dial it, so
 * a client behind a firewall that passes only outbound TCP 443 still reaches a supernode.
 *
 * Why not @libp2p/websockets itself: its listener owns its port (no way to share it with TURNS
 * without reaching into its private fields), and its dialer uses the global WebSocket (undici),
 * which refuses a self-signed certificate with no per-transport option. Here `ws` does both
 * ends, and wss-conn.ts adapts the socket to libp2p.
 *
 * Certificates: the supernode's is self-signed (bridge-certificate.ts), and the dialer does not
 * verify it. That is deliberate, not a shortcut: the TLS layer only makes the link look like
 * HTTPS to middleboxes; the connection is authenticated and encrypted by Noise on top, which
 * checks the remote peer ID, exactly as on a plain TCP link.
 */
import { TypedEventEmitter, transportSymbol } from '@libp2p/interface'
import type {
  ComponentLogger,
  Connection,
  CreateListenerOptions,
  DialTransportOptions,
  Listener,
  ListenerEvents,
  Logger as Libp2pLogger,
  Transport,
  Upgrader,
} from '@libp2p/interface'
import { getThinWaistAddresses, ipPortToMultiaddr } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { WebSocket, WebSocketServer } from 'ws'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { PortDemux } from './port-demux.js'
import type { RemoteAddress } from './port-demux.js'
import { wssToMaConn } from './wss-conn.js'

/** The bridge port could not be opened (in use, or a privileged port without the right). */
export class BridgePortError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unavailable', options)
    this.name = 'BridgePortError'
  }
}

/** A libp2p message is at most a Noise frame (64 KiB); this leaves room and stops floods. */
const MAX_PAYLOAD = 1024 * 1024
const HANDSHAKE_TIMEOUT_MS = 10_000

/** `/ip4|ip6/HOST/tcp/PORT/tls/ws`, optionally with a trailing `/p2p/ID` when dialling. */
const WSS_ADDR = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d{1,5})\/tls\/ws(\/p2p\/[^/]+)?$/

export interface WssTransportInit {
  /** The bridge's key and certificate (PEM); asked for when a listener starts. */
  certificate: () => Promise<{ key: string; cert: string }>
  /** TURN over TLS arriving on the same port; false when this node relays nothing. */
  turn: (stream: TLSSocket, remote: RemoteAddress) => boolean
  /**
   * A default port that cannot be bound (EACCES without CAP_NET_BIND_SERVICE, EADDRINUSE) is a
   * warning and no bridge, not a failed start; a port the user chose fails the start.
   */
  optional: boolean
  /** The bound port, or undefined when the listener closed (TURN announces turns: URLs on it). */
  onBound?: (port: number | undefined) => void
  log: Logger
}

/**
 * The bridge's listen addresses: `port` with /tls/ws on every host the overlay's TCP listen
 * addresses bind (`/ip4/0.0.0.0/tcp/0` → `/ip4/0.0.0.0/tcp/443/tls/ws`), once each.
 */
export function bridgeListenAddrs(listen: readonly string[], port: number): string[] {
  const out = new Set<string>()
  for (const a of listen) {
    const m = /^\/(ip4|ip6)\/([^/]+)\/tcp\/\d+$/.exec(a)
    if (m != null) out.add(`/${m[1]}/${m[2]}/tcp/${port}/tls/ws`)
  }
  return [...out]
}

export interface WssTransportComponents {
  logger: ComponentLogger
}

export function wssTransport(init: WssTransportInit) {
  return (components: WssTransportComponents): Transport => new WssTransport(init, components)
}

class WssTransport implements Transport {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = '@kaiwa/wss-bridge'
  private readonly log: Libp2pLogger

  constructor(
    private readonly init: WssTransportInit,
    private readonly components: WssTransportComponents,
  ) {
    this.log = components.logger.forComponent('kaiwa:bridge:wss')
  }

  async dial(ma: Multiaddr, options: DialTransportOptions): Promise<Connection> {
    const m = WSS_ADDR.exec(ma.toString())
    if (m == null) throw new BridgePortError(`not a /tls/ws address: ${ma.toString()}`)
    const host = m[1] === 'ip6' ? `[${m[2]}]` : m[2]!
    const socket = new WebSocket(`wss://${host}:${m[3]}/`, {
      // Not verified on purpose: Noise authenticates the peer (see the header).
      rejectUnauthorized: false,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_PAYLOAD,
    })
    await opened(socket, options.signal)
    const maConn = wssToMaConn({
      socket,
      remoteAddr: ma,
      direction: 'outbound',
      log: this.components.logger.forComponent('kaiwa:bridge:wss:conn'),
    })
    try {
      return await options.upgrader.upgradeOutbound(maConn, options)
    } catch (err) {
      maConn.abort(err as Error)
      throw err
    }
  }

  createListener(options: CreateListenerOptions): Listener {
    return new WssListener(this.init, options.upgrader, this.components)
  }

  listenFilter = (addrs: Multiaddr[]): Multiaddr[] =>
    addrs.filter((a) => {
      const m = WSS_ADDR.exec(a.toString())
      return m != null && m[4] == null
    })

  dialFilter = (addrs: Multiaddr[]): Multiaddr[] => addrs.filter((a) => WSS_ADDR.test(a.toString()))
}

/** Resolve when the WebSocket is open; reject on error, close or abort (then terminate it). */
function opened(socket: WebSocket, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      cleanup()
      socket.terminate()
      reject(err)
    }
    const onOpen = (): void => {
      cleanup()
      resolve()
    }
    const onError = (err: Error): void => fail(err)
    const onClose = (): void => fail(new BridgePortError('the WebSocket closed before opening'))
    const onAbort = (): void => fail(signal.reason as Error)
    const cleanup = (): void => {
      socket.off('open', onOpen)
      socket.off('error', onError)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    if (signal.aborted) return onAbort()
    socket.once('open', onOpen)
    socket.once('error', onError)
    socket.once('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

class WssListener extends TypedEventEmitter<ListenerEvents> implements Listener {
  private demux: PortDemux | undefined
  private bound: { ma: Multiaddr; port: number } | undefined
  private readonly http: Server
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_PAYLOAD,
  })
  private readonly shutdown = new AbortController()
  private readonly remotes = new WeakMap<object, RemoteAddress>()

  constructor(
    private readonly init: WssTransportInit,
    private readonly upgrader: Upgrader,
    private readonly components: WssTransportComponents,
  ) {
    super()
    // Anything but a WebSocket upgrade gets what a web server says to a stray request.
    this.http = createServer({ headersTimeout: HANDSHAKE_TIMEOUT_MS }, (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n')
    })
    this.http.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onWebSocket(ws, req))
    })
  }

  async listen(ma: Multiaddr): Promise<void> {
    const m = WSS_ADDR.exec(ma.toString())
    if (m == null) throw new BridgePortError(`not a /tls/ws listen address: ${ma.toString()}`)
    const [family, host, port] = [m[1]!, m[2]!, Number(m[3])]
    const demux = new PortDemux({
      host,
      port,
      tls: await this.init.certificate(),
      log: this.init.log,
      handlers: {
        http: (stream, remote) => {
          this.remotes.set(stream, remote)
          this.http.emit('connection', stream)
        },
        turn: this.init.turn,
      },
    })
    try {
      const a = await demux.listen()
      this.demux = demux
      this.bound = { ma: multiaddr(`/${family}/${host}/tcp/${a.port}`), port: a.port }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const why = `bridge port ${port} on ${host}: ${code ?? String(err)}`
      if (!this.init.optional || (code !== 'EACCES' && code !== 'EADDRINUSE'))
        throw new BridgePortError(`cannot open the ${why}`, { cause: err })
      this.init.log.warn(
        `running without the port-443 bridge (${why}); grant CAP_NET_BIND_SERVICE ` +
          'or choose another --bridge-port (0: off)',
      )
      return
    }
    this.init.log.info(`overlay (WebSocket-TLS) and TURN over TLS on ${host}:${this.bound.port}`)
    this.init.onBound?.(this.bound.port)
    this.safeDispatchEvent('listening')
  }

  getAddrs(): Multiaddr[] {
    if (this.bound == null) return []
    return getThinWaistAddresses(this.bound.ma, this.bound.port).map((a) =>
      a.encapsulate('/tls/ws'),
    )
  }

  updateAnnounceAddrs(): void {}

  async close(): Promise<void> {
    this.shutdown.abort()
    for (const c of this.wss.clients) c.terminate()
    this.wss.close()
    this.http.closeAllConnections()
    await this.demux?.close()
    if (this.bound != null) this.init.onBound?.(undefined)
    this.demux = undefined
    this.bound = undefined
    this.safeDispatchEvent('close')
  }

  private onWebSocket(socket: WebSocket, req: IncomingMessage): void {
    const remote = this.remotes.get(req.socket) ?? {
      address: req.socket.remoteAddress ?? '0.0.0.0',
      port: req.socket.remotePort ?? 0,
    }
    const maConn = wssToMaConn({
      socket,
      remoteAddr: ipPortToMultiaddr(remote.address, remote.port).encapsulate('/tls/ws'),
      direction: 'inbound',
      log: this.components.logger.forComponent('kaiwa:bridge:wss:conn'),
    })
    this.upgrader.upgradeInbound(maConn, { signal: this.shutdown.signal }).catch((err: Error) => {
      this.init.log.debug(`bridge: inbound overlay connection failed: ${err.message}`)
      maConn.abort(err)
    })
  }
}
