/**
 * One address the TURN server accepts clients on: a UDP socket and, unless turned off, a TCP
 * listener on the same port number (RFC 8656 §3.1). A dual-stack server has two of them, on
 * `0.0.0.0` and on `::`: the family a client reaches the server over is independent of the
 * family of the relayed address it asks for (RFC 8656 §3: an IPv6-only client may allocate an
 * IPv4 relayed address, and the server translates). Each listener is single-family: an IPv6
 * socket is IPv6-only, or it would take the IPv4 listener's port as ::ffff:a.b.c.d.
 */
import type { RemoteInfo, Socket } from 'node:dgram'
import { listenTcp } from './turn-tcp.js'
import type { TcpHandlers, TcpListener } from './turn-tcp.js'
import { bindUdp } from './udp-socket.js'

export interface TurnListener {
  /** The address bound (`0.0.0.0`, `::`, or one address). */
  address: string
  port: number
  udp: Socket
  close(): Promise<void>
}

export interface TurnListenerOptions {
  host: string
  /** 0: any free port. */
  port: number
  socketBufferBytes: number
  /** Also accept TCP on the same port. */
  tcp: boolean
  maxTcpConnections: number
  /**
   * SO_REUSEPORT for the relay threads of turn-cluster.ts: 'claim' for the first listener of
   * the group, which first makes sure no other process holds the port (a plain bind must
   * succeed, so another server's reusePort group is never joined by mistake); 'join' for the
   * others, on the port the first one got.
   */
  reusePort?: 'claim' | 'join'
}

export interface TurnListenerHandlers {
  datagram(socket: Socket, buf: Buffer, rinfo: RemoteInfo): void
  tcp: TcpHandlers
}

/**
 * Bind UDP on host:port, then TCP on the port UDP got. Rejects (with nothing left bound) when
 * either cannot be bound: EADDRINUSE, or EADDRNOTAVAIL / EAFNOSUPPORT for an address family the
 * host does not have.
 */
export async function openTurnListener(
  opts: TurnListenerOptions,
  handlers: TurnListenerHandlers,
): Promise<TurnListener> {
  const reuse = opts.reusePort !== undefined
  if (opts.reusePort === 'claim' && opts.port !== 0) await probeUdp(opts.host, opts.port)
  const udp = await bindUdp(opts.host, opts.port, opts.socketBufferBytes, reuse)
  udp.on('message', (buf, rinfo) => handlers.datagram(udp, buf, rinfo))
  udp.on('error', () => undefined)
  const port = udp.address().port
  let tcp: TcpListener | undefined
  if (opts.tcp) {
    try {
      if (opts.reusePort === 'claim') await probeTcp(opts.host, port)
      tcp = await listenTcp(
        { host: opts.host, port, maxConnections: opts.maxTcpConnections, reusePort: reuse },
        handlers.tcp,
      )
    } catch (err) {
      // TCP port taken (possible when port 0 let UDP pick one): do not leak the UDP socket.
      udp.close()
      throw err
    }
  }
  return {
    address: opts.host,
    port,
    udp,
    close: async () => {
      await tcp?.close()
      await new Promise<void>((resolve) => udp.close(() => resolve()))
    },
  }
}

/** Rejects with EADDRINUSE when anyone holds UDP host:port (a reusePort group included). */
async function probeUdp(host: string, port: number): Promise<void> {
  const s = await bindUdp(host, port)
  await new Promise<void>((resolve) => s.close(() => resolve()))
}

/** Rejects with EADDRINUSE when anyone listens on TCP host:port. */
async function probeTcp(host: string, port: number): Promise<void> {
  const noFrames: TcpHandlers = {
    frame: () => undefined,
    malformed: () => undefined,
    closed: () => undefined,
  }
  const l = await listenTcp({ host, port, maxConnections: 0 }, noFrames)
  await l.close()
}
