/**
 * Which connected peers are supernodes. The peer store cannot tell: libp2p
 * records a protocol for a peer whenever that peer opens a stream with it, so
 * a client that queried our DHT looks like a DHT server there. What a peer
 * announces in identify (RFC-less, libp2p identify spec) is authoritative, and
 * identify-push updates it when a node changes role.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { KAIWA_DHT_PROTOCOL } from './libp2p-factory.js'

export class SupernodeTracker {
  private readonly servers = new Set<string>()
  private node: Libp2p | undefined

  /** Follow a (new) libp2p instance; what was known of the previous one is dropped. */
  attach(node: Libp2p): void {
    this.servers.clear()
    this.node = node
    node.addEventListener('peer:identify', (evt) => {
      if (this.node !== node) return
      const id = evt.detail.peerId.toString()
      if (evt.detail.protocols.includes(KAIWA_DHT_PROTOCOL)) this.servers.add(id)
      else this.servers.delete(id)
    })
    node.addEventListener('peer:disconnect', (evt) => {
      if (this.node === node) this.servers.delete(evt.detail.toString())
    })
  }

  /** Connected supernodes, as peer id strings. */
  connected(): string[] {
    const node = this.node
    if (node == null) return []
    const live = new Set(node.getPeers().map((p: PeerId) => p.toString()))
    return [...this.servers].filter((id) => live.has(id))
  }

  isSupernode(peer: string): boolean {
    return this.servers.has(peer)
  }
}
