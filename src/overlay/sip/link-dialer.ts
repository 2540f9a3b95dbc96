/**
 * The first connection to a peer for a SIP link (issue 13 §6, "fast first
 * contact"): its direct addresses raced against its relay path, after Happy
 * Eyeballs (RFC 8305, link-race.ts).
 *
 * Why not one libp2p dial with every address: libp2p dials a peer's addresses
 * one at a time, relay addresses last, each with a 6 s timeout; and a second
 * dial to a peer already being dialled (the discovery dialer, a WebRTC
 * attempt) joins that dial and waits for it. Behind a symmetric NAT the direct
 * and WebRTC addresses never answer, so the first message waited 6.1–6.5 s in
 * the NAT lab. So:
 *
 * 1. Direct (TCP and other non-relay, non-WebRTC) addresses go through libp2p's
 *    dial queue, as before; that attempt is kept if the relay wins, and the
 *    link moves onto it when it comes up (`onDirect`).
 * 2. Each relay (`/p2p-circuit`) address is dialled straight through the
 *    transport manager one Connection Attempt Delay (100 ms) later (or at once when the
 *    direct addresses fail or there are none), so it never queues behind
 *    another dial to the same peer. The connection manager still tracks it:
 *    libp2p 3's upgrader announces every connection it makes
 *    (`connection:open`) and the manager keeps each one, whatever the
 *    TransportManager interface's comment says; the NAT lab's first reply
 *    (first-contact.test.ts) finds it there.
 * 3. When an attempt fails, a connection some other dialler opened meanwhile
 *    is used instead: libp2p refusing a "Duplicate multiaddr connection"
 *    means the peer is already connected on that address.
 *
 * WebRTC (`/p2p-circuit/webrtc`) needs ICE and is left to the upgrade after
 * the link is up (sip-links.ts), off the first message's path.
 *
 * A request routed by peer ID alone (a response or in-dialog request whose
 * link died: the far end, or we, roamed) comes with no addresses: the peer
 * store's are raced the same way. Handed to libp2p as one dial by peer ID they
 * waited out a dead direct address first: 6.2 s in the NAT lab's roaming test
 * before an ICE-restart re-INVITE got through.
 */
