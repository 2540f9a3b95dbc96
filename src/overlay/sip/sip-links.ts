/**
 * SIP signalling links between nodes: long-lived libp2p streams speaking
 * `/kaiwa/sip/1.0.0`, framed as on any SIP stream transport (RFC 3261 §18.3:
 * Content-Length is mandatory). One live link per remote peer carries requests
 * and responses in both directions, like a SIP TCP connection.
 *
 * A callee behind a NAT is reachable only through a relay (`/p2p-circuit`): the
 * stream then runs on a limited connection (`runOnLimitedConnection`). A relay
 * limit or a dead peer closes the link; the next message for that peer opens a
 * new one (a redial the user never notices). When a direct connection exists
 * (for example a WebRTC link punched through the NATs), new streams use it.
 *
 * First contact (issue 13 §6): the first link to a peer races its direct
 * addresses against its relay path (RFC 8305, link-dialer.ts), so the first
 * message rides whichever comes up first; a direct connection that comes up
 * later, or the WebRTC upgrade, takes the link over. Concurrent requests to
 * one peer share one link being opened (`opening`), and with it one set of dials.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, PeerStore, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar, TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import type { SipMessage } from '../../shared/sip/sip-message.js'
import { LinkImpl } from './sip-link.js'
import type { SipLink } from './sip-link.js'
import { LinkDialer, WEBRTC_ADDR, WEBRTC_CIRCUIT, bestConnection, withPeer } from './link-dialer.js'

export const SIP_PROTOCOL = '/kaiwa/sip/1.0.0'
export { MAX_SIP_MESSAGE_BYTES } from './sip-link.js'
export type { SipLink } from './sip-link.js'
/** How long opening a link (dial + stream negotiation) may take before the branch fails. */
export const LINK_OPEN_TIMEOUT_MS = 8_000

export interface SipLinksInit {
  log: Logger
  /** Every SIP message that arrives on any link (the router, which outlives this service). */
  onMessage: (msg: SipMessage, link: SipLink) => void
  /**
   * How long a peer's direct addresses get before its relay path is dialled
   * too (RFC 8305 §5 Connection Attempt Delay; link-dialer.ts). @default 100
   */
  attemptDelayMs?: number
}

/** What the links need of libp2p (js-libp2p's components slice). */
export interface SipLinksComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openConnection' | 'getConnections'>
  /** Relay paths are dialled here, past the dial queue (link-dialer.ts says why). */
  transportManager: Pick<TransportManager, 'dial'>
  peerStore: Pick<PeerStore, 'merge' | 'get'>
}

/** The libp2p service factory: `services: { sipLinks: sipLinks(init) }`. */
export function sipLinks(init: SipLinksInit): (components: SipLinksComponents) => SipLinks {
  return (components) => new SipLinks(components, init)
}

export class SipLinks implements Startable {
  private readonly links = new Map<string, LinkImpl>()
  /** One link being opened per peer: concurrent requests share it (and its dials). */
  private readonly opening = new Map<string, Promise<LinkImpl>>()
  private readonly dialer: LinkDialer

  constructor(
    private readonly components: SipLinksComponents,
    private readonly init: SipLinksInit,
  ) {
    this.dialer = new LinkDialer(components, {
      log: init.log,
      ...(init.attemptDelayMs != null ? { attemptDelayMs: init.attemptDelayMs } : {}),
    })
  }

  readonly [Symbol.toStringTag] = '@kaiwa/sip-links'

  async start(): Promise<void> {
    await this.components.registrar.handle(
      SIP_PROTOCOL,
      (stream, connection) => {
        this.attach(stream, connection)
      },
      { runOnLimitedConnection: true, maxInboundStreams: 8, maxOutboundStreams: 8 },
    )
  }

  async stop(): Promise<void> {
    for (const link of this.links.values()) link.close()
    this.links.clear()
    await this.components.registrar.unhandle(SIP_PROTOCOL).catch(() => {})
  }

  /**
   * An open link to `peer`, reusing one if it exists (the hot path: no timer,
   * no allocation); dials the given addresses if needed, within `timeoutMs`.
   */
  async linkTo(
    peer: string,
    addrs: Multiaddr[],
    timeoutMs = LINK_OPEN_TIMEOUT_MS,
  ): Promise<SipLink> {
    const existing = this.links.get(peer)
    if (existing?.open === true) return existing
    let pending = this.opening.get(peer)
    if (pending == null) {
      const signal = AbortSignal.timeout(timeoutMs)
      pending = this.open(peer, addrs, signal).finally(() => this.opening.delete(peer))
      this.opening.set(peer, pending)
    }
    return pending
  }

