/**
 * Which role this node takes. Serving others is opt-in (issue 13): a user's
 * node is `off` (a client) unless they choose otherwise. `on` always serves;
 * `auto` means "I opted in; let the election decide": it starts as a client
 * and takes the supernode role when the node is publicly reachable, as AutoNAT
 * confirms it, or when the ~1% election (load-driven promotion and step-down)
 * picks it. Starting a brand-new network is an explicit act (`--supernode on`
 * or "Start a new network"), so `auto` with no bootstrap peer stays a client
 * and waits to be given one (an invite, `--join`, `--bootstrap`).
 */
import { isPrivate } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Role, SupernodeMode } from '../../shared/api/contract.js'

export function initialRole(mode: SupernodeMode): Role {
  return mode === 'on' ? 'supernode' : 'client'
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