import type { Connection, PeerId, PeerStore } from '@libp2p/interface'
import type { ConnectionManager, TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import { raceAttempts } from './link-race.js'
import type { RaceAttempt } from './link-race.js'

/**
 * The direct addresses' head start over the relay. RFC 8305 §5 recommends
 * 250 ms between attempts and §8 allows down to 100 ms ("a lower bound of 100
 * ms" is recommended). We take the lower bound: unlike a lost IPv6 attempt, a
 * direct dial that loses here is not cancelled but takes the link over when it
 * comes up, so letting the relay win early costs only a moment of relay
 * bandwidth, and the first message has a 1 s budget (issue 13 §6).
 */
export const SIGNALLING_ATTEMPT_DELAY_MS = 100

/** What the dialler needs of libp2p. */
export interface LinkDialerComponents {
  connectionManager: Pick<ConnectionManager, 'openConnection' | 'getConnections'>
  transportManager: Pick<TransportManager, 'dial'>
  /** Where a peer's addresses are read when the caller has none. */
  peerStore: Pick<PeerStore, 'get'>
}

export interface LinkDialerOptions {
  log: Logger
  /** RFC 8305 §5 Connection Attempt Delay: the direct addresses' head start. @default 100 */
  attemptDelayMs?: number
}

/** A peer's record addresses by how they are dialled. */
export interface SplitAddrs {
  /** TCP and other addresses that reach the peer itself. */
  direct: Multiaddr[]
  /** Plain circuit-relay-v2 addresses (`…/p2p-circuit/p2p/<peer>`). */
  relay: Multiaddr[]
  /** WebRTC addresses (signalled over a relay, or direct): the later upgrade. */
  webrtc: Multiaddr[]
}

/** A relay address through which the peer accepts WebRTC (private-to-private). */
export const WEBRTC_CIRCUIT = /\/p2p-circuit\/webrtc(\/|$)/
/** Any WebRTC address (direct or signalled over a relay). */
export const WEBRTC_ADDR = /\/webrtc(\/|$)/

export function splitAddrs(addrs: readonly Multiaddr[]): SplitAddrs {
  const out: SplitAddrs = { direct: [], relay: [], webrtc: [] }
  for (const a of addrs) {
    const s = a.toString()
    if (WEBRTC_ADDR.test(s)) out.webrtc.push(a)
    else if (s.includes('/p2p-circuit')) out.relay.push(a)
    else out.direct.push(a)
  }
  return out
}

/** Prefer a direct (unlimited) connection over a relayed one. */
export function bestConnection(conns: readonly Connection[]): Connection | undefined {
  const open = conns.filter((c) => c.status === 'open')
  return open.find((c) => c.limits == null) ?? open[0]
}

/** The connection came up, but from someone else than the peer we dialled. */
export class WrongPeerError extends Error {
  static override readonly name = 'WrongPeerError'
  override readonly name = WrongPeerError.name
  constructor(expected: PeerId, got: PeerId, addr: Multiaddr) {
    super(`${addr.toString()} answered as ${got.toString()}, not ${expected.toString()}`)
  }
}

export class LinkDialer {
  constructor(
    private readonly components: LinkDialerComponents,
    private readonly opts: LinkDialerOptions,
  ) {}

  /**
   * A connection to `peer` for signalling: an open one if there is one, else
   * the first of the raced attempts to come up. `onDirect` gets a direct
   * connection that came up after a relay won (the caller moves the link).
   */
  async connect(
    peer: PeerId,
    addrs: readonly Multiaddr[],
    opts: { signal?: AbortSignal; onDirect?: (conn: Connection) => void } = {},
  ): Promise<Connection> {
    const { connectionManager } = this.components
    const existing = bestConnection(connectionManager.getConnections(peer))
    if (existing != null) return existing
    const { direct, relay } = splitAddrs(await this.addressesOf(peer, addrs))
    const attempts: Array<RaceAttempt<Connection>> = []
    if (direct.length > 0) {
      attempts.push({
        label: 'direct',
        keepIfLost: true,
        run: async (signal) => {
          const conn = await connectionManager.openConnection(
            direct.map((a) => withPeer(a, peer)),
            {
              signal,
            },
          )
          return checkPeer(conn, peer, direct[0]!)
        },
      })
    }
    for (const addr of relay) {
      attempts.push({ label: `relay ${addr.toString()}`, run: (s) => this.viaRelay(peer, addr, s) })
    }
    // No addresses of either kind, given or stored: libp2p's own idea of the
    // peer (peer routing) is all there is.
    if (attempts.length === 0) {
      attempts.push({
        label: 'peer store',
        run: (s) => connectionManager.openConnection(peer, { signal: s }),
      })
    }
    const started = performance.now()
    const won = await raceAttempts(attempts, {
      attemptDelayMs: this.opts.attemptDelayMs ?? SIGNALLING_ATTEMPT_DELAY_MS,
      ...(opts.signal != null ? { signal: opts.signal } : {}),
      fallback: () => bestConnection(connectionManager.getConnections(peer)),
      onAttemptError: (label, err) =>
        this.opts.log.debug(`dial ${label} to ${peer.toString()} failed: ${String(err)}`),
      onLateWin: (conn) => {
        if (conn.limits == null && conn.status === 'open') opts.onDirect?.(conn)
      },
    })
    this.opts.log.debug(
      `connected to ${peer.toString()} via ${won.label} in ${(performance.now() - started).toFixed(0)} ms`,
    )
    return won.value
  }

  /** `addrs`, or when there are none the peer store's for `peer` (none when it is unknown there). */
  async addressesOf(peer: PeerId, addrs: readonly Multiaddr[]): Promise<readonly Multiaddr[]> {
    if (addrs.length > 0) return addrs
    try {
      return (await this.components.peerStore.get(peer)).addresses.map((a) => a.multiaddr)
    } catch {
      return []
    }
  }

  /**
   * One relay address, dialled through the transport manager (not the dial
   * queue, where it would wait behind any other dial to this peer).
   */
  private async viaRelay(peer: PeerId, addr: Multiaddr, signal: AbortSignal): Promise<Connection> {
    const conn = await this.components.transportManager.dial(withPeer(addr, peer), { signal })
    return checkPeer(conn, peer, addr)
  }
}

/**
 * The address as libp2p dials it to reach `peer`: ending in `/p2p/<peer>`, so
 * the security handshake checks who answers (a relay address without it would
 * name only the relay).
 */
export function withPeer(addr: Multiaddr, peer: PeerId): Multiaddr {
  const last = addr.getComponents().at(-1)
  if (last?.name === 'p2p' && last.value === peer.toString()) return addr
  return addr.encapsulate(`/p2p/${peer.toString()}`)
}

async function checkPeer(conn: Connection, peer: PeerId, addr: Multiaddr): Promise<Connection> {
  if (conn.remotePeer.equals(peer)) return conn
  await conn.close().catch(() => {})
  throw new WrongPeerError(peer, conn.remotePeer, addr)
}
