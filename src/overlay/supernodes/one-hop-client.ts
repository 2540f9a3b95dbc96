/**
 * The OneHopLookup that UserDirectory uses (names/lookup-types.ts): on a
 * supernode, its own one-hop service (its table, one hop to the holders); on
 * a client, `/kaiwa/one-hop/1.0.0` to one of its connected supernodes: two
 * round trips in all (client → its supernode → the holders, at once). Any
 * failure throws, and UserDirectory walks the DHT as before.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import type { OneHopLookup } from '../names/lookup-types.js'
import type { SupernodeTracker } from '../node/supernode-tracker.js'
import { OneHopUnavailableError, requestOneHop } from './one-hop-protocol.js'
import { OneHopService } from './one-hop-service.js'

export interface OneHopClientInit {
  /** Deadline of the request to the supernode. @default 5000 */
  timeoutMs?: number
}

/** The services of a node this reads: the tracker always, the one-hop service on supernodes. */
type OneHopNode = Pick<Libp2p, 'dialProtocol'> & {
  services: { supernodes: Pick<SupernodeTracker, 'connected'>; oneHop?: unknown }
}

export function oneHopLookup(node: () => OneHopNode, init: OneHopClientInit = {}): OneHopLookup {
  return async (key, options) => {
    const n = node()
    const own = n.services.oneHop
    if (own instanceof OneHopService) return own.lookup(key, options)
    const supernodes = n.services.supernodes.connected()
    if (supernodes.length === 0) throw new OneHopUnavailableError('no supernode is connected')
    // Any connected supernode will do; picking at random spreads the clients' load.
    const peer = peerIdFromString(supernodes[Math.floor(Math.random() * supernodes.length)]!)
    return requestOneHop(n, peer, key, { ...options, timeoutMs: init.timeoutMs ?? 5_000 })
  }
}
