/**
 * Which role this node takes. `on` and `off` are the user's word. `auto` takes
 * the supernode role when the node is publicly reachable, as AutoNAT confirms
 * it, and also when it has no bootstrap peers at all: the first node of a new
 * network has nobody to attach to, so it must serve the DHT itself. The ~1%
 * election (load-driven promotion and step-down) builds on this.
 */
import { isPrivate } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Role, SupernodeMode } from '../../shared/api/contract.js'

export function initialRole(mode: SupernodeMode, bootstrapCount: number): Role {
  if (mode === 'on') return 'supernode'
  if (mode === 'off') return 'client'
  return bootstrapCount === 0 ? 'supernode' : 'client'
}

/** True when one of the node's (AutoNAT-confirmed) addresses is public and direct. */
export function hasPublicAddress(addrs: Multiaddr[]): boolean {
  return addrs.some((ma) => {
    const s = ma.toString()
    return !s.includes('/p2p-circuit') && !isPrivate(ma)
  })
}

export function reachability(role: Role, addrs: Multiaddr[]): 'public' | 'private' | 'unknown' {
  if (hasPublicAddress(addrs)) return 'public'
  if (addrs.some((a) => a.toString().includes('/p2p-circuit'))) return 'private'
  return role === 'supernode' ? 'unknown' : 'private'
}
