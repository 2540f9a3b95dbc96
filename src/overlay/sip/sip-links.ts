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
import { SipStreamFramer } from '../../shared/sip/stream-framer.js'
import { respond } from '../../shared/sip/responses.js'
import { serializeSipMessage, transactionKey } from '../../shared/sip/sip-message.js'
import type { SipMessage, SipRequest } from '../../shared/sip/sip-message.js'
import { LinkDialer, WEBRTC_ADDR, WEBRTC_CIRCUIT, bestConnection, withPeer } from './link-dialer.js'

export const SIP_PROTOCOL = '/kaiwa/sip/1.0.0'
/** Largest SIP message accepted on a link (RFC 3261 leaves it to the transport). */
export const MAX_SIP_MESSAGE_BYTES = 64 * 1024
/** How long opening a link (dial + stream negotiation) may take before the branch fails. */
export const LINK_OPEN_TIMEOUT_MS = 8_000

export interface SipLink {
  readonly peer: string
  readonly relayed: boolean
  /** Queue a message; false when the link has closed (callers reopen via `linkTo`). */
  send(msg: SipMessage): boolean
  readonly open: boolean
}

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
  peerStore: Pick<PeerStore, 'merge'>
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
    if (link.relayed) void this.upgrade(peerId, addrs)
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
  private async upgrade(peerId: PeerId, addrs: Multiaddr[]): Promise<void> {
    const { connectionManager, transportManager } = this.components
    for (const addr of addrs.filter((a) => WEBRTC_CIRCUIT.test(a.toString()))) {
      // A direct dial raced with the relay (link-dialer.ts) may have won meanwhile.
      if (this.isDirect(peerId)) return
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
        if (direct.limits != null) continue
        await this.moveTo(peerId, direct)
        return
      } catch (err) {
        this.init.log.debug(
          `no direct WebRTC link to ${peerId.toString()} via ${addr.toString()}: ${String(err)}`,
        )
      }
    }
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

/** Requests a link remembers while it waits for their final responses (oldest forgotten first). */
const MAX_OUTSTANDING = 256

class LinkImpl implements SipLink {
  private closed = false
  /**
   * Messages written since the last flush. Everything sent in one turn of the
   * event loop (the requests and responses of a burst of datagrams from
   * phones) leaves as one stream write, so one yamux frame, one Noise
   * encryption and one socket write, instead of one each per message; the
   * flush runs in the same turn (setImmediate, right after I/O polling), so
   * it adds no wait.
   */
  private batch: Uint8Array[] = []
  private batchBytes = 0
  /**
   * Requests sent here still waiting for a final response, by transaction.
   * When this link fails (its stream aborted or reset: the connection died)
   * they will not be answered: each gets a 503 (RFC 3261 §16.9: "If the
   * transport layer notifies a proxy of an error when it tries to forward a
   * request, the proxy MUST behave as if the forwarded request received a 503
   * (Service Unavailable) response"). A re-INVITE written into a connection
   * that died under it (the far end roamed) then fails in seconds, not after
   * Timer B, and the UA tries again over a new link.
   *
   * A link closed cleanly is different: the far end retired it for a newer link
   * (a direct one replacing a relayed one, say) and answers what is still
   * pending over that one, so a 503 here would end a transaction whose 200 is
   * on its way (the caller then discards it as unmatched).
   */
  private readonly outstanding = new Map<string, SipRequest>()
  constructor(
    readonly peer: string,
    private readonly stream: Stream,
    readonly relayed: boolean,
    private readonly log: Logger,
  ) {}

  get open(): boolean {
    return !this.closed && this.stream.status === 'open' && this.stream.writeStatus === 'writable'
  }

  send(msg: SipMessage): boolean {
    if (!this.open) return false
    let bytes: Uint8Array
    try {
      bytes = serializeSipMessage(msg)
    } catch (err) {
      this.log.debug(`cannot write a message to ${this.peer}: ${String(err)}`)
      return false
    }
    if (this.batch.length === 0) setImmediate(this.flush)
    this.batch.push(bytes)
    this.batchBytes += bytes.length
    if (msg.kind === 'request' && msg.method !== 'ACK' && msg.method !== 'CANCEL') {
      this.outstanding.set(transactionKey(msg), msg)
      if (this.outstanding.size > MAX_OUTSTANDING) {
        this.outstanding.delete(this.outstanding.keys().next().value!)
      }
    }
    return true
  }

  /**
   * Write the batch. Backpressure is bounded by the framing cap on the far
   * side; SIP signalling is small, so a full buffer means the peer is stuck:
   * yamux applies its limit. A write that fails means the stream died: its
   * close answers the pending requests (run()).
   */
  private readonly flush = (): void => {
    const parts = this.batch
    if (parts.length === 0) return
    const size = this.batchBytes
    this.batch = []
    this.batchBytes = 0
    // A stream paused by backpressure (its yamux window used up) still takes
    // the bytes into its buffer, as a direct write did; only a closed one throws.
    let out = parts[0]!
    if (parts.length > 1) {
      out = new Uint8Array(size)
      let at = 0
      for (const p of parts) {
        out.set(p, at)
        at += p.length
      }
    }
    try {
      this.stream.send(out)
    } catch (err) {
      this.log.debug(`send to ${this.peer} failed: ${String(err)}`)
      this.closed = true
    }
  }

  /** A newer direct link replaced this one: stop writing, let the peer drain it. */
  retire(): void {
    this.flush()
    this.closed = true
    void this.stream.close().catch(() => {})
  }

  close(): void {
    this.closed = true
    this.stream.abort(new Error('SIP link closed'))
  }

  async run(onMessage: (msg: SipMessage) => void, onClose: () => void): Promise<void> {
    const framer = new SipStreamFramer({ maxBytes: MAX_SIP_MESSAGE_BYTES })
    let failed = false
    try {
      for await (const chunk of this.stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        for (const result of framer.push(bytes)) {
          if ('keepalive' in result) {
            this.stream.send(CRLF)
            continue
          }
          if (result.ok) {
            const m = result.message
            if (m.kind === 'response' && m.status >= 200) this.outstanding.delete(transactionKey(m))
            onMessage(m)
            continue
          }
          // RFC 3261 §18.3: after a framing error the stream's message boundaries
          // are lost; the only safe recovery is to close it.
          this.log.warn(
            `malformed SIP from ${this.peer} (${result.error.message}); closing the link`,
          )
          failed = true
          this.close()
          return
        }
      }
    } catch (err) {
      failed = true
      this.log.debug(`link to ${this.peer} ended: ${String(err)}`)
    } finally {
      // Aborted or reset (the connection died, or we closed it): nothing pending will be answered.
      if (this.stream.status === 'aborted' || this.stream.status === 'reset') failed = true
      this.closed = true
      onClose()
      const pending = [...this.outstanding.values()]
      this.outstanding.clear()
      if (failed) for (const req of pending) onMessage(respond(req, 503, 'Service Unavailable'))
      else if (pending.length > 0)
        this.log.debug(
          `link to ${this.peer} closed with ${pending.length} request(s) pending; ` +
            'their answers come over the newer link',
        )
    }
  }
}

const CRLF = new TextEncoder().encode('\r\n')
