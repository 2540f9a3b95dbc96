/**
 * What a client with no supernode tells its user (the start-up and periodic
 * log line, `kaiwa status`'s `hint`): it is on no network, and how to get on
 * one. Supernodes are opt-in (issue 13), so a fresh node is often alone.
 */
import type { Role } from '../api/node-schemas.js'

export const NO_SUPERNODE_HINT =
  'this node is connected to no supernode, so it is on no network: nobody can look ' +
  'you up or call you. Join a network with an invite link (kaiwa node --join LINK, ' +
  'or "Join with an invite" in the app), give a supernode with --bootstrap MULTIADDR, ' +
  'or start a new network with --supernode on'

/** The hint, or undefined when the node is a supernode or attached to one. */
export function noSupernodeHint(role: Role, connectedSupernodes: number): string | undefined {
  return role === 'client' && connectedSupernodes === 0 ? NO_SUPERNODE_HINT : undefined
}
