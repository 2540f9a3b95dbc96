/**
 * The supernodes' STUN/TURN server (RFC 8489 STUN, RFC 8656 TURN) over UDP and TCP: Binding
 * without auth, Allocate/Refresh/CreatePermission/ChannelBind with long-term credentials from the
 * TURN REST API pattern (turn-credentials.ts), Send/Data indications and ChannelData relaying
 * (relay-path.ts) under per-allocation and server-wide limits (relay-limits.ts), changeable at
 * runtime with setCaps, to the peers the peer policy allows (peer-policy.ts: by default public
 * unicast addresses only; allowLoopback, allowPeers). Refresh, CreatePermission and ChannelBind
 * are in turn-allocation-requests.ts, Allocate in turn-allocate.ts: EVEN-PORT with its R bit and
 * RESERVATION-TOKEN (even-port.ts, relay-reservations.ts), DONT-FRAGMENT accepted (what that
 * means for the DF bit: turn-allocate.ts). IPv6 relays (RFC 8656 §7.2 REQUESTED-ADDRESS-FAMILY,
 * ADDITIONAL-ADDRESS-FAMILY dual allocations) where the server has an IPv6 address (`host6`, or
 * an IPv6 `host`): relay-families.ts. Dual stack: clients reach it on `host` and, with `listen6`,
 * on an IPv6 address too (turn-listener.ts), whatever family they relay. Channel numbers 0x4000-0x7FFF (RFC 5766 §11) unless
 * legacyChannelRange is false. TLS to the server (RFC 8656 §3.1) arrives already terminated from
 * the bridge port (acceptTlsStream; src/overlay/bridge/port-demux.ts). Not implemented: DTLS, TCP
 * relays (RFC 6062).
 */
import type { RemoteInfo, Socket } from 'node:dgram'
import { InvalidInputError } from '../../shared/errors.js'
import type { ClientLink } from './allocation.js'
import { AllocationTable } from './allocation-table.js'
import { allocate } from './turn-allocate.js'
import type { AllocateComponents } from './turn-allocate.js'
import { onAllocationRequest } from './turn-allocation-requests.js'
import type { AllocationRequestComponents } from './turn-allocation-requests.js'
import { PeerPolicy } from './peer-policy.js'
import { RelayCounters } from './relay-counters.js'
import { ServerCaps, allocationLimits } from './relay-limits.js'
import type { AllocationLimits, RelayCaps } from './relay-limits.js'
import { RelayPath } from './relay-path.js'
import { relayHosts } from './relay-families.js'
import { ReservationTable } from './relay-reservations.js'
import type { RelayHosts } from './relay-families.js'
import { TokenBucketLimiter } from './rate-limit.js'
import {
  StunMethod,
  decodeStun,
  isChannelData,
  isStun,
  verifyFingerprint,
  verifyIntegrity,
} from './stun-message.js'
import type { DecodedStunMessage, StunAttribute } from './stun-message.js'
import { NonceIssuer, authenticate } from './turn-auth.js'
import { openTurnListener } from './turn-listener.js'
import { serveStream } from './turn-tcp.js'
import type { TcpHandlers } from './turn-tcp.js'
import type { Duplex } from 'node:stream'
import type { TurnListener, TurnListenerHandlers, TurnListenerOptions } from './turn-listener.js'
import { DEFAULT_TURN_REALM } from './turn-credentials.js'
import {
  TURN_REQUESTS,
  clampLifetimeS,
  mappedAddress,
  stunResponse,
  unknownAttributes,
} from './turn-helpers.js'
import { DEFAULT_MAX_ALLOCATIONS_PER_USER } from './turn-options.js'
import type { TurnServerOptions, TurnStats } from './turn-options.js'

export type { AllocationLimits, RelayCaps, TurnServerOptions, TurnStats } from './turn-options.js'

type Attrs = StunAttribute[]

/** Relay ports: the RFC 8656 dynamic range above Linux's default ephemeral range. */
export const DEFAULT_RELAY_PORTS: readonly [number, number] = [61000, 65535]

