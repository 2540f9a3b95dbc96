/**
 * TURN and STUN on supernodes (part of the composition root). A supernode runs
 * the relay and hands out short-lived credentials over `/kaiwa/turn/1.0.0` to
 * the overlay peers that ask; any node can fetch credentials for itself (for
 * the UI's iceServers, or `kaiwa turn-credentials`) from a supernode it is
 * connected to, or from itself when it is one.
 */
import { open, readFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { Duplex } from 'node:stream'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../../shared/logger.js'
import { DEFAULT_RELAY_PORTS, TurnServer } from './turn-server.js'
import type { TurnServerOptions, TurnStats } from './turn-server.js'
import { TurnCluster, TurnWorkerMissingError } from './turn-cluster.js'
import type { AllocationLimits } from './relay-limits.js'

/** Caps on relaying: kbit/s across all allocations, and concurrent allocations (relayed calls). */
export interface TurnCaps {
  relayKbps: number
  maxAllocations: number
}
import { issueTurnCredentials } from './turn-credentials.js'
import { requestTurnCredentials, TurnCredentialsError } from './turn-credentials-protocol.js'
import type { IssuedTurnCredentials } from './turn-credentials-protocol.js'

import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { isReachableIpv6, reachableIpv6 } from '../node/listen-addrs.js'
import type { InterfaceMap } from '../node/listen-addrs.js'

/** Credentials live this long; the UI asks again before a call (RFC 8656 §9.2 style expiry). */
export const TURN_CREDENTIAL_TTL_S = 3600

export interface TurnServiceInit {
  /** The current libp2p instance (it changes with the role). */
  node: () => KaiwaLibp2p
  dataDir: string
  /** UDP/TCP port for STUN/TURN on supernodes; 0 = off. */
  port: number
  /** Address to bind (default 0.0.0.0: a supernode is publicly reachable). */
  host: string
  /** If the port is only the default and taken, run without TURN instead of failing. */
  portOptional?: boolean
  /** Relay port range (default DEFAULT_RELAY_PORTS: above Linux's ephemeral range). */
  relayPorts?: readonly [number, number]
  /** CIDRs the relay may reach although private or special-purpose (peer-policy.ts). */
  allowPeers?: readonly string[]
  /**
   * Relay threads sharing the port (turn-cluster.ts; `--turn-workers`): 1 (the default) relays
   * in this thread alone.
   */
  threads?: number
  /** What each allocation may relay (relay-limits.ts; default 500 packets/s and 500 kB/s each way). */
  allocationLimits?: AllocationLimits
  /** This account's claimed user ID, sent with credential requests (supernodes verify it). */
  ownName?: () => Promise<string | null | undefined>
  /** Connected supernodes (peer ids), the ones that may issue credentials. */
  supernodes: () => string[]
  log: Logger
}

export interface TurnStatus {
  address: string
  urls: string[]
  stats: TurnStats
}

export class TurnService {
  private server: TurnServer | TurnCluster | undefined
  private bound: { address: string; port: number } | undefined
  private secret: string | undefined

  /** The bridge port serving TURN over TLS now (wss-transport.ts), if any: turns: URLs follow it. */
  private bridgePort: number | undefined

  constructor(private readonly init: TurnServiceInit) {}

  /** The bridge port opened (a port) or closed (undefined); see urls(). */
  setBridgePort(port: number | undefined): void {
    this.bridgePort = port
  }

  /**
   * A TURN-over-TLS client from the bridge port (RFC 8656 §3.1; port-demux.ts terminated the
   * TLS). False when this node relays nothing now: the bridge then closes the stream.
   */
  acceptTls(stream: Duplex, remote: { address: string; port: number }): boolean {
    return this.server?.acceptTlsStream(stream, remote) ?? false
  }

  /**
   * Relay while this node is a supernode (libp2p calls this through
   * `roleService` when a supernode's instance starts): listen for STUN/TURN if
   * TURN is on. Credentials are the `turnCredentials` service's, from `issue`.
   */
  async serve(): Promise<void> {
    if (this.init.port === 0) return
    this.secret ??= await loadOrCreateSecret(this.init.dataDir)
    if (this.server == null) {
      const server = this.relay({
        secret: this.secret,
        host: this.init.host,
        port: this.init.port,
        tcp: true,
        // Loopback peers are refused unless the server itself is on loopback
        // (a single-machine network: the demo, the tests).
        allowLoopback: this.init.host === '127.0.0.1',
        // Bound to all interfaces, the relay is announced at the node's own address.
        relayedAddress: () => this.announceHost(),
        // IPv6 relays (RFC 8656 §7.2 REQUESTED-ADDRESS-FAMILY) where the host has IPv6.
        ...this.ipv6Relays(),
        // Clients over IPv6 too, on `::` beside 0.0.0.0 (dual stack; RFC 8656 §3).
        ...(this.listen6() !== undefined ? { listen6: this.listen6() } : {}),
        relayPortRange: this.init.relayPorts ?? DEFAULT_RELAY_PORTS,
        ...(this.init.allowPeers != null ? { allowPeers: this.init.allowPeers } : {}),
        ...(this.init.allocationLimits != null
          ? { allocationLimits: this.init.allocationLimits }
          : {}),
      })
      // Caps set while this node was a client apply from the first allocation.
      if (this.caps != null) server.setCaps(this.caps)
      await warnIfEphemeral(this.init.relayPorts ?? DEFAULT_RELAY_PORTS, this.init.log)
      try {
        this.bound = await server.listen()
        this.server = server
        const on = server.listening().map((a) => hostPort(a, this.bound!.port))
        const threads = server instanceof TurnCluster ? `, ${this.init.threads} relay threads` : ''
        this.init.log.info(`STUN/TURN on ${on.join(' and ')} (UDP and TCP${threads})`)
        const v6 = server.listen6Error()
        if (v6 !== undefined)
          this.init.log.warn(`STUN/TURN serves IPv4 clients only: cannot listen on ${v6}`)
      } catch (err) {
        if (this.init.portOptional !== true) throw err
        this.init.log.warn(
          `STUN/TURN port ${this.init.port} is unavailable (${String(err)}); running without TURN`,
        )
        return
      }
    }
  }

  /** A TurnServer, or a TurnCluster with `threads` > 1 (one thread if the worker is missing). */
  private relay(opts: TurnServerOptions): TurnServer | TurnCluster {
    const threads = this.init.threads ?? 1
    if (threads <= 1) return new TurnServer(opts)
    try {
      return new TurnCluster({ server: opts, threads, log: this.init.log })
    } catch (err) {
      if (!(err instanceof TurnWorkerMissingError)) throw err
      this.init.log.warn(`TURN relays in one thread: ${err.message}`)
      return new TurnServer(opts)
    }
  }

  /** This node stops being a supernode (or stops): no more relay, so no credentials either. */
  async unserve(): Promise<void> {
    const server = this.server
    this.server = undefined
    this.bound = undefined
    await server?.close()
  }

  private caps: TurnCaps | undefined

  /** The operator's caps (bandwidth, concurrent relayed calls); kept across role changes. */
  setCaps(caps: TurnCaps): void {
    this.caps = caps
    this.server?.setCaps(caps)
  }

  status(): TurnStatus | null {
    if (this.server == null || this.bound == null) return null
    return {
      address: `${this.bound.address}:${this.bound.port}`,
      urls: this.urls(),
      stats: this.server.stats(),
    }
  }

  /** Credentials for `peer`, when this node relays. */
  issue(peer: string): IssuedTurnCredentials | undefined {
    if (this.server == null || this.secret == null) return undefined
    const c = issueTurnCredentials(this.secret, peer, TURN_CREDENTIAL_TTL_S)
    return {
      username: c.username,
      password: c.password,
      realm: c.realm,
      expiresAt: c.expiresAt,
      urls: this.urls(),
    }
  }

  /** Credentials for this node: from itself if it relays, else from a connected supernode. */
  async credentials(): Promise<IssuedTurnCredentials & { from: string }> {
    const node = this.init.node()
    const own = this.issue(node.peerId.toString())
    if (own != null) return { ...own, from: node.peerId.toString() }
    const errors: string[] = []
    const name = (await this.init.ownName?.()) ?? undefined
    for (const id of this.init.supernodes()) {
      const peer = node.getPeers().find((p) => p.toString() === id)
      if (peer == null) continue
      try {
        return { ...(await requestTurnCredentials(node, peer, name)), from: id }
      } catch (err) {
        errors.push(`${id}: ${String(err)}`)
      }
    }
    throw new TurnCredentialsError(
      errors.length === 0
        ? 'no connected supernode offers TURN; check --bootstrap, or run a supernode with --turn-port'
        : `no supernode issued TURN credentials (${errors.join('; ')})`,
    )
  }

  private cached: { servers: RTCIceServer[]; until: number } | undefined
  private reusable: (IssuedTurnCredentials & { from: string }) | undefined

  /**
   * Credentials reused until ten minutes before they expire (every call asks;
   * a round trip to a supernode per call would sit on the call-setup path).
   */
  async reusableCredentials(): Promise<IssuedTurnCredentials & { from: string }> {
    const r = this.reusable
    const connected = r != null && this.init.supernodes().includes(r.from)
    const own = r != null && r.from === this.init.node().peerId.toString()
    if (r != null && (connected || own) && Date.now() < r.expiresAt * 1000 - 10 * 60_000) return r
    this.reusable = await this.credentials()
    return this.reusable
  }

  /**
   * iceServers for this node's own WebRTC (overlay links now, the UI later):
   * credentials from a supernode, reused until ten minutes before they expire.
   * Never slows a dial down for long: without a supernode it is an empty list.
   */
  async iceServers(): Promise<RTCIceServer[]> {
    const now = Date.now()
    if (this.cached != null && now < this.cached.until) return this.cached.servers
    try {
      const c = await Promise.race([
        this.credentials(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('timeout')), 2000).unref(),
        ),
      ])
      const servers: RTCIceServer[] = [
        { urls: c.urls.filter((u) => u.startsWith('stun:')) },
        {
          // turn: only: libdatachannel's ICE agent (libjuice) has no TURN over TLS.
          urls: c.urls.filter((u) => u.startsWith('turn:')),
          username: c.username,
          credential: c.password,
        },
      ]
      this.cached = { servers, until: c.expiresAt * 1000 - 10 * 60_000 }
      return servers
    } catch (err) {
      this.init.log.debug(`no ICE servers: ${String(err)}`)
      return []
    }
  }

  /** The announced STUN/TURN URLs: IPv4, then IPv6 when clients can reach the server over it. */
  private urls(): string[] {
    if (this.bound == null || this.server == null) return []
    const hosts = [this.announceHost()]
    if (this.server.listening().some((a) => isIPv6(a))) hosts.push(this.announceHost6())
    const urls = turnUrls(hosts, this.bound.port)
    // TURN over TLS on the bridge port (RFC 7065 §3.1 turns:), for clients whose network passes
    // only TCP 443; browsers verify its certificate (README "Port-443-only networks").
    if (this.bridgePort !== undefined)
      urls.push(`turns:${hostPort(this.announceHost(), this.bridgePort)}?transport=tcp`)
    return urls
  }

  private listen6(): string | undefined {
    return turnListen6(this.init.host, networkInterfaces())
  }

  /** host6 and relayedAddress6 of the TURN server, when it can relay IPv6 (ipv6RelayHost). */
  private ipv6Relays(): { host6?: string; relayedAddress6?: () => string } {
    const host6 = ipv6RelayHost(this.init.host, networkInterfaces())
    if (host6 === undefined) return {}
    if (host6 !== '::') return { host6 }
    return { host6, relayedAddress6: () => this.announceHost6() }
  }

  /**
   * Relays bound to `::`: announce the node's first reachable IPv6 listen address, else the
   * host's first reachable IPv6 interface address (the node may listen on IPv4 only).
   */
  private announceHost6(): string {
    const ips = this.init
      .node()
      .getMultiaddrs()
      .map((m) => /^\/ip6\/([\da-fA-F:.]+)\//.exec(m.toString())?.[1])
      .filter((ip): ip is string => ip != null && isReachableIpv6(ip))
    return ips[0] ?? reachableIpv6(networkInterfaces())[0] ?? '::1'
  }

  /** Bound to all interfaces: announce the node's first public, else LAN, IPv4 address. */
  private announceHost(): string {
    // init.host, not `bound`: relay threads (turn-cluster.ts) ask before listen() resolves.
    if (this.init.host !== '0.0.0.0') return this.init.host
    const ips = this.init
      .node()
      .getMultiaddrs()
      .map((m) => /^\/ip4\/([\d.]+)\//.exec(m.toString())?.[1])
      .filter((ip): ip is string => ip != null && !ip.startsWith('127.'))
    return ips[0] ?? '127.0.0.1'
  }
}

async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'turn-secret')
  try {
    const fh = await open(path, 'wx', 0o600)
    const secret = randomBytes(32).toString('base64url')
    await fh.writeFile(secret)
    await fh.close()
    return secret
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const secret = (await readFile(path, 'utf8')).trim()
    if (secret.length < 16)
      throw new TurnCredentialsError(`${path} is corrupt; delete it and restart`)
    return secret
  }
}

