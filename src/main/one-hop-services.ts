/**
 * The supernode role's one-hop services (issue 16 §5), which startLibp2p adds
 * to `servicesFor`'s for supernodes only, in this order (each later one takes
 * the earlier ones as components):
 *   pubsub          gossipsub, StrictSign (every message signed by its author's
 *                   libp2p key, checked before anything else looks at it), one
 *                   allowed topic, no floodsub, no peer exchange;
 *   supernodeTable  the signed join/leave table (overlay/supernodes/supernode-table.ts);
 *   oneHop          one-hop lookups from the table (overlay/supernodes/one-hop-service.ts).
 * gossipsub is imported here, when a supernode's libp2p is built, so a client
 * never loads it (an idle client's memory, issue 16 §2).
 */
import type { Datastore } from 'interface-datastore'
import type { Logger } from '../shared/logger.js'
import { oneHopService } from '../overlay/supernodes/one-hop-service.js'
import { SUPERNODE_TOPIC, supernodeTable } from '../overlay/supernodes/supernode-table.js'
import type { SupernodeTableInit } from '../overlay/supernodes/supernode-table.js'

export interface OneHopServicesDeps {
  datastore: Datastore
  /** Proof-of-work bits the records must carry (as the DHT's validator demands). */
  powBits?: number
  /** Table timings (tests shorten them); the defaults are the production ones. */
  table?: Omit<SupernodeTableInit, 'log'>
  log: Logger
}

export async function oneHopServices(
  deps: OneHopServicesDeps,
): Promise<Record<string, (components: never) => unknown>> {
  const { gossipsub, StrictSign } = await import('@libp2p/gossipsub')
  return {
    pubsub: gossipsub({
      globalSignaturePolicy: StrictSign,
      allowedTopics: [SUPERNODE_TOPIC],
      // A new supernode announces before it has topic peers; it announces
      // again when the first one subscribes (supernode-table.ts).
      allowPublishToZeroTopicPeers: true,
      fallbackToFloodsub: false,
      doPX: false,
      emitSelf: false,
      // Events are at most 1 KiB (membership-event.ts); larger data is not even decoded.
      maxInboundDataLength: 16 * 1024,
    }),
    supernodeTable: supernodeTable({ ...deps.table, log: deps.log.child('supernodes') }),
    oneHop: oneHopService({
      datastore: deps.datastore,
      log: deps.log.child('one-hop'),
      ...(deps.powBits != null ? { powBits: deps.powBits } : {}),
    }),
  }
}
