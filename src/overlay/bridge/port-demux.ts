/**
 * One TCP port (443 on supernodes) shared by the overlay (WebSocket over TLS) and TURN over TLS,
 * told apart by their first bytes, so a supernode needs one open port and a client behind a
 * firewall that passes only outbound TCP 443 reaches both. This is the project sources' "HTTP
 * bridge"; README "Port-443-only networks".
 *
 * Two looks at the first bytes:
 *
 * 1. Before TLS, every connection must start a TLS handshake: a record of content type
 *    handshake (22 = 0x16) whose legacy version's major byte is 3 (0x03): RFC 8446 §5.1, RFC 5246
 *    §6.2.1. Anything else is closed with a log line (plain HTTP, scanners, other protocols).
 * 2. After TLS terminates here, the first plaintext bytes say who it is:
 *    - STUN (TURN over TLS, RFC 8656 §3.1): the two top bits of the first byte are 0 and bytes
 *      4-7 hold the magic cookie 0x2112A442 (RFC 8489 §5; the same test RFC 7983 §7 uses to
 *      demultiplex). A TURN client's first message is always a STUN request, never ChannelData;
 *    - HTTP: `GET ` (RFC 9110 §9.3.1, the opening of a WebSocket handshake, RFC 6455 §4.1);
 *    - anything else is closed with a log line.
 *
 * ALPN (RFC 7443's "stun.turn" vs "http/1.1") would say the same before any application byte,
 * but clients do not send it: Chromium's TURN client offers no ALPN and no SNI for a turns: URL
 * with an IP address (checked against Debian's Chromium), nor does coturn's turnutils_uclient,
 * and Node's server rejects a handshake whose ALPN list does not overlap its own. So the bytes
 * decide, and ALPN is neither offered nor required.
 *
 * The handlers get the TLS stream with nothing consumed (what was read is unshifted) and the real
 * remote address: the TCP socket's, which TURN's per-client rate limits and allocations key on.
 * A connection must be classified within `firstBytesTimeoutMs` of its TCP handshake (slowloris,
 * a client that never speaks); the whole port holds at most `maxConnections` connections.
 */
import { createServer, isIPv6 } from 'node:net'
import type { Server, Socket } from 'node:net'
import { TLSSocket, createSecureContext } from 'node:tls'
import type { SecureContext } from 'node:tls'
import type { Logger } from '../../shared/logger.js'

const STUN_MAGIC_COOKIE = 0x2112a442
const HTTP_GET = Buffer.from('GET ')

/** What the first plaintext bytes are, or undefined while too few have arrived. */
export type FirstBytes = 'stun' | 'http' | 'unknown'

/** Classify the first plaintext bytes after TLS (see the header); undefined: need more bytes. */
export function classifyPlaintext(buf: Uint8Array): FirstBytes | undefined {
  if (buf.length === 0) return undefined
  if ((buf[0]! & 0xc0) === 0) {
    if (buf.length < 8) return undefined
    const cookie = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0
    return cookie === STUN_MAGIC_COOKIE ? 'stun' : 'unknown'
  }
  const n = Math.min(buf.length, HTTP_GET.length)
  if (!HTTP_GET.subarray(0, n).equals(Buffer.from(buf.subarray(0, n)))) return 'unknown'
  return buf.length >= HTTP_GET.length ? 'http' : undefined
}

/** Is this the start of a TLS handshake record? undefined: need more bytes. */
export function isTlsHandshake(buf: Uint8Array): boolean | undefined {
  if (buf.length === 0) return undefined
  if (buf[0] !== 0x16) return false
  if (buf.length < 2) return undefined
  return buf[1] === 0x03
}

export interface RemoteAddress {
  address: string
  port: number
}

export interface PortDemuxHandlers {
  /** An HTTP request over TLS (the overlay's WebSocket upgrade). */
  http(stream: TLSSocket, remote: RemoteAddress): void
  /** STUN over TLS; false when TURN is not served (the connection is then closed). */
  turn(stream: TLSSocket, remote: RemoteAddress): boolean
}

export interface PortDemuxOptions {
  host: string
  port: number
  /** Key and certificate (PEM); see bridge-certificate.ts. */
  tls: { key: string; cert: string }
  handlers: PortDemuxHandlers
  log: Logger
  /** @default 10_000 */
  firstBytesTimeoutMs?: number
  /** @default 1024 */
  maxConnections?: number
}