/**
 * Relay sockets inside the kernel's ephemeral range compete with the host's
 * own outgoing connections (issue 4: keep the relay range out of it). Linux
 * says where that range is; elsewhere there is nothing to check.
 */
async function warnIfEphemeral(range: readonly [number, number], log: Logger): Promise<void> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '')
  const [lo, hi] = text.trim().split(/\s+/).map(Number)
  if (lo == null || hi == null || Number.isNaN(lo) || Number.isNaN(hi)) return
  if (range[0] <= hi && range[1] >= lo)
    log.warn(
      `TURN relay ports ${range[0]}-${range[1]} overlap the kernel's ephemeral range ${lo}-${hi}; ` +
        'choose --turn-relay-ports outside it (or narrow net.ipv4.ip_local_port_range)',
    )
}

/**
 * Where a TURN server listening on `host` binds its IPv6 relays, given the host's interfaces:
 * `::1` for a loopback server (the demo, the tests) when the host has ::1; `::` for one on all
 * interfaces when the host has a reachable IPv6 address (global or unique local); otherwise none
 * (a server on one IPv4 address relays IPv4 only, and an IPv6 `host` relays there by itself).
 */
export function ipv6RelayHost(host: string, interfaces: InterfaceMap): string | undefined {
  const all = Object.values(interfaces).flatMap((l) => l ?? [])
  if (host === '127.0.0.1') return all.some((i) => i.address === '::1') ? '::1' : undefined
  if (host === '0.0.0.0') return reachableIpv6(interfaces).length > 0 ? '::' : undefined
  return undefined
}

/** `host:port`, an IPv6 literal in brackets (RFC 3986 §3.2.2). */
export const hostPort = (host: string, port: number): string =>
  `${isIPv6(host) ? `[${host}]` : host}:${port}`

/**
 * The RTCIceServer URLs of a STUN/TURN server reachable at each of `hosts` on `port`, UDP and TCP
 * (RFC 7064 §3.1 stun:, RFC 7065 §3.1 turn: with ?transport=), in the order of `hosts`.
 */
export function turnUrls(hosts: readonly string[], port: number): string[] {
  return hosts.flatMap((h) => {
    const hp = hostPort(h, port)
    return [`stun:${hp}`, `turn:${hp}?transport=udp`, `turn:${hp}?transport=tcp`]
  })
}

/**
 * Where a TURN server on `host` also listens for IPv6 clients: `::` beside `0.0.0.0` when the
 * host has a reachable IPv6 address (dual stack), else nowhere. A server on one address (a
 * `--turn-host`, or 127.0.0.1 for a one-machine network) serves that address's family only.
 */
export function turnListen6(host: string, interfaces: InterfaceMap): string | undefined {
  return host === '0.0.0.0' ? ipv6RelayHost(host, interfaces) : undefined
}
