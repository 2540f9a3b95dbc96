/**
 * Where this node's names live right now: in the overlay's DHT, or only on
 * its LAN (issue 13: a LAN with no supernode and no route out).
 *
 *   a supernode itself, or connected to one  ──▶ 'overlay' (settled)
 *   a DHT server in the routing table          ──▶ 'overlay' (settled)
 *   LAN peers, none of the above, after grace  ──▶ 'lan'
 *   nothing yet                                ──▶ 'overlay', not settled: the
 *                                                  caller may wait a little for
 *                                                  a supernode (bootstrap dials)
 *
 * The overlay always wins when it is there: LAN answers are never mixed with
 * the DHT's, so a LAN-only claim can never outvote the network's record for a
 * name. A LAN-only claim is first come, first served among the LAN's peers
 * (lan-name-table.ts); when the node later reaches a supernode it republishes
 * to the DHT, where the claim is judged again like any first claim and may be
 * refused (the name is someone else's there).
 */
import { NameTakenError, NoOverlayPeersError } from '../../shared/errors.js'
import { decodeContactRecord } from '../../shared/records/contact-record.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { PublishError } from './lookup-types.js'
import type { LanNamesService } from './lan-names-service.js'
import type { Responder } from './quorum-read.js'

export type NameScope = 'overlay' | 'lan'

export interface ScopeView {
  scope: NameScope
  /** The overlay is reachable now; no point waiting for anything. */
  settled: boolean
}

/** The scope now; `lanAllowed` false keeps a just-started node waiting for its supernodes. */
export function nameScope(node: KaiwaLibp2p, lanAllowed: boolean): ScopeView {
  const dht = node.services.dht
  if (dht.getMode() === 'server') return { scope: 'overlay', settled: true }
  if ((node.services.supernodes?.connected().length ?? 0) > 0)
    return { scope: 'overlay', settled: true }
  if (routingTableSize(dht) > 0) return { scope: 'overlay', settled: true }
  if (lanAllowed && lanPeerCount(node) > 0) return { scope: 'lan', settled: true }
  return { scope: 'overlay', settled: false }
}

/** LAN peers that serve names (0 without the service). */
export function lanPeerCount(node: KaiwaLibp2p): number {
  return lanService(node)?.peers().length ?? 0
}

export function lanService(node: KaiwaLibp2p): LanNamesService | undefined {
  return (node.services as { lanNames?: LanNamesService }).lanNames
}

export function routingTableSize(dht: unknown): number {
  return (dht as { routingTable?: { size?: number } }).routingTable?.size ?? 0
}

/** This node's own LAN table and every LAN peer's answer for `name`. */
export async function lanRead(
  lan: LanNamesService,
  name: string,
  self: string,
  signal?: AbortSignal,
): Promise<{ responders: Responder[]; answered: number; failed: number }> {
  const [own, asked] = await Promise.all([lan.table.get(name), lan.ask(name, signal)])
  const responders = own != null ? [{ peer: self, ...own }, ...asked.responders] : asked.responders
  return { responders, answered: asked.answered, failed: asked.failed }
}

/**
 * Store our record on the LAN: every LAN peer first, then this node's own
 * table. At least one peer must accept it: refused as taken by every peer
 * that answered, or by our own table, it is NameTakenError. Returns how many
 * tables hold it.
 */
export async function lanPut(
  lan: LanNamesService,
  bytes: Uint8Array,
  self: string,
): Promise<number> {
  const name = decodeContactRecord(bytes).name
  const out = await lan.offer(bytes)
  if (out.accepted === 0 && out.taken.length > 0) throw new NameTakenError(name)
  if (out.accepted === 0 && out.refused.length > 0) {
    throw new PublishError(
      `no LAN peer accepted the record for "${name}": ${out.refused.slice(0, 3).join('; ')}`,
    )
  }
  if (out.accepted === 0) {
    throw new NoOverlayPeersError(
      `no supernode, and no LAN peer answered (${out.failed} failed): "${name}" is stored nowhere`,
    )
  }
  await lan.table.admit(bytes, self)
  return out.accepted + 1
}
