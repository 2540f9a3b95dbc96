/**
 * Dials peers that discovery (mDNS on the LAN) reports. libp2p 3 only records
 * discovered peers in the peer store; nothing connects to them, so two nodes on
 * one LAN would never meet without this. Bounded: it stops dialing once the
 * node has enough connections, and never dials a peer it is connected to.
 */
import type { PeerInfo } from '@libp2p/interface'
import type { Logger } from '../../shared/logger.js'
import type { KaiwaLibp2p } from './libp2p-factory.js'

export const DISCOVERY_DIAL_LIMIT = 32

export function dialDiscoveredPeers(node: KaiwaLibp2p, log: Logger): () => void {
  const onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    const peer = evt.detail.id
    if (peer.equals(node.peerId)) return
    if (node.getConnections(peer).length > 0) return
    if (node.getConnections().length >= DISCOVERY_DIAL_LIMIT) return
    node
      .dial(peer, { signal: AbortSignal.timeout(10_000) })
      .then(() => log.info(`connected to ${peer.toString()} found on the LAN`))
      .catch((err: unknown) =>
        log.debug(`could not dial discovered ${peer.toString()}: ${String(err)}`),
      )
  }
  node.addEventListener('peer:discovery', onDiscovery)
  return () => node.removeEventListener('peer:discovery', onDiscovery)
}
