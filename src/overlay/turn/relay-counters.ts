/**
 * The TURN server's counters and their snapshot, TurnServer.stats(). Plain number fields bumped
 * on the per-packet path; the snapshot is a flat record of numbers (the control API's status
 * carries it as such).
 */
import type { TurnStats } from './turn-options.js'

/** Why a packet was not relayed. */
export type DropReason =
  /** No allocation, channel or permission for it (RFC 8656 §9). */
  | 'noPermission'
  /** A peer the peer policy refuses (peer-policy.ts; RFC 8656 §11.2). */
  | 'peerDenied'
  /** The server-wide bandwidth cap is 0. */
  | 'relayOff'
  /** Over its allocation's packets/s in that direction. */
  | 'packetRate'
  /** Over its allocation's bytes/s in that direction. */
  | 'allocationBandwidth'
  /** Over the server-wide bandwidth cap. */
  | 'serverBandwidth'

/** Distinct peer IDs remembered for peersServed; past it the figure stops growing. */
const MAX_PEERS_TRACKED = 100_000

export class RelayCounters {
  allocationsTotal = 0
  /** Of allocationsTotal, those made over TURN over TLS (the bridge port). */
  allocationsTls = 0
  /** TURN-over-TLS connections the bridge port handed over (RFC 8656 §3.1). */
  tlsConnections = 0
  /** Allocates refused with 508 for the server-wide caps. */
  allocationsRefused = 0
  bytesToPeers = 0
  bytesToClients = 0
  packetsToPeers = 0
  packetsToClients = 0
  readonly dropped: Record<DropReason, number> = {
    noPermission: 0,
    peerDenied: 0,
    relayOff: 0,
    packetRate: 0,
    allocationBandwidth: 0,
    serverBandwidth: 0,
  }
  /** CreatePermission/ChannelBind answered 403 by the peer policy (RFC 8656 §10.2, §12.2). */
  permissionsDenied = 0
  rateLimited = 0
  malformed = 0
  private readonly peers = new Set<string>()

  /** An allocation was made for `peerId` (the part after ':' of a REST username). */
  served(peerId: string, transport?: 'udp' | 'tcp' | 'tls'): void {
    this.allocationsTotal++
    if (transport === 'tls') this.allocationsTls++
    if (this.peers.size < MAX_PEERS_TRACKED) this.peers.add(peerId)
  }

  snapshot(allocations: number): TurnStats {
    const d = this.dropped
    return {
      allocations,
      allocationsTotal: this.allocationsTotal,
      allocationsRefused: this.allocationsRefused,
      allocationsTls: this.allocationsTls,
      tlsConnections: this.tlsConnections,
      peersServed: this.peers.size,
      bytesRelayed: this.bytesToPeers + this.bytesToClients,
      packetsRelayed: this.packetsToPeers + this.packetsToClients,
      bytesToPeers: this.bytesToPeers,
      bytesToClients: this.bytesToClients,
      packetsToPeers: this.packetsToPeers,
      packetsToClients: this.packetsToClients,
      packetsDropped:
        d.noPermission +
        d.peerDenied +
        d.relayOff +
        d.packetRate +
        d.allocationBandwidth +
        d.serverBandwidth,
      droppedNoPermission: d.noPermission,
      droppedPeerDenied: d.peerDenied,
      droppedRelayOff: d.relayOff,
      droppedPacketRate: d.packetRate,
      droppedAllocationBandwidth: d.allocationBandwidth,
      droppedServerBandwidth: d.serverBandwidth,
      permissionsDenied: this.permissionsDenied,
      rateLimited: this.rateLimited,
      malformed: this.malformed,
    }
  }
}