  private async open(peer: string, addrs: Multiaddr[], signal?: AbortSignal): Promise<LinkImpl> {
    const { connectionManager, peerStore } = this.components
    const peerId: PeerId = peerIdFromString(peer)
    // A direct connection that comes up after the relay won takes the link over.
    const onDirect = (conn: Connection): void => {
      this.moveTo(peerId, conn).catch(() => {})
    }
    const dial = (): Promise<Connection> =>
      this.dialer.connect(peerId, addrs, { ...(signal != null ? { signal } : {}), onDirect })
    let connection = await dial()
    let stream: Stream
    try {
      stream = await connection.newStream(SIP_PROTOCOL, { runOnLimitedConnection: true, signal })
    } catch (err) {
      // The connection went away under us: libp2p closed it as a duplicate of
      // another dialler's, or a WebRTC connection whose ICE never completed was
      // left registered (js-libp2p#2646). Close it and use what else is there.
      if (signal?.aborted === true) throw err
      this.init.log.debug(`stream on ${connection.remoteAddr.toString()} failed: ${String(err)}`)
      if (WEBRTC_ADDR.test(connection.remoteAddr.toString()))
        await connection.close().catch(() => {})
      connection =
        bestConnection(connectionManager.getConnections(peerId).filter((c) => c !== connection)) ??
        (await dial())
      stream = await connection.newStream(SIP_PROTOCOL, { runOnLimitedConnection: true, signal })
    }
    const link = this.attach(stream, connection)
    if (link.relayed) void this.upgrade(peerId, await this.dialer.addressesOf(peerId, addrs))
    // The record's addresses, for later dials by peer ID (a reply over a
    // reopened link). Only now, off the first message's path: a peer new to
    // the peer store is announced as discovered, and the discovery dialer's
    // dial by peer ID (with every stored address, WebRTC ones too) would be
    // the dial our direct attempt joins in libp2p's dial queue.
    if (addrs.length > 0) peerStore.merge(peerId, { multiaddrs: addrs }).catch(() => {})
    return link
  }

  /**
   * A link over a relay works but costs the relay's bandwidth and is cut at its
   * limits. Try once for a direct WebRTC connection (ICE hole punching,
   * signalled over that relay); when it comes up, move the link onto it.
   */
  private async upgrade(peerId: PeerId, addrs: readonly Multiaddr[]): Promise<void> {
    const peer = peerId.toString()
    const candidates = addrs.filter((a) => WEBRTC_CIRCUIT.test(a.toString()))
    // Info, not debug: whether a link stays on a relay (its bandwidth, its limits)
    // is what an operator asks first about a slow or cut link.
    if (candidates.length === 0) {
      this.init.log.info(
        `SIP link to ${peer} stays on the relay: no WebRTC address is known for it`,
      )
      return
    }
    this.init.log.info(`SIP link to ${peer} is relayed: trying a direct WebRTC connection`)
    const outcome = await this.tryDirect(peerId, candidates)
    this.init.log.info(`direct WebRTC upgrade to ${peer}: ${outcome}`)
  }

  /** Each WebRTC address in turn until one gives a direct connection; what happened, in words. */
  private async tryDirect(peerId: PeerId, candidates: readonly Multiaddr[]): Promise<string> {
    const { connectionManager, transportManager } = this.components
    let last = 'no address answered'
    for (const addr of candidates) {
      // A direct dial raced with the relay (link-dialer.ts) may have won meanwhile.
      if (this.isDirect(peerId)) return 'done (the raced direct dial won)'
      const open = bestConnection(connectionManager.getConnections(peerId))
      try {
        // Past the dial queue, as the relay was dialled: a queued dial to this
        // peer (the raced direct attempt, waiting out a dead address) would
        // otherwise hold the WebRTC attempt back for its whole timeout.
        const direct =
          open != null && open.limits == null
            ? open
            : await transportManager.dial(withPeer(addr, peerId), {
                signal: AbortSignal.timeout(15_000),
              })
        if (direct.limits != null) {
          last = `${addr.toString()} gave a limited connection`
          continue
        }
        await this.moveTo(peerId, direct)
        return 'done'
      } catch (err) {
        last = `${addr.toString()}: ${String(err)}`
        this.init.log.debug(`no direct WebRTC link to ${peerId.toString()} via ${last}`)
      }
    }
    return this.isDirect(peerId)
      ? 'done (another connection)'
      : `failed, stays on the relay (${last})`
  }

  private isDirect(peerId: PeerId): boolean {
    const link = this.links.get(peerId.toString())
    return link?.open === true && !link.relayed
  }

  /** Move the link to `peerId` onto a direct connection, unless it already is on one. */
  private async moveTo(peerId: PeerId, direct: Connection): Promise<void> {
    if (this.isDirect(peerId)) return
    try {
      const stream = await direct.newStream(SIP_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      this.attach(stream, direct)
    } catch (err) {
      this.init.log.debug(`no SIP stream on ${direct.remoteAddr.toString()}: ${String(err)}`)
      throw err
    }
    const addr = direct.remoteAddr.toString()
    this.init.log.info(
      WEBRTC_ADDR.test(addr)
        ? `SIP link to ${peerId.toString()} moved to a direct WebRTC connection`
        : `SIP link to ${peerId.toString()} moved to a direct connection (${addr})`,
    )
  }

  private attach(stream: Stream, connection: Connection): LinkImpl {
    const peer = connection.remotePeer.toString()
    const link = new LinkImpl(peer, stream, connection.limits != null, this.init.log)
    const previous = this.links.get(peer)
    // Keep the newer link; the old one stays readable until its peer closes it.
    this.links.set(peer, link)
    if (previous != null && previous !== link && previous.open && link.relayed === false) {
      previous.retire()
    }
    void link.run(
      (msg) => this.init.onMessage(msg, link),
      () => {
        if (this.links.get(peer) === link) this.links.delete(peer)
      },
    )
    return link
  }
}
