/**
 * What a client with no supernode tells its user (the start-up and periodic
 * log line, `kaiwa status`'s `hint`): it is on no network, and how to get on
 * one. Supernodes are opt-in (issue 13), so a fresh node is often alone. A
 * client with LAN peers and no supernode is on a LAN-only network instead.
 */
import type { Role } from '../api/node-schemas.js'

export const NO_SUPERNODE_HINT =
  'this node is connected to no supernode, so it is on no network: nobody can look ' +
  'you up or call you. Join a network with an invite link (kaiwa node --join LINK, ' +
  'or "Join with an invite" in the app), give a supernode with --bootstrap MULTIADDR, ' +
  'or start a new network with --supernode on'

/**
 * A client with no supernode but with peers on its LAN is on a LAN-only
 * network (issue 13): names and calls work among those peers.
 */
export function lanOnlyHint(lanPeers: number): string {
  return (
    `this node is on a LAN-only network: no supernode, ${lanPeers} LAN ` +
    `peer${lanPeers === 1 ? '' : 's'}. Names, messages and calls work among the ` +
    'peers on this LAN; a name claimed here is first come among them, and is ' +
    'checked again when the node reaches a supernode (it may be taken on the ' +
    'wider network). To reach anyone else, join a network with an invite link ' +
    '(kaiwa node --join LINK) or --bootstrap MULTIADDR'
  )
}

/** How this node reaches others: through the overlay, among its LAN peers only, or not at all. */
export type NetworkState = 'overlay' | 'lan-only' | 'alone'

export function networkState(
  role: Role,
  connectedSupernodes: number,
  lanPeers: number,
): NetworkState {
  if (role !== 'client' || connectedSupernodes > 0) return 'overlay'
  return lanPeers > 0 ? 'lan-only' : 'alone'
}

/** The hint, or undefined when the node is a supernode or attached to one. */
export function noSupernodeHint(
  role: Role,
  connectedSupernodes: number,
  lanPeers = 0,
): string | undefined {
  const state = networkState(role, connectedSupernodes, lanPeers)
  if (state === 'lan-only') return lanOnlyHint(lanPeers)
  return state === 'alone' ? NO_SUPERNODE_HINT : undefined
}