export class PortDemux {
  private readonly server: Server
  private readonly context: SecureContext
  private readonly sockets = new Set<Socket>()
  private readonly refusals = new RefusalLog()

  constructor(private readonly opts: PortDemuxOptions) {
    this.context = createSecureContext({ ...opts.tls, minVersion: 'TLSv1.2' })
    this.server = createServer({ pauseOnConnect: true }, (s) => this.accept(s))
    this.server.maxConnections = opts.maxConnections ?? 1024
  }

  /** Bind; resolves with the bound address. Rejects with the listen error (EACCES, EADDRINUSE). */
  async listen(): Promise<RemoteAddress> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      // An IPv6 listener is IPv6-only, so `::` and `0.0.0.0` can both hold the port.
      const ipv6Only = isIPv6(this.opts.host)
      this.server.listen({ host: this.opts.host, port: this.opts.port, ipv6Only }, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    const a = this.server.address()
    if (a == null || typeof a === 'string') throw new Error('the bridge port has no address')
    return { address: a.address, port: a.port }
  }

  /** Stop accepting and close every connection this port accepted. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private accept(socket: Socket): void {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => undefined)
    const timeout = this.opts.firstBytesTimeoutMs ?? 10_000
    const timer = setTimeout(() => {
      this.refusals.note(this.opts.log, 'no TLS and application bytes in time', remote)
      socket.destroy()
    }, timeout)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
    firstBytes(socket, isTlsHandshake, (tls) => {
      if (!tls) {
        this.refusals.note(this.opts.log, 'not TLS', remote, socket)
        return void socket.destroy()
      }
      this.terminateTls(socket, remote, timer)
    })
  }

  private terminateTls(
    socket: Socket,
    remote: RemoteAddress,
    timer: ReturnType<typeof setTimeout>,
  ): void {
    const stream = new TLSSocket(socket, { isServer: true, secureContext: this.context })
    stream.on('error', (err) => {
      this.opts.log.debug(`bridge ${remote.address}:${remote.port}: ${err.message}`)
      stream.destroy()
    })
    stream.once('secure', () => {
      firstBytes(stream, classifyPlaintext, (kind) => {
        clearTimeout(timer)
        if (kind === 'http') return this.opts.handlers.http(stream, remote)
        if (kind === 'stun') {
          if (this.opts.handlers.turn(stream, remote)) return
          this.opts.log.debug(`bridge: TURN over TLS from ${remote.address} but TURN is off`)
          return void stream.destroy()
        }
        this.refusals.note(this.opts.log, 'neither STUN nor HTTP inside TLS', remote, stream)
        stream.destroy()
      })
    })
  }
}

/**
 * Read from a paused stream until `decide` says something, then unshift what was read (so the
 * next reader sees the stream from its first byte) and call `then`. The stream stays paused.
 */
function firstBytes<T>(
  stream: Socket,
  decide: (buf: Uint8Array) => T | undefined,
  then: (verdict: T) => void,
): void {
  let buf = Buffer.alloc(0)
  const onReadable = (): void => {
    for (let chunk: Buffer | null; (chunk = stream.read() as Buffer | null) != null;) {
      buf = Buffer.concat([buf, chunk])
      const verdict = decide(buf)
      if (verdict === undefined) continue
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.unshift(buf)
      return then(verdict)
    }
  }
  const onEnd = (): void => {
    stream.off('readable', onReadable)
    stream.destroy()
  }
  stream.on('readable', onReadable)
  stream.once('end', onEnd)
}

/**
 * Refused connections, logged without flooding: port 443 on the internet is scanned all day.
 * The first refusal of a minute is logged at info with its first bytes; the rest are counted and
 * summed up in the next minute's line.
 */
class RefusalLog {
  private quietUntil = 0
  private suppressed = 0

  note(log: Logger, why: string, remote: RemoteAddress, stream?: Socket): void {
    const now = Date.now()
    if (now < this.quietUntil) {
      this.suppressed++
      return void log.debug(`bridge: closed ${remote.address}:${remote.port}: ${why}`)
    }
    const head = (stream?.readableLength ?? 0) > 0 ? peek(stream!) : ''
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more since the last line)` : ''
    log.info(`bridge: closed ${remote.address}:${remote.port}: ${why}${head}${more}`)
    this.suppressed = 0
    this.quietUntil = now + 60_000
  }
}

function peek(stream: Socket): string {
  const b = stream.read() as Buffer | null
  return b == null ? '' : ` (first bytes ${b.subarray(0, 8).toString('hex')})`
}