export class TurnServer {
  /** The primary listener's UDP socket (`host`): its port is the server's port. */
  private socket: Socket | undefined
  /** `host`, then `listen6` when bound (turn-listener.ts). */
  private listeners: TurnListener[] = []
  private listen6Failure: string | undefined
  private readonly allocations: AllocationTable
  private readonly limiter: TokenBucketLimiter
  private readonly nonces: NonceIssuer
  private readonly now: () => number
  private readonly realm: string
  private readonly range: readonly [number, number]
  private sweeper: ReturnType<typeof setInterval> | undefined
  private readonly counters = new RelayCounters()
  private readonly limits: Required<AllocationLimits>
  private readonly serverCaps: ServerCaps
  private readonly relay: RelayPath
  private readonly policy: PeerPolicy
  private readonly allocationRequests: AllocationRequestComponents
  private readonly allocateComponents: AllocateComponents
  /** Ports N+1 reserved by EVEN-PORT with the R bit (relay-reservations.ts). */
  private readonly reservations = new ReservationTable()
  /** Where relays of each family bind and what they announce (relay-families.ts). */
  private readonly hosts: RelayHosts

  /** Throws InvalidInputError on an empty secret, InvalidCidrError on a bad allowPeers entry. */
  constructor(private readonly opts: TurnServerOptions) {
    if (opts.secret.length === 0) throw new InvalidInputError('TURN secret must not be empty')
    this.now = opts.now ?? Date.now
    this.realm = opts.realm ?? DEFAULT_TURN_REALM
    this.range = opts.relayPortRange ?? DEFAULT_RELAY_PORTS
    this.limiter = new TokenBucketLimiter(opts.rateLimit ?? { ratePerS: 100, burst: 200 })
    this.nonces = new NonceIssuer((opts.nonceTtlS ?? 600) * 1000, opts.nonceKey)
    const shared = opts.shared
    this.allocations = new AllocationTable(
      shared && {
        added: (a) => a.relays.forEach((r) => shared.relayPorts.mark(r.port)),
        deleted: (a) => {
          a.relays.forEach((r) => shared.relayPorts.clear(r.port))
          shared.release(a.username)
        },
      },
    )
    this.limits = allocationLimits(opts.allocationLimits)
    this.serverCaps = new ServerCaps(opts.caps ?? {}, this.now())
    const host = opts.host ?? '127.0.0.1'
    this.hosts = relayHosts(host, opts.host6, opts.relayedAddress, opts.relayedAddress6)
    this.policy = new PeerPolicy({
      allowPeers: opts.allowPeers,
      allowLoopback: opts.allowLoopback === true,
      listenPort: () => this.socket?.address().port,
      bindAddress: host,
      announcedAddress: opts.relayedAddress,
      bindAddress6: opts.host6,
      announcedAddress6: opts.relayedAddress6,
      // Another relay thread's port counts too (turn-shared.ts).
      isRelayPort: (port) =>
        this.allocations.isRelayPort(port, this.now()) || shared?.relayPorts.has(port) === true,
    })
    this.relay = new RelayPath({
      counters: this.counters,
      caps: this.serverCaps,
      peerAllowed: (p) => this.policy.allows(p),
    })
    this.allocationRequests = {
      allocations: this.allocations,
      policy: this.policy,
      counters: this.counters,
      now: () => this.now(),
      lifetimeS: (requested) => this.lifetimeS(requested),
      legacyChannelRange: opts.legacyChannelRange !== false,
    }
    this.allocateComponents = {
      allocations: this.allocations,
      reservations: this.reservations,
      hosts: this.hosts,
      range: this.range,
      serverCaps: this.serverCaps,
      counters: this.counters,
      limits: this.limits,
      quota: opts.maxAllocationsPerUser ?? DEFAULT_MAX_ALLOCATIONS_PER_USER,
      now: () => this.now(),
      lifetimeS: (requested) => this.lifetimeS(requested),
      open: () => this.socket !== undefined,
      shared,
      attach: (alloc) => {
        for (const { socket } of alloc.relays) {
          socket.on('message', (data, rinfo) => this.relay.fromPeer(alloc, data, rinfo, this.now()))
          socket.on('error', () => undefined)
        }
      },
    }
  }

  /**
   * Change the server-wide caps at runtime (relay-limits.ts): relayKbps (0: relay nothing) and
   * maxAllocations (0: no new allocations). Throws InvalidInputError on a negative or NaN cap.
   */
  setCaps(caps: Partial<RelayCaps>): void {
    this.serverCaps.set(caps)
  }

  caps(): RelayCaps {
    return this.serverCaps.get()
  }

