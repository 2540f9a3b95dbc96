/**
 * The supernodes' STUN/TURN server over UDP (RFC 8489 STUN, RFC 8656 TURN): Binding without
 * auth, Allocate/Refresh/CreatePermission/ChannelBind with long-term credentials from the TURN
 * REST API pattern (turn-credentials.ts), Send/Data indications and ChannelData relaying.
 * Not implemented: TCP/TLS transports, IPv6 relays, RESERVATION-TOKEN, DONT-FRAGMENT (→ 420).
 */
import { createSocket } from 'node:dgram'
import type { RemoteInfo, Socket } from 'node:dgram'
import { InvalidInputError } from '../../shared/errors.js'
import { Allocation, RelayPortsExhaustedError, bindRelaySocket } from './allocation.js'
import type { ClientLink, Peer } from './allocation.js'
import { AllocationTable } from './allocation-table.js'
import { TokenBucketLimiter } from './rate-limit.js'
import {
  StunMethod,
  decodeChannelData,
  decodeStun,
  encodeStun,
  isChannelData,
  isStun,
  verifyFingerprint,
  verifyIntegrity,
} from './stun-message.js'
import type { DecodedStunMessage, StunAddress, StunAttribute } from './stun-message.js'
import { NonceIssuer, authenticate } from './turn-auth.js'
import { listenTcp } from './turn-tcp.js'
import type { TcpListener } from './turn-tcp.js'
import { DEFAULT_TURN_REALM } from './turn-credentials.js'
import {
  REASONS,
  TURN_REQUESTS,
  channelDataFrame,
  maxChannel,
  clampLifetimeS,
  dataIndication,
  find,
  findAll,
  peerAllowed,
  unknownAttributes,
} from './turn-helpers.js'
import type { TurnServerOptions, TurnStats } from './turn-options.js'

export type { TurnServerOptions, TurnStats } from './turn-options.js'

type Attrs = StunAttribute[]
const UDP = 17
const mappedOf = (p: Peer): StunAddress => ({ family: 'IPv4', address: p.address, port: p.port })

export class TurnServer {
  private socket: Socket | undefined
  private tcp: TcpListener | undefined
  private readonly allocations = new AllocationTable()
  private readonly limiter: TokenBucketLimiter
  private readonly nonces: NonceIssuer
  private readonly now: () => number
  private readonly realm: string
  private readonly range: readonly [number, number]
  private sweeper: ReturnType<typeof setInterval> | undefined
  private readonly counters: Omit<TurnStats, 'allocations'> = {
    allocationsTotal: 0,
    bytesToPeers: 0,
    bytesToClients: 0,
    packetsToPeers: 0,
    packetsToClients: 0,
    rateLimited: 0,
    malformed: 0,
  }

