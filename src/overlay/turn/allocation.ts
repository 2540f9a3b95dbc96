/**
 * One TURN allocation (RFC 8656 §6, §7): its relayed transport address (a UDP socket on the
 * server), lifetime, permissions (§9) and channel bindings (§12). Expiry is evaluated lazily
 * against the server clock, so a fake clock in tests drives every timer.
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { KaiwaError } from '../../shared/errors.js'

/** No relay port in the configured range could be bound (answer 508, RFC 8656 §7.2). */
export class RelayPortsExhaustedError extends KaiwaError {
  constructor(range: readonly [number, number]) {
    super(`no free relay port in ${range[0]}-${range[1]}`, 'unavailable')
    this.name = 'RelayPortsExhaustedError'
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
  transport: 'udp' | 'tcp'
  send(buf: Uint8Array): void
}

interface Channel {
  number: number
  peer: Peer
  expires: number
}

const peerKey = (p: Peer) => `${p.address}|${p.port}`

export class Allocation {
  /** Expiry time (ms, server clock). */
  expires: number
  private readonly permissions = new Map<string, number>()
  private readonly byNumber = new Map<number, Channel>()
  private readonly byPeer = new Map<string, Channel>()

  constructor(
    /** 5-tuple key of the client side (transport|address|port). */
    readonly key: string,
    readonly client: ClientLink,
    readonly username: string,
    readonly relay: Socket,
    readonly relayPort: number,
    /** Transaction id of the Allocate that created it (retransmissions get the same answer). */
    readonly transactionId: Uint8Array,
    lifetimeMs: number,
    now: number,
  ) {
    this.expires = now + lifetimeMs
  }

  /** Install or refresh a permission for the peer's IP; ports are ignored (§9). */
  permit(address: string, now: number): void {
    this.permissions.set(address, now + PERMISSION_LIFETIME_MS)
  }

  hasPermission(address: string, now: number): boolean {
    const exp = this.permissions.get(address)
    if (exp === undefined) return false
    if (exp > now) return true
    this.permissions.delete(address)
    return false
  }

  /**
   * Check that `number` ↔ `peer` can be bound (§12.2): the channel is unbound or bound to this
   * peer, and the peer is unbound or bound to this channel.
   */
  canBind(number: number, peer: Peer, now: number): boolean {
    const byN = this.channel(number, now)
    const byP = this.channelForPeer(peer, now)
    return (
      (byN === undefined || peerKey(byN.peer) === peerKey(peer)) &&
      (byP === undefined || byP.number === number)
    )
  }

  /** Bind (or refresh) a channel and refresh the peer's permission (§12.2). */
  bind(number: number, peer: Peer, now: number): void {
    const ch: Channel = { number, peer, expires: now + CHANNEL_LIFETIME_MS }
    this.byNumber.set(number, ch)
    this.byPeer.set(peerKey(peer), ch)
    this.permit(peer.address, now)
  }

  channel(number: number, now: number): Channel | undefined {
    const ch = this.byNumber.get(number)
    if (ch && ch.expires <= now) {
      this.byNumber.delete(number)
      this.byPeer.delete(peerKey(ch.peer))
      return undefined
    }
    return ch
  }

  channelForPeer(peer: Peer, now: number): Channel | undefined {
    const ch = this.byPeer.get(peerKey(peer))
    return ch && this.channel(ch.number, now)
  }

  close(): void {
    this.relay.close()
  }
}

/** Bind `socket` to host:port; resolves false when the port is taken. */
function tryBind(host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    const onError = () => {
      s.close()
      resolve(undefined)
    }
    s.once('error', onError)
    s.bind({ address: host, port, exclusive: true }, () => {
      s.off('error', onError)
      resolve(s)
    })
  })
}

/**
 * Bind a relay socket on a free port of `range` not in `inUse`, even if `even` (EVEN-PORT,
 * RFC 8656 §18). Starts at a random offset so ports are not trivially predictable (§7.2).
 */
export async function bindRelaySocket(
  host: string,
  range: readonly [number, number],
  inUse: ReadonlySet<number>,
  even: boolean,
): Promise<{ socket: Socket; port: number }> {
  const [lo, hi] = range
  const n = hi - lo + 1
  const start = Math.floor(Math.random() * n)
  for (let i = 0; i < n; i++) {
    const port = lo + ((start + i) % n)
    if (inUse.has(port) || (even && port % 2)) continue
    const socket = await tryBind(host, port)
    if (socket) return { socket, port }
  }
  throw new RelayPortsExhaustedError(range)
}
