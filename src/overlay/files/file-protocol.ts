/**
 * `/kaiwa/file/1.0.0`: bulk file transfer node to node, as a libp2p service
 * (`services: { files: fileProtocol(init) }`). One stream per transfer
 * session, varint-length-prefixed CBOR frames (shared/files/file-wire.ts):
 *
 *   sender                                         receiver
 *   offer(signed offer) ─────────────────────────▶ check sender, size, state
 *        ◀──── accept(have) | wait | refuse(code) | complete
 *   chunk(i, data) ×≤8 unacknowledged ───────────▶ hash vs offer, write at i
 *        ◀──── ack(i) | nack(i) (send it again) | stop(code)
 *   done ────────────────────────────────────────▶ hash the whole file
 *        ◀──── complete | stop(hash_mismatch)
 *
 *   receiver ─ ready(id) on a new stream ─▶ sender: offer id again now
 *
 * Bulk data never rides a circuit relay: the handler is registered without
 * `runOnLimitedConnection`, so libp2p refuses the protocol on a relayed
 * (limited) connection, the receiver refuses such an offer again itself, and
 * `openDirect` opens streams only on unlimited connections: TCP, WebRTC
 * punched through NATs (the circuit relay carries its signalling only), and,
 * when neither can be made (a symmetric NAT), WebRTC whose ICE uses relay
 * candidates only, through a supernode's TURN server (turn-dial-scope.ts)
 * under that server's per-allocation limits and its operator's caps. A TURN
 * link this node made is closed once no file stream has used it for a while.
 * A peer that needed TURN lately (turn-memory.ts) gets its TURN dial at once,
 * racing the direct dials, instead of after them.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, PeerStore, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar, TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import { MAX_CHUNK_BYTES } from '../../shared/files/file-offer.js'
import {
  MAX_FRAME_BYTES,
  WINDOW_CHUNKS,
  decodeFileFrame,
  encodeFileFrame,
} from '../../shared/files/file-wire.js'
import type { FileFrame } from '../../shared/files/file-wire.js'
import { WEBRTC_ADDR, WEBRTC_CIRCUIT, splitAddrs, withPeer } from '../sip/link-dialer.js'
import { viaTurn } from '../node/turn-dial-scope.js'
import { firstOf, headStart } from './dial-race.js'
import { FrameStream } from './frame-stream.js'
import type { DirectPath } from './outgoing-files.js'
import { TurnMemory } from './turn-memory.js'

export const FILE_PROTOCOL = '/kaiwa/file/1.0.0'
/** How long the first frame of an inbound stream may take. */
const FIRST_FRAME_MS = 15_000
const DIAL_MS = 8_000
/** How long a TCP dial runs alone before the WebRTC dial starts beside it. */
const HEAD_START_MS = 2_000
const WEBRTC_DIAL_MS = 15_000
/** ICE through TURN allocates first (two round trips more than STUN). */
const TURN_DIAL_MS = 20_000
/** A TURN link this node made is closed after this long without a file stream. */
export const TURN_IDLE_MS = 60_000

export interface FileProtocolInit {
  /** An offer arrived (the long-lived transfers object answers it). */
  onOffer: (fs: FrameStream, offer: Uint8Array, peer: string, relayed: boolean) => Promise<void>
  /** The receiver asks for transfer `id` again. */
  onReady: (id: Uint8Array, peer: string) => void
  /** Whether a supernode offers this node TURN (credentials in hand); absent: never. */
  relayAvailable?: () => Promise<boolean>
  /** Which peers needed TURN lately; a new one by default. */
  turnMemory?: TurnMemory
  log: Logger
}

/** What the dials gave: a link, or why TURN did not carry the file. */
interface Dialled {
  conn?: Connection
  turn?: 'none' | 'failed'
}

export interface FileProtocolComponents {
  registrar: Pick<Registrar, 'handle' | 'unhandle'>
  connectionManager: Pick<ConnectionManager, 'openConnection' | 'getConnections'>
  transportManager: Pick<TransportManager, 'dial'>
  peerStore: Pick<PeerStore, 'merge'>
}

