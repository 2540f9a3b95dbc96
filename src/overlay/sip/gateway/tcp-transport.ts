/**
 * SIP over TCP on loopback (RFC 3261 §18.3): messages framed by
 * Content-Length with SipStreamFramer, responses and requests to the phone on
 * the connection it opened (§18.2.2), CRLF keep-alives answered (RFC 5626
 * §3.5.1).
 *
 * Defences: at most `maxConnections` at once (the rest are closed at accept);
 * a connection must complete each message within `slowSenderMs` of its first
 * byte (and its first message within `slowSenderMs` of connecting) or it is
 * closed; after a framing error the gateway's 400 is flushed and the
 * connection closed, since message boundaries are lost; a phone that does not
 * read what we write (more than 1 MiB queued) is disconnected.
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { Logger } from '../../../shared/logger.js'
import { SipStreamFramer } from '../../../shared/sip/stream-framer.js'
import type { ParseResult } from '../../../shared/sip/sip-parser.js'
import type { GatewayFlow } from './gateway-types.js'

const MAX_QUEUED_BYTES = 1024 * 1024
const CRLF = new Uint8Array([13, 10])

export interface TcpTransportInit {
  host: string
  maxConnections: number
  slowSenderMs: number
  maxMessageBytes: number
  log: Logger
  onMessage: (result: ParseResult, flow: TcpFlow) => void
  onClose?: (flow: TcpFlow) => void
}

export class TcpFlow implements GatewayFlow {
  readonly transport = 'TCP' as const
  readonly reliable = true
  readonly key: string
  readonly remote: { address: string; port: number }

  constructor(
    readonly id: number,
    private readonly socket: Socket,
  ) {
    this.key = `tcp:${id}`
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
  }

  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable
  }

  send(bytes: Uint8Array): boolean {
    if (!this.open) return false
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.socket.destroy()
      return false
    }
    this.socket.write(bytes)
    return true
  }

  /** Flush what was written, then close (after a framing error). */
  end(): void {
    this.socket.end()
    const t = setTimeout(() => this.socket.destroy(), 1000)
    t.unref?.()
  }

  destroy(): void {
    this.socket.destroy()
  }
}

export class TcpTransport {
  private server: Server | undefined
  private readonly flows = new Set<TcpFlow>()
  private seq = 0

  constructor(private readonly init: TcpTransportInit) {}

  get connections(): number {
    return this.flows.size
  }

  listen(port: number): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket))
    server.maxConnections = this.init.maxConnections
    server.on('drop', (d) =>
      this.init.log.debug(
        `TCP connection from ${d?.remoteAddress}:${d?.remotePort} refused: too many`,
      ),
    )
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port, host: this.init.host, exclusive: true }, () => {
        server.off('error', reject)
        server.on('error', (err) => this.init.log.warn(`SIP TCP server: ${err.message}`))
        this.server = server
        const addr = server.address()
        resolve(typeof addr === 'object' && addr != null ? addr.port : port)
      })
    })
  }

  close(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const f of this.flows) f.destroy()
    this.flows.clear()
    if (server == null) return Promise.resolve()
    return new Promise((resolve) => server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    const flow = new TcpFlow(++this.seq, socket)
    this.flows.add(flow)
    const framer = new SipStreamFramer({ maxBytes: this.init.maxMessageBytes })
    let slow: ReturnType<typeof setTimeout> | undefined
    const arm = (): void => {
      if (slow != null) return
      slow = setTimeout(() => {
        this.init.log.debug(
          `TCP ${flow.remote.address}:${flow.remote.port}: no complete message within ` +
            `${this.init.slowSenderMs} ms; disconnected`,
        )
        socket.destroy()
      }, this.init.slowSenderMs)
      slow.unref?.()
    }
    const disarm = (): void => {
      if (slow != null) clearTimeout(slow)
      slow = undefined
    }
    arm() // the first message must come in time too
    socket.on('data', (chunk: Buffer) => {
      let results
      try {
        results = framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))
      } catch (err) {
        this.init.log.debug(`TCP framing crashed: ${String(err)}`)
        socket.destroy()
        return
      }
      let completed = false
      for (const r of results) {
        if (r.keepalive === true) {
          flow.send(CRLF) // RFC 5626 §3.5.1 pong
          continue
        }
        completed = true
        try {
          this.init.onMessage(r, flow)
        } catch (err) {
          this.init.log.warn(`SIP TCP handler failed: ${String(err)}`)
        }
      }
      if (framer.failed) {
        disarm()
        flow.end()
        return
      }
      if (framer.buffered === 0) disarm()
      else if (completed) {
        disarm()
        arm() // a new partial message: its own deadline
      } else arm()
    })
    socket.on('error', (err) => this.init.log.debug(`TCP ${flow.key}: ${err.message}`))
    socket.on('close', () => {
      disarm()
      this.flows.delete(flow)
      this.init.onClose?.(flow)
    })
  }
}
