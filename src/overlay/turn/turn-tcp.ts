/**
 * Framing of STUN messages and ChannelData on a byte stream (TCP between client and server,
 * RFC 8656 §3.1). STUN messages are delimited by their length field (20-byte header + length,
 * RFC 8489 §6.2.2); ChannelData frames by theirs, padded to a multiple of 4 over streams
 * (RFC 8656 §12.5). Any other first byte makes the stream unparseable.
 */
import { createServer, isIPv6 } from 'node:net'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { KaiwaError } from '../../shared/errors.js'
import type { ClientLink } from './allocation.js'

/** The stream is not STUN/ChannelData or a frame is too large: close the connection. */
export class TurnFramingError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'TurnFramingError'
  }
}

const MAX_FRAME = 20 + 0xffff

/** Size of the frame at the start of `buf` (at least 4 bytes), or throw TurnFramingError. */
export function frameSize(buf: Uint8Array): number {
  const len = (buf[2]! << 8) | buf[3]!
  if ((buf[0]! & 0xc0) === 0) return 20 + len
  if (buf[0]! >= 0x40 && buf[0]! <= 0x7f) return 4 + ((len + 3) & ~3)
  throw new TurnFramingError(`byte 0x${buf[0]!.toString(16)} starts neither STUN nor ChannelData`)
}

/**
 * A feeder for chunks of a stream that calls `onFrame` with each complete frame (STUN message or
 * padded ChannelData). Throws TurnFramingError on an unparseable stream. Buffers at most one
 * frame (< 64 KiB + header).
 */
export function streamFramer(onFrame: (frame: Uint8Array) => void): (chunk: Uint8Array) => void {
  let buf = new Uint8Array(0)
  return (chunk) => {
    const joined = new Uint8Array(buf.length + chunk.length)
    joined.set(buf)
    joined.set(chunk, buf.length)
    let off = 0
    while (joined.length - off >= 4) {
      const size = frameSize(joined.subarray(off))
      if (size > MAX_FRAME) throw new TurnFramingError(`frame of ${size} bytes`)
      if (joined.length - off < size) break
      onFrame(joined.slice(off, off + size))
      off += size
    }
    buf = joined.slice(off)
  }
}

export interface TcpListener {
  close(): Promise<void>
}

export interface TcpHandlers {
  frame(frame: Uint8Array, link: ClientLink): void
  /** The stream was unparseable; the connection has been destroyed. */
  malformed(): void
  closed(link: ClientLink): void
}

/**
 * Serve one client's byte stream (TCP, or TLS already terminated: RFC 8656 §3.1): frame it and
 * hand each STUN message or ChannelData to `handlers`. `remote` is the client's transport address
 * (for TLS, the TCP socket's under it), which keys the allocation and the per-client rate limit.
 */
export function serveStream(
  conn: Duplex,
  remote: { address: string; port: number },
  transport: 'tcp' | 'tls',
  handlers: TcpHandlers,
): void {
  const { address, port } = remote
  const send = (b: Uint8Array) => void (conn.writable && conn.write(b))
  const link: ClientLink = {
    transport,
    key: `${transport}|${address}|${port}`,
    address,
    port,
    send,
  }
  const feed = streamFramer((frame) => handlers.frame(frame, link))
  conn.on('data', (chunk: Buffer) => {
    try {
      feed(chunk)
    } catch {
      conn.destroy()
      handlers.malformed()
    }
  })
  conn.on('error', () => undefined)
  conn.on('close', () => handlers.closed(link))
}

/** Accept TCP clients (RFC 8656 §3.1) and hand each framed STUN/ChannelData to `handlers`. */
export async function listenTcp(
  opts: { host: string; port: number; maxConnections: number; reusePort?: boolean },
  handlers: TcpHandlers,
): Promise<TcpListener> {
  const conns = new Set<Socket>()
  const srv = createServer((conn) => {
    conns.add(conn)
    conn.on('close', () => conns.delete(conn))
    const remote = { address: conn.remoteAddress ?? '', port: conn.remotePort ?? 0 }
    serveStream(conn, remote, 'tcp', handlers)
  })
  srv.maxConnections = opts.maxConnections
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject)
    // IPv6-only on an IPv6 address: `::` would otherwise also take IPv4 connections, and the
    // port of a listener on 0.0.0.0 beside it (a dual-stack server has one per family).
    const reuse = opts.reusePort === true ? { reusePort: true } : {}
    srv.listen({ port: opts.port, host: opts.host, ipv6Only: isIPv6(opts.host), ...reuse }, () => {
      srv.off('error', reject)
      resolve()
    })
  })
  return {
    close: async () => {
      for (const c of conns) c.destroy()
      await new Promise<void>((resolve) => srv.close(() => resolve()))
    },
  }
}