export function fileProtocol(init: FileProtocolInit): (c: FileProtocolComponents) => FileProtocol {
  return (components) => new FileProtocol(components, init)
}

export function frameStream(stream: Stream): FrameStream {
  return new FrameStream(stream, {
    maxFrameBytes: MAX_FRAME_BYTES,
    maxBuffered: WINDOW_CHUNKS * MAX_CHUNK_BYTES,
  })
}

export class FileProtocol implements Startable {
  readonly [Symbol.toStringTag] = '@kaiwa/files'
  /** Connections this node made through TURN (released when idle). */
  private readonly turnConns = new WeakSet<Connection>()
  private readonly releasing = new WeakSet<Connection>()
  private readonly memory: TurnMemory

  constructor(
    private readonly components: FileProtocolComponents,
    private readonly init: FileProtocolInit,
  ) {
    this.memory = init.turnMemory ?? new TurnMemory()
  }

  async start(): Promise<void> {
    await this.components.registrar.handle(
      FILE_PROTOCOL,
      (stream, connection) => void this.serve(stream, connection),
      { maxInboundStreams: 32, maxOutboundStreams: 32 },
    )
  }

  async stop(): Promise<void> {
    await this.components.registrar.unhandle(FILE_PROTOCOL).catch(() => {})
  }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const fs = frameStream(stream)
    try {
      const raw = await fs.read(AbortSignal.timeout(FIRST_FRAME_MS))
      if (raw == null) return
      let frame: FileFrame
      try {
        frame = decodeFileFrame(raw)
      } catch (err) {
        await fs.write(stop('protocol', (err as Error).message))
        return
      }
      if (frame.t === 'offer')
        await this.init.onOffer(fs, frame.offer, peer, connection.limits != null)
      else if (frame.t === 'ready') this.init.onReady(frame.id, peer)
      else if (frame.t === 'chunk')
        await fs.write(stop('unknown_transfer', `chunk ${frame.i} for no offered transfer`))
      else await fs.write(stop('protocol', `a stream cannot start with ${frame.t}`))
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch (err) {
      this.init.log.debug(`${FILE_PROTOCOL} from ${peer}: ${String(err)}`)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /**
   * A stream to `peer` on an unlimited connection: an existing one, else a
   * direct one (its TCP addresses, and after a head start WebRTC signalled
   * through its relay with STUN only), else that WebRTC through TURN. For a
   * peer that needed TURN lately (turn-memory.ts) the TURN dial starts at
   * once, racing the direct ones. Without a stream, says whether the peer is
   * reachable through a circuit relay at all, and why TURN did not carry it.
   */
  async openDirect(peer: string, addrs: Multiaddr[], signal: AbortSignal): Promise<DirectPath> {
    const { connectionManager, peerStore } = this.components
    const id = peerIdFromString(peer)
    if (addrs.length > 0) await peerStore.merge(id, { multiaddrs: addrs }).catch(() => {})
    const split = splitAddrs(addrs)
    const circuit = split.webrtc.filter((x) => WEBRTC_CIRCUIT.test(x.toString()))
    // An open unlimited link, a direct one first (a TURN one this node made is reused until idle).
    const open = connectionManager
      .getConnections(id)
      .filter((c) => c.limits == null && c.status === 'open')
    let conn = open.find((c) => !this.turnConns.has(c)) ?? open[0]
    let turn: 'none' | 'failed' | undefined
    if (conn == null) {
      const age = circuit.length > 0 ? this.memory.age(peer) : undefined
      const got =
        age === undefined
          ? await this.directThenTurn(peer, id, split.direct, circuit, signal)
          : await this.raceTurn(peer, id, split.direct, circuit, signal, age)
      conn = got.conn
      turn = got.turn
    }
    if (conn == null)
      return {
        ok: false,
        reach: await this.relayReach(id, split.relay, signal),
        ...(turn != null ? { turn } : {}),
      }
    const stream = await conn.newStream(FILE_PROTOCOL, { signal })
    const via = this.turnConns.has(conn) ? 'turn' : 'direct'
    if (via === 'turn') this.releaseWhenIdle(conn)
    const how =
      via === 'turn'
        ? 'WebRTC through TURN'
        : WEBRTC_ADDR.test(conn.remoteAddr.toString())
          ? 'WebRTC'
          : conn.remoteAddr.toString()
    this.init.log.debug(`file stream to ${peer} over ${how}`)
    return { ok: true, fs: frameStream(stream), via }
  }

  /** The first file to `peer` (or the first in a while): direct dials, then TURN once they failed. */
  private async directThenTurn(
    peer: string,
    id: PeerId,
    direct: Multiaddr[],
    circuit: Multiaddr[],
    signal: AbortSignal,
  ): Promise<Dialled> {
    const conn = await this.dialDirect(peer, id, direct, circuit, signal)
    if (conn != null) {
      this.memory.wentDirect(peer)
      return { conn }
    }
    if (circuit.length === 0 || signal.aborted) return {}
    const t = await this.dialTurn(id, circuit, signal)
    if (typeof t === 'string') return { turn: t }
    this.memory.neededTurn(peer)
    return { conn: t }
  }

  /**
   * `peer` needed TURN `age` ms ago: dial TURN at once, beside the direct
   * dials; the first link wins. The direct dials run to their end either way,
   * so the memory learns whether the peer is still out of direct reach (kept
   * for another TURN_MEMORY_MS) or reachable again (forgotten; a TURN dial
   * still under way is stopped, a TURN link that lost is closed).
   */
  private async raceTurn(
    peer: string,
    id: PeerId,
    direct: Multiaddr[],
    circuit: Multiaddr[],
    signal: AbortSignal,
    age: number,
  ): Promise<Dialled> {
    this.init.log.debug(
      `${peer} needed TURN ${Math.round(age / 1000)} s ago: dialling TURN at once, racing the direct dials`,
    )
    const stopTurn = new AbortController()
    let turn: 'none' | 'failed' | undefined
    const viaDirect = this.dialDirect(peer, id, direct, circuit, signal).then((c) => {
      if (c != null) {
        this.memory.wentDirect(peer)
        stopTurn.abort(new Error('a direct link was made'))
      } else if (!signal.aborted) this.memory.neededTurn(peer)
      return c
    })
    const viaTurnLink = this.dialTurn(id, circuit, AbortSignal.any([signal, stopTurn.signal])).then(
      (t) => {
        if (typeof t !== 'string') return t
        turn = t
        return undefined
      },
    )
    const conn = await firstOf([viaDirect, viaTurnLink])
    if (conn != null && !this.turnConns.has(conn))
      void viaTurnLink.then((t) => t != null && this.closeTurn(t, 'a direct link won the race'))
    return conn != null ? { conn } : turn != null ? { turn } : {}
  }

  /**
   * A direct link: the TCP addresses, and WebRTC (STUN only, signalled through
   * the circuit relay) once TCP failed or after HEAD_START_MS, so an
   * unreachable private address does not hold WebRTC back for DIAL_MS and a
   * working TCP dial does not set up WebRTC for nothing. The loser is stopped.
   */
  private async dialDirect(
    peer: string,
    id: PeerId,
    direct: Multiaddr[],
    circuit: Multiaddr[],
    signal: AbortSignal,
  ): Promise<Connection | undefined> {
    const { connectionManager } = this.components
    const stop = new AbortController()
    const sig = AbortSignal.any([signal, stop.signal])
    const tcp: Promise<Connection | undefined> =
      direct.length === 0
        ? Promise.resolve(undefined)
        : connectionManager
            .openConnection(
              direct.map((a) => withPeer(a, id)),
              { signal: AbortSignal.any([sig, AbortSignal.timeout(DIAL_MS)]) },
            )
            .then((c) => (c.limits == null ? c : undefined))
            .catch((err: unknown) => {
              this.init.log.debug(`no direct connection to ${peer}: ${String(err)}`)
              // One may have opened the other way meanwhile (never a TURN link of ours).
              return connectionManager
                .getConnections(id)
                .find((c) => c.limits == null && c.status === 'open' && !this.turnConns.has(c))
            })
    const webrtc =
      circuit.length === 0
        ? Promise.resolve(undefined)
        : headStart(tcp, direct.length === 0 ? 0 : HEAD_START_MS, sig).then((go) =>
            go ? this.dialWebRtc(id, circuit, sig, 'WebRTC', WEBRTC_DIAL_MS) : undefined,
          )
    const conn = await firstOf([tcp, webrtc])
    stop.abort(new Error('another dial won'))
    return conn
  }

  /** WebRTC through a supernode's TURN (relay candidates only), or why not. */
  private async dialTurn(
    id: PeerId,
    circuit: Multiaddr[],
    signal: AbortSignal,
  ): Promise<Connection | 'none' | 'failed'> {
    if (!(await this.init.relayAvailable?.().catch(() => false))) return 'none'
    const conn = await viaTurn(() =>
      this.dialWebRtc(id, circuit, signal, 'WebRTC through TURN', TURN_DIAL_MS),
    )
    if (conn == null) return 'failed'
    this.turnConns.add(conn)
    return conn
  }

  private closeTurn(conn: Connection, why: string): void {
    this.turnConns.delete(conn)
    this.init.log.debug(`closing the TURN link to ${conn.remotePeer.toString()}: ${why}`)
    void conn.close().catch(() => conn.abort(new Error(why)))
  }

  private async dialWebRtc(
    id: PeerId,
    circuit: Multiaddr[],
    signal: AbortSignal,
    what: string,
    ms: number,
  ): Promise<Connection | undefined> {
    for (const a of circuit) {
      if (signal.aborted) return undefined
      const conn = await this.components.transportManager
        .dial(withPeer(a, id), { signal: AbortSignal.any([signal, AbortSignal.timeout(ms)]) })
        .then((c) => (c.limits == null ? c : undefined))
        .catch((err: unknown) => {
          this.init.log.debug(`no ${what} connection to ${id} via ${a.toString()}: ${String(err)}`)
          return undefined
        })
      if (conn != null) return conn
    }
    return undefined
  }

  /**
   * Close a TURN link this node made once no file stream has used it for
   * TURN_IDLE_MS: it holds an allocation (and the supernode's bandwidth) that
   * signalling does not need. Checked again while file streams (either way) use it.
   */
  private releaseWhenIdle(conn: Connection): void {
    if (this.releasing.has(conn)) return
    this.releasing.add(conn)
    const check = (): void => {
      if (conn.status !== 'open') return void this.releasing.delete(conn)
      if (conn.streams.some((s) => s.protocol === FILE_PROTOCOL)) {
        setTimeout(check, TURN_IDLE_MS).unref?.()
        return
      }
      this.releasing.delete(conn)
      this.closeTurn(conn, 'idle')
    }
    setTimeout(check, TURN_IDLE_MS).unref?.()
  }

  /** Whether `id` answers through a relay (to say why a file waits); never used for data. */
  private async relayReach(
    id: PeerId,
    relay: Multiaddr[],
    signal: AbortSignal,
  ): Promise<'relay' | 'none'> {
    const { connectionManager, transportManager } = this.components
    if (connectionManager.getConnections(id).some((c) => c.status === 'open')) return 'relay'
    for (const a of relay) {
      const ok = await transportManager
        .dial(withPeer(a, id), { signal: AbortSignal.any([signal, AbortSignal.timeout(DIAL_MS)]) })
        .then(() => true)
        .catch(() => false)
      if (ok) return 'relay'
    }
    return 'none'
  }

  /** Tell `peer` (a sender) to offer transfer `id` again now. */
  async ready(peer: string, addrs: Multiaddr[], id: Uint8Array): Promise<boolean> {
    const path = await this.openDirect(peer, addrs, AbortSignal.timeout(20_000))
    if (!path.ok) return false
    await path.fs.write(encodeFileFrame({ t: 'ready', id }))
    await path.fs.stream.close({ signal: AbortSignal.timeout(5_000) }).catch(() => {})
    return true
  }
}

function stop(code: 'protocol' | 'unknown_transfer', message: string): Uint8Array {
  return encodeFileFrame({ t: 'stop', code, message })
}
