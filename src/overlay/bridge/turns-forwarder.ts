/**
 * TURN over TLS for the app, through its own node (README "Port-443-only networks").
 *
 * A supernode's bridge certificate is self-signed (bridge-certificate.ts): its TLS is camouflage
 * for middleboxes that pass only TLS on 443, and TURN's own long-term credentials (RFC 8656 §9.2)
 * are what protect an allocation. Chromium, and so the desktop app, verifies a `turns:` server's
 * certificate and refuses this one. So the node, which the app already trusts, carries the TLS:
 * it listens on loopback and pipes each TCP connection of the app's TURN client into a TLS
 * connection to the supernode's bridge port, and the app is given `turn:127.0.0.1:PORT?transport=tcp`
 * (RFC 7065 §3.1) instead of the `turns:` URL. The bytes inside are the app's own TURN messages,
 * unchanged, so MESSAGE-INTEGRITY and the credentials work as if the app had dialled the
 * supernode, and the media inside stays DTLS-SRTP end to end.
 *
 * One loopback listener per supernode bridge, made on first use and kept until close(); each
 * holds at most `maxConnections` piped connections (an app's calls use one each).
 */
import { createServer, isIP } from 'node:net'
import type { Server, Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { Logger } from '../../shared/logger.js'
import { parseIceUrl } from '../media/ice-servers.js'

export interface TurnsForwarderOptions {
  log: Logger
  /** Supernode bridges forwarded at once (default 4). */
  maxTargets?: number
  /** Piped connections per bridge (default 16). */
  maxConnections?: number
  /** A TLS handshake with the supernode must finish within this (default 10 s). */
  connectTimeoutMs?: number
}

interface Target {
  server: Server
  port: number
  /** The app's side of each piped connection (destroying one ends its pair). */
  sockets: Set<Socket>
}

export class TurnsForwarder {
  private readonly targets = new Map<string, Promise<Target>>()
  private closed = false

  constructor(private readonly opts: TurnsForwarderOptions) {}

  /**
   * The loopback `turn:` URL that reaches this `turns:` URL's server, or undefined when it is not
   * a `turns:` URL with an IP address (nothing to forward) or too many bridges are forwarded.
   */
  async localUrl(url: string): Promise<string | undefined> {
    const parsed = parseIceUrl(url)
    if (parsed?.scheme !== 'turns' || isIP(parsed.host) === 0 || this.closed) return undefined
    const key = `${parsed.host}|${parsed.port}`
    let target = this.targets.get(key)
    if (target == null) {
      if (this.targets.size >= (this.opts.maxTargets ?? 4)) return undefined
      target = this.listen(parsed.host, parsed.port)
      this.targets.set(key, target)
      target.catch(() => this.targets.delete(key))
    }
    return `turn:127.0.0.1:${(await target).port}?transport=tcp`
  }

  async close(): Promise<void> {
    this.closed = true
    const all = await Promise.allSettled(this.targets.values())
    this.targets.clear()
    await Promise.all(
      all.map(async (r) => {
        if (r.status !== 'fulfilled') return
        for (const s of r.value.sockets) s.destroy()
        await new Promise<void>((resolve) => r.value.server.close(() => resolve()))
      }),
    )
  }

  private listen(host: string, port: number): Promise<Target> {
    const sockets = new Set<Socket>()
    const server = createServer((local) => this.pipe(local, host, port, sockets))
    return new Promise<Target>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject)
        const address = server.address()
        if (address == null || typeof address === 'string') return reject(new Error('no port'))
        this.opts.log.info(
          `TURN over TLS to ${host}:${port} reaches the app through 127.0.0.1:${address.port}`,
        )
        resolve({ server, port: address.port, sockets })
      })
    })
  }

  private pipe(local: Socket, host: string, port: number, sockets: Set<Socket>): void {
    if (sockets.size >= (this.opts.maxConnections ?? 16)) {
      this.opts.log.warn(`TURN over TLS to ${host}:${port}: too many connections; one refused`)
      local.destroy()
      return
    }
    // The certificate is not checked on purpose (see the header): TURN authenticates itself.
    // No SNI for an IP address (RFC 6066 §3), as Chromium's own TURN client sends none.
    const remote = tlsConnect({ host, port, rejectUnauthorized: false })
    sockets.add(local)
    const timer = setTimeout(() => {
      this.opts.log.warn(`TURN over TLS to ${host}:${port}: no TLS handshake in time`)
      remote.destroy()
    }, this.opts.connectTimeoutMs ?? 10_000)
    remote.once('secureConnect', () => clearTimeout(timer))
    const end = (why?: Error): void => {
      clearTimeout(timer)
      if (why != null) this.opts.log.debug(`TURN over TLS to ${host}:${port}: ${why.message}`)
      local.destroy()
      remote.destroy()
      sockets.delete(local)
    }
    local.on('error', end).on('close', () => end())
    remote.on('error', end).on('close', () => end())
    local.pipe(remote)
    remote.pipe(local)
  }
}
