/**
 * The TURN requests on an existing allocation, for turn-server.ts: Refresh (RFC 8656 §7),
 * CreatePermission (§9, §10) and ChannelBind (§11, §12), with the XOR-PEER-ADDRESS checks, the
 * peer policy's verdict (peer-policy.ts) and the channel number range. Authentication and the
 * unknown-attribute check happen before; Allocate itself stays in turn-server.ts.
 */
import type { Allocation } from './allocation.js'
import type { AllocationTable } from './allocation-table.js'
import type { PeerPolicy } from './peer-policy.js'
import type { RelayCounters } from './relay-counters.js'
import { StunMethod } from './stun-message.js'
import type { DecodedStunMessage, StunAttribute } from './stun-message.js'
import { find, findAll, maxChannel } from './turn-helpers.js'

/** What these handlers use of the server. */
export interface AllocationRequestComponents {
  allocations: Pick<AllocationTable, 'delete'>
  policy: Pick<PeerPolicy, 'verdict'>
  counters: Pick<RelayCounters, 'permissionsDenied'>
  now: () => number
  /** The granted lifetime for a requested LIFETIME (turn-helpers.ts clampLifetimeS). */
  lifetimeS: (requested: number | undefined) => number
  /** Allow channels up to 0x7FFF (RFC 5766 §11) instead of 0x4FFF (RFC 8656 §12). */
  legacyChannelRange: boolean
}

/**
 * Answer a Refresh, CreatePermission or ChannelBind request from the 5-tuple `key` of the
 * authenticated `username` with `ok` or `err`; `alloc` is that 5-tuple's allocation, if any.
 */
export function onAllocationRequest(
  req: DecodedStunMessage,
  alloc: Allocation | undefined,
  key: string,
  username: string,
  c: AllocationRequestComponents,
  ok: (attrs: StunAttribute[]) => void,
  err: (code: number) => void,
): void {
  // RFC 8656 §5: requests on a 5-tuple without allocation get 437; a different
  // user on the same 5-tuple gets 441.
  if (!alloc) return err(437)
  if (alloc.username !== username) return err(441)
  const now = c.now()
  if (req.method === StunMethod.Refresh) {
    // RFC 8656 §8.2: a REQUESTED-ADDRESS-FAMILY of a family the allocation has no relayed
    // address of gets 443 (Peer Address Family Mismatch).
    const family = find(req, 'REQUESTED-ADDRESS-FAMILY')?.value
    if (family !== undefined && !alloc.hasFamily(family)) return err(443)
    const lifetime = c.lifetimeS(find(req, 'LIFETIME')?.value)
    if (lifetime === 0) c.allocations.delete(key)
    else alloc.expires = now + lifetime * 1000
    return ok([{ name: 'LIFETIME', value: lifetime }])
  }
  const peers = findAll(req, 'XOR-PEER-ADDRESS').map((a) => a.value)
  if (peers.length === 0) return err(400)
  // RFC 8656 §10.2, §12.2: a peer of a family the allocation has no relayed address of gets 443.
  if (peers.some((p) => !alloc.hasFamily(p.family))) return err(443)
  // RFC 8656 §10.2, §12.2: a peer address the server does not allow gets 403 (peer-policy.ts).
  const verdicts = peers.map((p) => c.policy.verdict(p))
  if (verdicts.some((v) => v !== 'allowed' && v !== 'relay')) {
    c.counters.permissionsDenied++
    return err(403)
  }
  if (req.method === StunMethod.CreatePermission) {
    // RFC 8656 §10.2: all permissions are installed or none.
    for (const p of peers) alloc.permit(p.address, now)
    return ok([])
  }
  // ChannelBind, RFC 8656 §12.2.
  const channel = find(req, 'CHANNEL-NUMBER')?.value
  const peer = peers[0]!
  if (
    peers.length !== 1 ||
    channel === undefined ||
    channel < 0x4000 ||
    channel > maxChannel(c.legacyChannelRange)
  ) {
    return err(400)
  }
  if (!alloc.canBind(channel, peer, now)) return err(400)
  alloc.bind(channel, peer, now, verdicts[0] === 'relay')
  return ok([])
}
