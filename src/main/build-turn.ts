/**
 * The supernode TURN relay's part of the composition root (kaiwa-node.ts
 * buildParts): its state outlives a role change; it serves only while the
 * node is a supernode.
 */
import type { Logger } from '../shared/logger.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import { allocationLimitsForKbps } from '../overlay/turn/relay-limits.js'
import { defaultTurnThreads } from '../overlay/turn/turn-cluster.js'
import { TurnService } from '../overlay/turn/turn-service.js'
import type { KaiwaNodeOptions } from './kaiwa-node-options.js'
import type { NodeBase } from './node-base.js'

export function buildTurn(
  base: Pick<NodeBase, 'data' | 'settings'>,
  opts: KaiwaNodeOptions,
  node: () => KaiwaLibp2p,
  supernodes: () => string[],
  log: Logger,
): TurnService {
  return new TurnService({
    node,
    dataDir: base.data.path,
    port: opts.turnPort ?? 0,
    host: opts.turnHost ?? '0.0.0.0',
    portOptional: opts.turnPortOptional,
    ...(opts.turnRelayPorts != null ? { relayPorts: opts.turnRelayPorts } : {}),
    ...(opts.turnAllowPeers != null ? { allowPeers: opts.turnAllowPeers } : {}),
    ...(opts.turnAllocationKbps != null
      ? { allocationLimits: allocationLimitsForKbps(opts.turnAllocationKbps) }
      : {}),
    // Relay on every core (at most 4 threads) unless told otherwise.
    threads: opts.turnWorkers ?? defaultTurnThreads(),
    supernodes,
    // Supernodes issue credentials to verified devices of a claimed name.
    ownName: async () => (await base.settings.get()).name,
    log: log.child('turn'),
  })
}
