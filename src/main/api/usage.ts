/**
 * What a supernode spends for others, and the caps the user sets on it
 * (issue: "the user sees and caps what their supernode spends"). Figures:
 * bytes relayed by TURN (both directions) and its current rate, relayed calls
 * (live TURN allocations), peers served (attached clients: connected peers
 * that are not supernodes), DHT records stored, and offline mail held.
 */
import type { ApiOutput, SupernodeCaps } from '../../shared/api/contract.js'
import { countStoredRecords } from '../../overlay/names/record-validator.js'
import { effectiveCaps } from '../../overlay/store/settings-store.js'
import type { ApiComponents } from './api-components.js'

const MIB = 1024 * 1024

/** Apply the caps to the services that spend: TURN (bandwidth, calls) and the mailbox (storage). */
export function applyCaps(
  node: Pick<ApiComponents, 'turn' | 'mailbox'>,
  caps: SupernodeCaps,
): void {
  node.turn.setCaps({ relayKbps: caps.relayKbps, maxAllocations: caps.relayedCalls })
  node.mailbox.setMaxTotalBytes(caps.storageMiB * MIB)
}

/** A usage reader; the relay rate is the average since the previous reading (at least 1 s apart). */
export function createUsageMeter(node: ApiComponents): () => Promise<ApiOutput<'usage'>> {
  let last: { at: number; bytes: number; kbps: number } | undefined
  return async () => {
    const turn = node.turn.status()
    const bytes = turn?.stats.bytesRelayed ?? 0
    const now = Date.now()
    if (last == null || now - last.at >= 1000) {
      const kbps =
        last == null || bytes < last.bytes ? 0 : ((bytes - last.bytes) * 8) / (now - last.at)
      last = { at: now, bytes, kbps }
    }
    const serving = node.roles.role() === 'supernode'
    const clients = serving
      ? node
          .libp2p()
          .getPeers()
          .filter((p) => !node.supernodes.isSupernode(p.toString())).length
      : 0
    const mail = node.mailbox.usage()
    return {
      role: node.roles.role(),
      bytesRelayed: bytes,
      relayKbps: Math.round(last.kbps),
      relayedCalls: turn?.stats.allocations ?? 0,
      peersServed: clients,
      recordsStored: await countStoredRecords(node.datastore),
      mailboxBytes: mail.bytes,
      mailboxMessages: mail.messages,
      caps: effectiveCaps(await node.settings.get()),
    }
  }
}
