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
 * (it left, or stepped down), the reservation store drops it, discovery
 * replaces the first one, and the keeper's next check replaces the second.
 *
 * Keepalive: the connection monitor pings every connection every 15 s
 * (libp2p-factory.ts), below the ~30 s UDP timeout of some home gateways.
 */
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'

/** Reservations a client aims to hold. */
export const TARGET_RELAYS = 2
/** How often the keeper checks (and after every supernode connect/disconnect). */
export const RELAY_CHECK_MS = 10_000

interface TransportManagerLike {
  listen(addrs: ReturnType<typeof multiaddr>[]): Promise<void>
}

export interface RelayKeeperInit {
  node: Libp2p
  /** Connected supernodes (peer ids). */
  supernodes: () => string[]
  /** Supernodes that announced they are stepping down: hold a reservation elsewhere. */
  leaving?: () => ReadonlySet<string>
  /** A supernode's last reported load (clients / target), if known: the least loaded is chosen. */
  load?: (peer: string) => number | undefined
  log: Logger
  checkMs?: number
}

/** The relays this node holds a reservation on, from its own `/p2p-circuit` addresses. */
export function reservedRelays(node: Libp2p): string[] {
  const relays = new Set<string>()
  for (const ma of node.getMultiaddrs()) {
    const s = ma.toString()
    const i = s.indexOf('/p2p-circuit')
    if (i < 0) continue
    const m = /\/p2p\/([^/]+)$/.exec(s.slice(0, i))
    if (m != null) relays.add(m[1]!)
  }
  return [...relays]
}

export class RelayKeeper {
  private timer: ReturnType<typeof setInterval> | undefined
  private busy = false
  private readonly tried = new Map<string, number>()

  constructor(private readonly init: RelayKeeperInit) {}

  start(): void {
    const tick = (): void => void this.check()
    this.timer = setInterval(tick, this.init.checkMs ?? RELAY_CHECK_MS)
    this.timer.unref?.()
    this.init.node.addEventListener('peer:identify', tick)
    this.init.node.addEventListener('peer:disconnect', tick)
  }

  stop(): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Add a reservation on a connected supernode we hold none on, if below the target. */
  async check(): Promise<void> {
    if (this.busy || this.timer == null) return
    this.busy = true
    try {
      const { node } = this.init
      const leaving = this.init.leaving?.() ?? new Set<string>()
      const all = reservedRelays(node)
      const held = new Set(all.filter((id) => !leaving.has(id)))
      // Discovery owns the first reservation; the keeper adds the second.
      if (all.length === 0 || held.size >= TARGET_RELAYS) return
      const now = Date.now()
      const candidate = this.init
        .supernodes()
        .find(
          (id) => !all.includes(id) && !leaving.has(id) && now - (this.tried.get(id) ?? 0) > 60_000,
        )
      if (candidate == null) return
      this.tried.set(candidate, now)
      const conn = node.getConnections().find((c) => c.remotePeer.toString() === candidate)
      if (conn == null) return
      const addr = conn.remoteAddr.toString()
      const base = addr.includes('/p2p/') ? addr : `${addr}/p2p/${candidate}`
      const tm = (node as unknown as { components: { transportManager: TransportManagerLike } })
        .components.transportManager
      await tm.listen([multiaddr(`${base}/p2p-circuit`)])
      this.init.log.info(`holding a second relay reservation, on ${candidate}`)
    } catch (err) {
      this.init.log.debug(`second relay reservation failed: ${String(err)}`)
    } finally {
      this.busy = false
    }
  }
}
