/**
 * Which connected peers are supernodes. The peer store cannot tell: libp2p
 * records a protocol for a peer whenever that peer opens a stream with it, so
 * a client that queried our DHT looks like a DHT server there. What a peer
 * announces in identify (RFC-less, libp2p identify spec) is authoritative, and
 * identify-push updates it when a node changes role.
 *
 * A libp2p service: each libp2p instance (one per role) has its own tracker,
 * so nothing known of a previous instance leaks into the next.
 */
import type { Libp2pEvents, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import { KAIWA_DHT_PROTOCOL } from './protocols.js'

export interface SupernodeTrackerComponents {
  events: TypedEventTarget<Libp2pEvents>
  connectionManager: Pick<ConnectionManager, 'getConnections'>
}

/** The libp2p service factory: `services: { supernodes: supernodeTracker() }`. */
export function supernodeTracker(): (components: SupernodeTrackerComponents) => SupernodeTracker {
  return (components) => new SupernodeTracker(components)
}

export class SupernodeTracker implements Startable {
  private readonly servers = new Set<string>()
  readonly [Symbol.toStringTag] = '@kaiwa/supernode-tracker'

  constructor(private readonly components: SupernodeTrackerComponents) {}

  private readonly onIdentify = (
    evt: CustomEvent<{ peerId: PeerId; protocols: string[] }>,
  ): void => {
    const id = evt.detail.peerId.toString()
    if (evt.detail.protocols.includes(KAIWA_DHT_PROTOCOL)) this.servers.add(id)
    else this.servers.delete(id)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.servers.delete(evt.detail.toString())
  }

  start(): void {
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop(): void {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.servers.clear()
  }

  /** Connected supernodes, as peer id strings. */
  connected(): string[] {
    const live = new Set(
      this.components.connectionManager.getConnections().map((c) => c.remotePeer.toString()),
    )
    return [...this.servers].filter((id) => live.has(id))
  }

  isSupernode(peer: string): boolean {
    return this.servers.has(peer)
  }
}
