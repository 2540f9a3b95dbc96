/**
 * What keeping the routing state costs each supernode, in kbit/s (issue 16
 * §5): kad-dht's table refresh today against one-hop membership events
 * spread by gossip. A model with its constants in the open, not a
 * measurement; the simulation feeds it the lookup depth it measured.
 *
 * kad-dht (libp2p kad-dht 16, constants.ts): every node, clients included
 * (refresh runs in client mode too), refreshes its table every 5 minutes with
 * one random-key lookup per filled bucket plus a self lookup. Each lookup
 * asks `alpha` peers per round, and each query is a FIND_NODE request and an
 * answer naming K peers with their addresses. All of these land on
 * supernodes, the only DHT servers: a supernode serves its share of the
 * supernodes' refreshes and of its ~99 clients' refreshes.
 *
 * One hop: a supernode joining, leaving (announced by itself, or by the
 * neighbours that saw it die) or re-announcing itself is one signed event,
 * spread to every supernode by gossipsub: each supernode forwards each new
 * event to its D mesh peers and receives about as many copies, plus IHAVE
 * gossip of message IDs to D_lazy peers per heartbeat. Clients keep no table.
 */

export interface TrafficInput {
  supernodes: number
  clientsPerSupernode: number
  /** Mean supernode session, seconds. */
  sessionS: number
  /** Mean kad-dht lookup depth in rounds (measured by the simulation). */
  kadRounds: number
  /** Buckets with peers in a supernode's table (measured). */
  kadBuckets: number
}

export interface TrafficModel {
  kad: { refreshS: number; alpha: number; requestBytes: number; answerBytes: number }
  oneHop: {
    reannounceS: number
    eventBytes: number
    meshDegree: number
    lazyDegree: number
    heartbeatS: number
    idBytes: number
  }
}

/** Sizes from the wire formats: a peer with two addresses ~70 B, a signed event ~300 B with framing. */
export const DEFAULT_TRAFFIC_MODEL: TrafficModel = {
  kad: { refreshS: 300, alpha: 10, requestBytes: 120, answerBytes: 20 * 70 + 60 },
  oneHop: {
    reannounceS: 3600,
    eventBytes: 300,
    meshDegree: 6,
    lazyDegree: 6,
    heartbeatS: 1,
    idBytes: 24,
  },
}

export interface TrafficResult {
  /** Refresh traffic a supernode sends and receives, its own and served, kbit/s. */
  kadKbps: number
  /** The part of kadKbps that serves clients' refreshes. */
  kadClientsKbps: number
  /** Membership events per second across the supernodes. */
  eventsPerS: number
  /** Gossip traffic per supernode, in and out, kbit/s. */
  oneHopKbps: number
}

export function membershipTraffic(
  input: TrafficInput,
  model: TrafficModel = DEFAULT_TRAFFIC_MODEL,
): TrafficResult {
  const { kad, oneHop } = model
  const perLookupBytes = input.kadRounds * kad.alpha * (kad.requestBytes + kad.answerBytes)
  // Each node refreshes (buckets + 1 self lookup) times per refresh interval.
  const perNodeBps = ((input.kadBuckets + 1) * perLookupBytes) / kad.refreshS
  // A supernode's own refresh, plus serving an equal share of the supernodes'
  // and of its clients' refreshes (every query is answered by a supernode).
  const kadClientsBps = input.clientsPerSupernode * perNodeBps
  const kadBps = 2 * perNodeBps + kadClientsBps

  const eventsPerS = (2 * input.supernodes) / input.sessionS + input.supernodes / oneHop.reannounceS
  const copiesBps = eventsPerS * oneHop.eventBytes * 2 * oneHop.meshDegree
  // IHAVE: IDs of the events of the last 3 heartbeats to D_lazy peers per heartbeat.
  const ihaveBps =
    (oneHop.lazyDegree * eventsPerS * 3 * oneHop.heartbeatS * oneHop.idBytes) / oneHop.heartbeatS
  return {
    kadKbps: (kadBps * 8) / 1000,
    kadClientsKbps: (kadClientsBps * 8) / 1000,
    eventsPerS,
    oneHopKbps: ((copiesBps + ihaveBps) * 8) / 1000,
  }
}
