/**
 * Keeps a client's relay reservations on at least two supernodes (issue 4:
 * "clients hold reservations on at least 2 supernodes ... and fail over").
 *
 * circuit-relay-v2 gets the first one through its own discovery (one bare
 * `/p2p-circuit` listener). Asking it for two that way is a trap: its
 * discovery runs a DHT random walk for as long as it has fewer relays than
 * listeners, so in a network with one supernode (a new network, the demo) a
 * client would query the DHT forever. Instead this keeper listens on a
 * *specific* relay (`<supernode addr>/p2p-circuit`), which needs no discovery,
 * and only when a second supernode is actually connected. When a relay goes
 * (it left, or stepped down, or died), the reservation store drops it,
 * discovery replaces the first one, and the keeper replaces the second as
 * soon as the node's addresses change (`self:peer:update`: a reservation was
 * lost or made), not only at its next periodic check (issue 13: a client
 * whose relays die must be reachable again within seconds).
 *
 * Keepalive: the connection monitor pings every connection every 15 s
 * (libp2p-factory.ts), below the ~30 s UDP timeout of some home gateways.
 */
import type { Libp2pEvents, Startable, TypedEventTarget } from '@libp2p/interface'
import type {
  AddressManager,
  ConnectionManager,
  TransportManager,
} from '@libp2p/interface-internal'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import type { SupernodeTracker } from './supernode-tracker.js'

/** Reservations a client aims to hold. */
export const TARGET_RELAYS = 2
/** How often the keeper checks (and after every supernode connect/disconnect and address change). */
export const RELAY_CHECK_MS = 10_000

export interface RelayKeeperInit {
  /** Supernodes that announced they are stepping down: hold a reservation elsewhere. */
  leaving?: () => ReadonlySet<string>
  /** A supernode's last reported load (clients / target), if known: the least loaded is chosen. */
  load?: (peer: string) => number | undefined
  log: Logger
  checkMs?: number
}

/** What the keeper needs of libp2p; `supernodes` is the tracker service of the same node. */
export interface RelayKeeperComponents {
  events: TypedEventTarget<Libp2pEvents>
  addressManager: Pick<AddressManager, 'getAddresses'>
  connectionManager: Pick<ConnectionManager, 'getConnections'>
  transportManager: Pick<TransportManager, 'listen'>
  supernodes: Pick<SupernodeTracker, 'connected'>
}

/** The libp2p service factory (clients only): `services: { relayKeeper: relayKeeper(init) }`. */
export function relayKeeper(init: RelayKeeperInit): (c: RelayKeeperComponents) => RelayKeeper {
  return (components) => new RelayKeeper(components, init)
}

/** The relays this node holds a reservation on, from its own `/p2p-circuit` addresses. */
export function reservedRelays(node: { getMultiaddrs(): Multiaddr[] }): string[] {
  return relaysIn(node.getMultiaddrs())
}

function relaysIn(addrs: Multiaddr[]): string[] {
  const relays = new Set<string>()
  for (const ma of addrs) {
    const s = ma.toString()
    const i = s.indexOf('/p2p-circuit')
    if (i < 0) continue
    const m = /\/p2p\/([^/]+)$/.exec(s.slice(0, i))
    if (m != null) relays.add(m[1]!)
  }
  return [...relays]
}

export class RelayKeeper implements Startable {
  private timer: ReturnType<typeof setInterval> | undefined
  private busy = false
  private readonly tried = new Map<string, number>()
  private readonly tick = (): void => void this.check()
  readonly [Symbol.toStringTag] = '@kaiwa/relay-keeper'

  constructor(
    private readonly components: RelayKeeperComponents,
    private readonly init: RelayKeeperInit,
  ) {}

  start(): void {
    this.timer = setInterval(this.tick, this.init.checkMs ?? RELAY_CHECK_MS)
    this.timer.unref?.()
    this.components.events.addEventListener('peer:identify', this.tick)
    this.components.events.addEventListener('peer:disconnect', this.tick)
    this.components.events.addEventListener('self:peer:update', this.tick)
  }

  stop(): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
    this.components.events.removeEventListener('peer:identify', this.tick)
    this.components.events.removeEventListener('peer:disconnect', this.tick)
    this.components.events.removeEventListener('self:peer:update', this.tick)
  }

  /** Add a reservation on a connected supernode we hold none on, if below the target. */
  async check(): Promise<void> {
    if (this.busy || this.timer == null) return
    this.busy = true
    try {
      const { connectionManager, transportManager, supernodes } = this.components
      const leaving = this.init.leaving?.() ?? new Set<string>()
      const all = relaysIn(this.components.addressManager.getAddresses())
      const held = new Set(all.filter((id) => !leaving.has(id)))
      // Discovery owns the first reservation; the keeper adds the second.
      if (all.length === 0 || held.size >= TARGET_RELAYS) return
      const now = Date.now()
      // The least loaded supernode this node has a report from; unsampled ones last.
      const loadOf = (id: string): number => this.init.load?.(id) ?? Number.POSITIVE_INFINITY
      const candidate = supernodes
        .connected()
        .filter(
          (id) => !all.includes(id) && !leaving.has(id) && now - (this.tried.get(id) ?? 0) > 60_000,
        )
        .sort((a, b) => loadOf(a) - loadOf(b))[0]
      if (candidate == null) return
      this.tried.set(candidate, now)
      const conn = connectionManager
        .getConnections()
        .find((c) => c.remotePeer.toString() === candidate)
      if (conn == null) return
      const addr = conn.remoteAddr.toString()
      const base = addr.includes('/p2p/') ? addr : `${addr}/p2p/${candidate}`
      await transportManager.listen([multiaddr(`${base}/p2p-circuit`)])
      this.init.log.info(`holding a second relay reservation, on ${candidate}`)
    } catch (err) {
      this.init.log.debug(`second relay reservation failed: ${String(err)}`)
    } finally {
      this.busy = false
    }
  }
}