  private readonly streamHandlers: TcpHandlers = {
    frame: (frame, link) => this.onClientPacket(frame, link),
    malformed: () => void this.counters.malformed++,
    // The allocation belongs to this TCP (or TLS) 5-tuple, which is gone with the connection.
    closed: (link) => this.allocations.delete(link.key),
  }
  private readonly tlsStreams = new Set<Duplex>()

  /**
   * A TURN-over-TLS client (RFC 8656 §3.1) whose TLS the bridge port terminated: served as a TCP
   * client is, keyed by `remote`, its real transport address (the TCP socket's under the TLS).
   * False while the server is not listening (the caller closes the stream).
   */
  acceptTlsStream(stream: Duplex, remote: { address: string; port: number }): boolean {
    if (this.socket === undefined) return false
    this.counters.tlsConnections++
    this.tlsStreams.add(stream)
    stream.once('close', () => this.tlsStreams.delete(stream))
    serveStream(stream, remote, 'tls', this.streamHandlers)
    return true
  }

  /** Bind the listen socket; resolves with the bound address. */
  async listen(): Promise<{ address: string; port: number }> {
    // With port 0 the kernel picks a free UDP port, and TCP then wants the same
    // number, which another process may hold: pick again a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listenOnce()
      } catch (err) {
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        if (!inUse || (this.opts.port ?? 0) !== 0 || attempt >= 9) throw err
      }
    }
  }

  private async listenOnce(): Promise<{ address: string; port: number }> {
    const opts = (host: string, port: number): TurnListenerOptions => ({
      host,
      port,
      socketBufferBytes: this.opts.socketBufferBytes ?? 4 << 20,
      tcp: this.opts.tcp !== false,
      maxTcpConnections: this.opts.maxTcpConnections ?? 1024,
      ...(this.opts.reusePort !== undefined ? { reusePort: this.opts.reusePort } : {}),
    })
    const handlers: TurnListenerHandlers = {
      datagram: (s, buf, rinfo) => this.onDatagram(s, buf, rinfo),
      tcp: this.streamHandlers,
    }
    const primary = await openTurnListener(
      opts(this.opts.host ?? '127.0.0.1', this.opts.port ?? 0),
      handlers,
    )
    this.listeners = [primary]
    this.socket = primary.udp
    this.listen6Failure = undefined
    if (this.opts.listen6 !== undefined) {
      try {
        this.listeners.push(await openTurnListener(opts(this.opts.listen6, primary.port), handlers))
      } catch (err) {
        // Port 0 picked a number free on one family only: pick again for both (listen()).
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && (this.opts.port ?? 0) === 0) {
          await this.closeListeners()
          throw err
        }
        this.listen6Failure = `${this.opts.listen6}: ${String(err)}`
      }
    }
    this.sweeper = setInterval(() => this.sweep(), 1000)
    this.sweeper.unref()
    return { address: primary.address, port: primary.port }
  }

  /** Where clients reach the server now: `host`, and `listen6` when it could be bound. */
  listening(): string[] {
    return this.listeners.map((l) => l.address)
  }

  /** Why `listen6` could not be bound (the server then serves `host` alone), if it could not. */
  listen6Error(): string | undefined {
    return this.listen6Failure
  }

  private async closeListeners(): Promise<void> {
    const all = this.listeners
    this.listeners = []
    this.socket = undefined
    await Promise.all(all.map((l) => l.close()))
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.allocations.closeAll()
    this.reservations.closeAll()
    for (const s of this.tlsStreams) s.destroy()
    await this.closeListeners()
  }

  stats(): TurnStats {
    return this.counters.snapshot(this.allocations.size)
  }

  /**
   * Drop expired allocations (RFC 8656 §6: deleted when the lifetime runs out) and expired port
   * reservations (§7.2: held for 30 s).
   */
  sweep(): void {
    this.allocations.sweep(this.now())
    this.reservations.sweep(this.now())
  }

  /**
   * A datagram on the listen port. ChannelData (first byte 0x40-0x7F, RFC 8656 §12, RFC 7983)
   * takes the fast path: its allocation is found by address and port without a key string.
   */
  private onDatagram(s: Socket, buf: Buffer, rinfo: RemoteInfo): void {
    const b0 = buf[0]!
    if (b0 >= 0x40 && b0 <= 0x7f && buf.length >= 4) {
      const now = this.now()
      const alloc = this.allocations.getUdp(rinfo.address, rinfo.port, now)
      return this.relay.fromClientChannelData(alloc, buf, now)
    }
    const { address, port } = rinfo
    const send = (b: Uint8Array) => s.send(b, port, address)
    const link: ClientLink = {
      transport: 'udp',
      key: `udp|${address}|${port}`,
      address,
      port,
      send,
    }
    this.onClientPacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), link)
  }

  private onClientPacket(bytes: Uint8Array, from: ClientLink): void {
    const key = from.key
    if (isChannelData(bytes)) {
      const now = this.now()
      return this.relay.fromClientChannelData(this.allocations.get(key, now), bytes, now)
    }
    if (!isStun(bytes)) return void this.counters.malformed++
    let msg: DecodedStunMessage
    try {
      msg = decodeStun(bytes)
    } catch {
      // RFC 8489 §6.3: malformed messages are silently discarded.
      return void this.counters.malformed++
    }
    if (msg.fingerprint && !verifyFingerprint(bytes, msg)) return void this.counters.malformed++
    if (msg.class === 'indication') {
      // A Send indication (RFC 8656 §11.2); relay-path.ts checks permission and limits.
      if (msg.method === StunMethod.Send) {
        const now = this.now()
        this.relay.sendIndication(this.allocations.get(key, now), msg, now)
      }
      return
    }
    if (msg.class !== 'request') return
    if (!this.limiter.take(from.address, this.now())) return void this.counters.rateLimited++
    // Errors here can only be bugs or a socket closed meanwhile; never crash the process on them.
    this.onRequest(bytes, msg, from, key).catch(() => undefined)
  }

  private respond(
    req: DecodedStunMessage,
    to: ClientLink,
    attrs: Attrs,
    opts: { code?: number; key?: Uint8Array | undefined } = {},
  ): void {
    to.send(stunResponse(req, attrs, { ...opts, software: this.opts.software }))
  }

  private challenge(req: DecodedStunMessage, to: ClientLink, code: number): void {
    const attrs: Attrs = []
    if (code !== 400) {
      attrs.push({ name: 'REALM', value: this.realm })
      attrs.push({ name: 'NONCE', value: this.nonces.issue(this.now()) })
    }
    this.respond(req, to, attrs, { code })
  }

  private async onRequest(
    bytes: Uint8Array,
    req: DecodedStunMessage,
    from: ClientLink,
    key: string,
  ): Promise<void> {
    if (req.method === StunMethod.Binding) {
      // RFC 8489 §6.3.1, §14.2: Binding needs no credentials on this server.
      if (req.unknownRequired.length) {
        const unknown: Attrs = [{ name: 'UNKNOWN-ATTRIBUTES', value: req.unknownRequired }]
        return this.respond(req, from, unknown, { code: 420 })
      }
      const mapped: Attrs = [{ name: 'XOR-MAPPED-ADDRESS', value: mappedAddress(from) }]
      return this.respond(req, from, mapped)
    }
    if (!TURN_REQUESTS.has(req.method)) return this.respond(req, from, [], { code: 400 })
    const auth = authenticate(req, (k) => verifyIntegrity(bytes, req, k, 'sha1'), {
      secret: this.opts.secret,
      realm: this.realm,
      nonces: this.nonces,
      now: this.now(),
    })
    if (!auth.ok) return this.challenge(req, from, auth.code)
    const ok = (attrs: Attrs) => this.respond(req, from, attrs, { key: auth.key })
    const err = (code: number, attrs: Attrs = []) =>
      this.respond(req, from, attrs, { code, key: auth.key })
    // RFC 8489 §6.3.1: unknown comprehension-required attributes, checked after auth.
    const unknown = unknownAttributes(req)
    if (unknown.length) return err(420, [{ name: 'UNKNOWN-ATTRIBUTES', value: unknown }])
    if (req.method === StunMethod.Allocate) {
      return allocate(req, from, key, auth.username, this.allocateComponents, ok, err)
    }
    // Refresh, CreatePermission, ChannelBind (turn-allocation-requests.ts).
    const alloc = this.allocations.get(key, this.now())
    onAllocationRequest(req, alloc, key, auth.username, this.allocationRequests, ok, err)
  }

  private lifetimeS(requested: number | undefined): number {
    return clampLifetimeS(
      requested,
      this.opts.defaultLifetimeS ?? 600,
      this.opts.maxLifetimeS ?? 3600,
    )
  }
}
