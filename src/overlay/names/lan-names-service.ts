/**
 * The LAN name service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { lanNames: lanNamesService({ table, log }) } })
 *
 * It serves `/kaiwa/lan-names/1.0.0` from this node's LanNameTable (which
 * outlives role changes) and, as a client, asks or offers to every LAN peer
 * at once: the peers whose identify announced the protocol and that are
 * connected over a LAN link (isLanConnection). UserDirectory uses it instead
 * of the DHT while the node knows no supernode (names/name-scope.ts).
 *
 *   peer:identify (announces the protocol) ──▶ known
 *   peers()        ◀── known ∩ connected over a LAN link (at most maxPeers)
 *   ask(name)      ──▶ get to each peer ──▶ validated records, one per peer
 *   offer(bytes)   ──▶ put to each peer ──▶ accepted / taken / refused / failed
 */
import type { Libp2pEvents, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Logger } from '../../shared/logger.js'
import { userRecordKey } from '../../shared/records/dht-key.js'
import { validateContactRecord } from '../../shared/records/record-policy.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'
import type { LanNameTable } from './lan-name-table.js'
import {
  LAN_NAMES_PROTOCOL,
  isLanConnection,
  offerLanName,
  requestLanName,
  serveLanNames,
} from './lan-names-protocol.js'
import type { Responder } from './quorum-read.js'

export interface LanNamesComponents {
  registrar: RegistrarSlice
  connectionManager: Pick<ConnectionManager, 'openStream' | 'getConnections'>
  events: TypedEventTarget<Libp2pEvents>
}

export interface LanNamesServiceInit {
  table: LanNameTable
  /** Proof-of-work bits (claim-pow.ts), for checking the records peers serve. */
  powBits?: number
  /** Most peers asked at once. @default 32 (the discovery dialer's limit) */
  maxPeers?: number
  now?: () => number
  log: Logger
}

export interface LanAskOutcome {
  /** One valid record per peer that held one. */
  responders: Responder[]
  /** Peers that answered (with or without a record). */
  answered: number
  /** Peers that failed, timed out or served an invalid record. */
  failed: number
}

export interface LanOfferOutcome {
  accepted: number
  /** Records of the key holding the name, from the peers that refused it as taken. */
  taken: Uint8Array[]
  refused: string[]
  failed: number
}

export function lanNamesService(
  init: LanNamesServiceInit,
): (components: LanNamesComponents) => LanNamesService {
  return (components) => new LanNamesService(components, init)
}

export class LanNamesService implements Startable {
  readonly [Symbol.toStringTag] = '@kaiwa/lan-names'
  readonly protocol = LAN_NAMES_PROTOCOL
  private readonly known = new Map<string, PeerId>()
  private readonly dialer: DialerSlice
  private unserve: (() => Promise<void>) | undefined

  constructor(
    private readonly components: LanNamesComponents,
    private readonly init: LanNamesServiceInit,
  ) {
    const cm = components.connectionManager
    this.dialer = {
      dialProtocol: (peer, protocols, options) => cm.openStream(peer, protocols, options),
    }
  }

  get table(): LanNameTable {
    return this.init.table
  }

  private readonly onIdentify = (
    evt: CustomEvent<{ peerId: PeerId; protocols: string[] }>,
  ): void => {
    const { peerId, protocols } = evt.detail
    if (protocols.includes(LAN_NAMES_PROTOCOL)) this.known.set(peerId.toString(), peerId)
    else this.known.delete(peerId.toString())
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.known.delete(evt.detail.toString())
  }

  async start(): Promise<void> {
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.unserve ??= await serveLanNames({
      registrar: this.components.registrar,
      table: this.init.table,
      log: this.init.log,
    })
  }

  async stop(): Promise<void> {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.known.clear()
    const u = this.unserve
    this.unserve = undefined
    await u?.()
  }

  /** Connected peers that serve LAN names over a LAN link. */
  peers(): PeerId[] {
    const lan = new Set(
      this.components.connectionManager
        .getConnections()
        .filter((c) => c.status === 'open' && isLanConnection(c))
        .map((c) => c.remotePeer.toString()),
    )
    return [...this.known.entries()]
      .filter(([id]) => lan.has(id))
      .map(([, p]) => p)
      .slice(0, this.init.maxPeers ?? 32)
  }

  /** Ask every LAN peer for `name` (normalised); invalid answers count as failures. */
  async ask(name: string, signal?: AbortSignal): Promise<LanAskOutcome> {
    const key = userRecordKey(name)
    const out: LanAskOutcome = { responders: [], answered: 0, failed: 0 }
    await Promise.all(
      this.peers().map(async (peer) => {
        try {
          const bytes = await requestLanName(this.dialer, peer, name, signal)
          out.answered++
          if (bytes == null) return
          const record = await validateContactRecord(key, bytes, this.now(), this.powOptions())
          out.responders.push({ peer: peer.toString(), record, bytes })
        } catch (err) {
          out.failed++
          this.init.log.debug(`LAN lookup of ${name} at ${peer.toString()}: ${String(err)}`)
        }
      }),
    )
    return out
  }

  /** Offer this node's own record to every LAN peer. */
  async offer(bytes: Uint8Array, signal?: AbortSignal): Promise<LanOfferOutcome> {
    const out: LanOfferOutcome = { accepted: 0, taken: [], refused: [], failed: 0 }
    await Promise.all(
      this.peers().map(async (peer) => {
        try {
          const reply = await offerLanName(this.dialer, peer, bytes, signal)
          if (reply.ok) out.accepted++
          else if (reply.code === 'name_taken') out.taken.push(reply.held ?? new Uint8Array())
          else out.refused.push(`${peer.toString()}: ${reply.reason}`)
        } catch (err) {
          out.failed++
          this.init.log.debug(`LAN offer to ${peer.toString()}: ${String(err)}`)
        }
      }),
    )
    return out
  }

  private now(): number {
    return (this.init.now ?? Date.now)()
  }

  private powOptions(): { powBits?: number } {
    return this.init.powBits != null ? { powBits: this.init.powBits } : {}
  }
}