  constructor(private readonly opts: TurnServerOptions) {
    if (opts.secret.length === 0) throw new InvalidInputError('TURN secret must not be empty')
    this.now = opts.now ?? Date.now
    this.realm = opts.realm ?? DEFAULT_TURN_REALM
    this.range = opts.relayPortRange ?? [49160, 49200]
    this.limiter = new TokenBucketLimiter(opts.rateLimit ?? { ratePerS: 100, burst: 200 })
    this.nonces = new NonceIssuer((opts.nonceTtlS ?? 600) * 1000)
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
    const s = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.bind(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        s.off('error', reject)
        resolve()
      })
    })
    s.on('message', (buf, rinfo) => {
      const send = (b: Uint8Array) => s.send(b, rinfo.port, rinfo.address)
      const link: ClientLink = { transport: 'udp', address: rinfo.address, port: rinfo.port, send }
      this.onClientPacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), link)
    })
    s.on('error', () => undefined)
    this.socket = s
    if (this.opts.tcp !== false) {
      const host = this.opts.host ?? '127.0.0.1'
      const maxConnections = this.opts.maxTcpConnections ?? 1024
      this.tcp = await listenTcp(
        { host, port: s.address().port, maxConnections },
        {
          frame: (frame, link) => this.onClientPacket(frame, link),
          malformed: () => void this.counters.malformed++,
          // The allocation belongs to this TCP 5-tuple, which is gone with the connection.
          closed: (link) => this.allocations.delete(`tcp|${link.address}|${link.port}`),
        },
      ).catch((e: unknown) => {
        // TCP port taken (possible when port 0 let UDP pick one): do not leak the UDP socket.
        s.close()
        this.socket = undefined
        throw e
      })
    }
    this.sweeper = setInterval(() => this.sweep(), 1000)
    this.sweeper.unref()
    return s.address()
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    await this.tcp?.close()
    this.tcp = undefined
    this.allocations.closeAll()
    const s = this.socket
    this.socket = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  stats(): TurnStats {
    return { allocations: this.allocations.size, ...this.counters }
  }

  /** Drop expired allocations (RFC 8656 §6: deleted when the lifetime runs out). */
  sweep(): void {
    this.allocations.sweep(this.now())
  }

  private allocation(key: string): Allocation | undefined {
    return this.allocations.get(key, this.now())
  }

  private onClientPacket(bytes: Uint8Array, from: ClientLink): void {
    const key = `${from.transport}|${from.address}|${from.port}`
    if (isChannelData(bytes)) return this.onChannelData(bytes, key, from.transport === 'tcp')
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
      if (msg.method === StunMethod.Send) this.onSend(msg, key)
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
    const attributes: Attrs = [...attrs]
    if (opts.code !== undefined) {
      const reason = REASONS[opts.code] ?? 'Error'
      attributes.unshift({ name: 'ERROR-CODE', value: { code: opts.code, reason } })
    }
    if (this.opts.software) attributes.push({ name: 'SOFTWARE', value: this.opts.software })
    const out = encodeStun(
      {
        method: req.method,
        class: opts.code === undefined ? 'success' : 'error',
        transactionId: req.transactionId,
        attributes,
      },
      // RFC 8489 §9.2.4: responses to authenticated requests carry MESSAGE-INTEGRITY, and we
      // add FINGERPRINT to those and whenever the request had one (RFC 8489 §7).
      { integrityKey: opts.key, fingerprint: opts.key !== undefined || !!req.fingerprint },
    )
    to.send(out)
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
      const mapped: Attrs = [{ name: 'XOR-MAPPED-ADDRESS', value: mappedOf(from) }]
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
      return this.allocate(req, from, key, auth.username, ok, err)
    }
    const alloc = this.allocation(key)
    // RFC 8656 §5: requests on a 5-tuple without allocation get 437; a different
    // user on the same 5-tuple gets 441.
    if (!alloc) return err(437)
    if (alloc.username !== auth.username) return err(441)
    const now = this.now()
    if (req.method === StunMethod.Refresh) {
      const lifetime = this.lifetimeS(find(req, 'LIFETIME')?.value)
      if (lifetime === 0) this.allocations.delete(key)
      else alloc.expires = now + lifetime * 1000
      return ok([{ name: 'LIFETIME', value: lifetime }])
    }
    const peers = findAll(req, 'XOR-PEER-ADDRESS').map((a) => a.value)
    if (peers.length === 0) return err(400)
    if (peers.some((p) => p.family !== 'IPv4')) return err(443)
    if (peers.some((p) => !this.peerAllowed(p))) return err(403)
    if (req.method === StunMethod.CreatePermission) {
      // RFC 8656 §10.2: all permissions are installed or none.
      for (const p of peers) alloc.permit(p.address, now)
      return ok([])
    }
    // ChannelBind, RFC 8656 §12.2.
    const channel = find(req, 'CHANNEL-NUMBER')?.value
    const peer = peers[0]!
    if (
      peers.length !== 1 ||
      channel === undefined ||
      channel < 0x4000 ||
      channel > maxChannel(this.opts.legacyChannelRange === true)
    ) {
      return err(400)
    }
    if (!alloc.canBind(channel, peer, now)) return err(400)
    alloc.bind(channel, peer, now)
    return ok([])
  }

  private lifetimeS(requested: number | undefined): number {
    return clampLifetimeS(
      requested,
      this.opts.defaultLifetimeS ?? 600,
      this.opts.maxLifetimeS ?? 3600,
    )
  }

  private async allocate(
    req: DecodedStunMessage,
    from: ClientLink,
    key: string,
    username: string,
    ok: (a: Attrs) => void,
    err: (code: number, a?: Attrs) => void,
  ): Promise<void> {
    const existing = this.allocation(key)
    const success = (a: Allocation): void => {
      const lifetime = Math.max(0, Math.round((a.expires - this.now()) / 1000))
      const host = this.opts.host ?? '127.0.0.1'
      ok([
        {
          name: 'XOR-RELAYED-ADDRESS',
          value: { family: 'IPv4', address: host, port: a.relayPort },
        },
        { name: 'XOR-MAPPED-ADDRESS', value: mappedOf(from) },
        { name: 'LIFETIME', value: lifetime },
      ])
    }
    if (existing) {
      // RFC 8656 §7.2: a retransmitted Allocate gets the original success; anything else 437.
      const same = Buffer.compare(existing.transactionId, req.transactionId) === 0
      return same ? success(existing) : err(437)
    }
    if (this.allocations.isPending(key)) return // retransmission while the relay socket is being bound
    const transport = find(req, 'REQUESTED-TRANSPORT')?.value
    if (transport === undefined) return err(400)
    if (transport !== UDP) return err(442)
    const family = find(req, 'REQUESTED-ADDRESS-FAMILY')?.value
    if (family === 'IPv6') return err(440)
    const quota = this.opts.maxAllocationsPerUser ?? 5
    if (this.allocations.countFor(username) >= quota) return err(486)
    const inUse = this.allocations.relayPorts()
    this.allocations.reserve(key, username)
    try {
      const even = find(req, 'EVEN-PORT') !== undefined
      const host = this.opts.host ?? '127.0.0.1'
      const { socket, port } = await bindRelaySocket(host, this.range, inUse, even)
      if (!this.socket) return void socket.close() // closed meanwhile
      const lifetimeMs = this.lifetimeS(find(req, 'LIFETIME')?.value) * 1000
      const alloc = new Allocation(
        key,
        from,
        username,
        socket,
        port,
        req.transactionId,
        lifetimeMs || (this.opts.defaultLifetimeS ?? 600) * 1000,
        this.now(),
      )
      socket.on('message', (data, rinfo) => this.onPeerPacket(alloc, data, rinfo))
      socket.on('error', () => undefined)
      this.allocations.add(alloc)
      this.counters.allocationsTotal++
      success(alloc)
    } catch (e) {
      if (e instanceof RelayPortsExhaustedError) return err(508)
      throw e
    } finally {
      this.allocations.release(key)
    }
  }

  private peerAllowed(p: StunAddress): boolean {
    if (p.family !== 'IPv4') return false
    const host = this.opts.host ?? '127.0.0.1'
    const listenPort = this.socket?.address().port
    return peerAllowed(p, { host, listenPort, allowLoopback: this.opts.allowLoopback === true })
  }

  /**
   * Send indication (RFC 8656 §11.2): relay DATA to the peer if a permission exists. Permissions
   * cover an IP, not a port, so the port is checked against the policy again here.
   */
  private onSend(msg: DecodedStunMessage, key: string): void {
    const alloc = this.allocation(key)
    const peer = find(msg, 'XOR-PEER-ADDRESS')?.value
    const data = find(msg, 'DATA')?.value
    if (!alloc || !peer || !data || msg.unknownRequired.length) return
    if (!this.peerAllowed(peer)) return
    if (!alloc.hasPermission(peer.address, this.now())) return
    this.toPeer(alloc, data, peer)
  }

  /** ChannelData from the client (RFC 8656 §12.6): relay to the bound peer. */
  private onChannelData(bytes: Uint8Array, key: string, stream: boolean): void {
    const alloc = this.allocation(key)
    if (!alloc) return
    let frame
    try {
      frame = decodeChannelData(bytes, { stream })
    } catch {
      return void this.counters.malformed++
    }
    const now = this.now()
    const ch = alloc.channel(frame.channel, now)
    if (!ch || !alloc.hasPermission(ch.peer.address, now)) return
    this.toPeer(alloc, frame.data, ch.peer)
  }

  private toPeer(alloc: Allocation, data: Uint8Array, peer: Peer): void {
    alloc.relay.send(data, peer.port, peer.address)
    this.counters.bytesToPeers += data.length
    this.counters.packetsToPeers++
  }

  /** Data from a peer on the relay (RFC 8656 §11.3, §12.7): ChannelData or Data indication. */
  private onPeerPacket(alloc: Allocation, data: Buffer, rinfo: RemoteInfo): void {
    const now = this.now()
    if (alloc.expires <= now || !alloc.hasPermission(rinfo.address, now)) return
    const peer: Peer = { address: rinfo.address, port: rinfo.port }
    const ch = alloc.channelForPeer(peer, now)
    const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    let out: Uint8Array
    if (ch) out = channelDataFrame(ch.number, payload, alloc.client.transport === 'tcp')
    else out = dataIndication(peer, payload)
    alloc.client.send(out)
    this.counters.bytesToClients += payload.length
    this.counters.packetsToClients++
  }
}
