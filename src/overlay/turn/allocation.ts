/**
 * One TURN allocation (RFC 8656 §6, §7): its relayed transport addresses (a UDP socket on the
 * server each; one, or one per family for a dual allocation, §7.2 ADDITIONAL-ADDRESS-FAMILY),
 * lifetime, permissions (§9) and channel bindings (§12). Expiry is evaluated lazily
 * against the server clock, so a fake clock in tests drives every timer.
 */
import type { Socket } from 'node:dgram'
import { KaiwaError } from '../../shared/errors.js'
import { DirectionLimit } from './relay-limits.js'
import type { AllocationLimits } from './relay-limits.js'
import type { AddressFamily } from './stun-address.js'
import { udpSocket } from './udp-socket.js'

/** No relay port in the configured range could be bound (answer 508, RFC 8656 §7.2). */
export class RelayPortsExhaustedError extends KaiwaError {
  constructor(range: readonly [number, number]) {
    super(`no free relay port in ${range[0]}-${range[1]}`, 'unavailable')
    this.name = 'RelayPortsExhaustedError'
  }
}

/**
 * A relay socket could not be bound for another reason than a taken port, e.g. the configured
 * IPv6 address is not (or no longer) on the host (EADDRNOTAVAIL): no port of the range would do.
 */
export class RelayBindError extends KaiwaError {
  constructor(host: string, cause: unknown) {
    super(`cannot bind a relay socket on ${host}: ${String(cause)}`, 'unavailable', { cause })
    this.name = 'RelayBindError'
  }
}

/** RFC 8656 §9: permissions last 300 s; §12: channel bindings last 10 minutes. */
export const PERMISSION_LIFETIME_MS = 300_000
export const CHANNEL_LIFETIME_MS = 600_000

export interface Peer {
  address: string
  port: number
}

/** How the server reaches a client: its transport address and a way to send it bytes. */
export interface ClientLink extends Peer {
  /** 'tls': TURN over TLS (RFC 8656 §3.1), on the bridge port (port-demux.ts). */
  transport: 'udp' | 'tcp' | 'tls'
  /** The 5-tuple key `transport|address|port` of the allocation table. */
  key: string
  send(buf: Uint8Array): void
}

/** A permission (§9) for one peer IP; the object is reused when refreshed. */
interface Permission {
  expires: number
}

export interface Channel {
  number: number
  peer: Peer
  expires: number
  /** The permission of peer.address, looked up again only once it has expired. */
  perm: Permission
  /**
   * Check the peer policy again on every packet: the peer was allowed only for what may change
   * while the channel lives (another allocation's relay port on this host, peer-policy.ts).
   */
  recheck: boolean
}

export const peerKey = (address: string, port: number) => `${address}|${port}`

/** One relayed transport address of an allocation: its family, socket and port. */
export interface RelayEndpoint {
  family: AddressFamily
  socket: Socket
  port: number
}

export interface AllocationInit {
  /** The 5-tuple of the client side, and how to reach it. */
  client: ClientLink
  username: string
  /** One relay, or an IPv4 and an IPv6 one (dual allocation, RFC 8656 §7.2). */
  relays: readonly RelayEndpoint[]
  /** The family a dual allocation asked for but did not get, and why (ADDRESS-ERROR-CODE). */
  missing?: { family: AddressFamily; code: number } | undefined
  /** Transaction id of the Allocate that created it (retransmissions get the same answer). */
  transactionId: Uint8Array
  /** The RESERVATION-TOKEN of the port reserved with it (EVEN-PORT R=1, relay-reservations.ts). */
  reservationToken?: Uint8Array | undefined
  lifetimeMs: number
  now: number
  /** Per-direction limits (relay-limits.ts). */
  limits: Required<AllocationLimits>
}

export class Allocation {
  readonly key: string
  readonly client: ClientLink
  readonly username: string
  readonly relays: readonly RelayEndpoint[]
  /** Repeated in the answer to a retransmitted Allocate (RFC 8656 §7.2). */
  readonly missing: { family: AddressFamily; code: number } | undefined
  /** The relay sockets by family; per packet the family of the peer picks one. */
  private readonly relay4: Socket | undefined
  private readonly relay6: Socket | undefined
  readonly transactionId: Uint8Array
  /** Repeated in the answer to a retransmitted Allocate, as `missing` is. */
  readonly reservationToken: Uint8Array | undefined
  /** Expiry time (ms, server clock). */
  expires: number
  /** Client → peer and peer → client limits. */
  readonly toPeer: DirectionLimit
  readonly toClient: DirectionLimit
  private readonly permissions = new Map<string, Permission>()
  private readonly byNumber = new Map<number, Channel>()
  private readonly byPeer = new Map<string, Channel>()
  /** The channel a peer packet last matched: calls have one peer, so this saves a Map lookup. */
  private lastPeerChannel: Channel | undefined

  constructor(init: AllocationInit) {
    this.client = init.client
    this.key = init.client.key
    this.username = init.username
    this.relays = init.relays
    this.missing = init.missing
    this.relay4 = init.relays.find((r) => r.family === 'IPv4')?.socket
    this.relay6 = init.relays.find((r) => r.family === 'IPv6')?.socket
    this.transactionId = init.transactionId
    this.reservationToken = init.reservationToken
    this.expires = init.now + init.lifetimeMs
    this.toPeer = new DirectionLimit(init.limits, init.now)
    this.toClient = new DirectionLimit(init.limits, init.now)
  }

  /** Has this allocation a relayed address of `family` (else peers of it get 443, §9)? */
  hasFamily(family: AddressFamily): boolean {
    return (family === 'IPv4' ? this.relay4 : this.relay6) !== undefined
  }

  /**
   * The relay socket that reaches `address` (an IP literal): the IPv6 one for an address with a
   * colon, else the IPv4 one; undefined when the allocation has no relay of that family.
   */
  socketFor(address: string): Socket | undefined {
    return address.includes(':') ? this.relay6 : this.relay4
  }

  /** Install or refresh a permission for the peer's IP; ports are ignored (§9). */
  permit(address: string, now: number): void {
    const p = this.permissions.get(address)
    if (p) p.expires = now + PERMISSION_LIFETIME_MS
    else this.permissions.set(address, { expires: now + PERMISSION_LIFETIME_MS })
  }

  hasPermission(address: string, now: number): boolean {
    const p = this.permissions.get(address)
    return p !== undefined && p.expires > now
  }

  /** Is the channel's peer permitted at `now` (its permission may have been replaced)? */
  channelPermitted(ch: Channel, now: number): boolean {
    if (ch.perm.expires > now) return true
    const p = this.permissions.get(ch.peer.address)
    if (p === undefined) return false
    ch.perm = p
    return p.expires > now
  }

  /** Forget expired permissions (a bounded table even under a CreatePermission flood). */
  sweep(now: number): void {
    for (const [a, p] of this.permissions) if (p.expires <= now) this.permissions.delete(a)
  }

  /**
   * Check that `number` ↔ `peer` can be bound (§12.2): the channel is unbound or bound to this
   * peer, and the peer is unbound or bound to this channel.
   */
  canBind(number: number, peer: Peer, now: number): boolean {
    const byN = this.channel(number, now)
    const byP = this.channelForPeer(peer.address, peer.port, now)
    return (
      (byN === undefined || (byN.peer.address === peer.address && byN.peer.port === peer.port)) &&
      (byP === undefined || byP.number === number)
    )
  }

  /**
   * Bind (or refresh) a channel and refresh the peer's permission (§12.2). `recheck`: see
   * Channel.recheck.
   */
  bind(number: number, peer: Peer, now: number, recheck = false): void {
    this.permit(peer.address, now)
    const perm = this.permissions.get(peer.address)!
    const old = this.byNumber.get(number)
    if (old) {
      // A refresh (canBind allowed only the same peer): keep the object the caches hold.
      old.expires = now + CHANNEL_LIFETIME_MS
      old.perm = perm
      old.recheck = recheck
      return
    }
    const ch: Channel = { number, peer, expires: now + CHANNEL_LIFETIME_MS, perm, recheck }
    this.byNumber.set(number, ch)
    this.byPeer.set(peerKey(peer.address, peer.port), ch)
  }

  channel(number: number, now: number): Channel | undefined {
    const ch = this.byNumber.get(number)
    if (ch && ch.expires <= now) {
      this.byNumber.delete(number)
      this.byPeer.delete(peerKey(ch.peer.address, ch.peer.port))
      if (this.lastPeerChannel === ch) this.lastPeerChannel = undefined
      return undefined
    }
    return ch
  }

  channelForPeer(address: string, port: number, now: number): Channel | undefined {
    const last = this.lastPeerChannel
    let ch: Channel | undefined
    if (last !== undefined && last.peer.port === port && last.peer.address === address) ch = last
    else ch = this.byPeer.get(peerKey(address, port))
    if (ch === undefined) return undefined
    if (ch.expires <= now) return this.channel(ch.number, now)
    this.lastPeerChannel = ch
    return ch
  }

  close(): void {
    for (const r of this.relays) r.socket.close()
  }
}

/**
 * Bind a socket of `family` to host:port; resolves undefined when the port is taken (or not ours
 * to take), rejects with RelayBindError when the address itself cannot be bound.
 */
export function tryBind(
  host: string,
  port: number,
  family: AddressFamily,
): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const s = udpSocket(undefined, family)
    const onError = (err: NodeJS.ErrnoException) => {
      s.close()
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(undefined)
      else reject(new RelayBindError(host, err))
    }
    s.once('error', onError)
    s.bind({ address: host, port, exclusive: true }, () => {
      s.off('error', onError)
      resolve(s)
    })
  })
}

/**
 * Bind a relay socket of `family` on host, on a free port of `range` not in `inUse`, even if
 * `even` (EVEN-PORT, RFC 8656 §18). Starts at a random offset so ports are not trivially
 * predictable (§7.2).
 */
export async function bindRelaySocket(
  host: string,
  range: readonly [number, number],
  inUse: ReadonlySet<number>,
  even: boolean,
  family: AddressFamily = 'IPv4',
): Promise<RelayEndpoint> {
  const [lo, hi] = range
  const n = hi - lo + 1
  const start = Math.floor(Math.random() * n)
  for (let i = 0; i < n; i++) {
    const port = lo + ((start + i) % n)
    if (inUse.has(port) || (even && port % 2)) continue
    const socket = await tryBind(host, port, family)
    if (socket) return { family, socket, port }
  }
  throw new RelayPortsExhaustedError(range)
}
