/** Options and statistics of the TURN server (turn-server.ts), and the peer allow-list flag. */
import { InvalidInputError } from '../../shared/errors.js'
import { parseCidr } from '../../shared/net/cidr.js'
import type { AllocationLimits, RelayCaps } from './relay-limits.js'
import type { SharedAllocations } from './turn-shared.js'

export type { AllocationLimits, RelayCaps } from './relay-limits.js'

export interface TurnServerOptions {
  /** Shared secret of the TURN REST API credentials. */
  secret: string | Uint8Array
  realm?: string
  host?: string
  /**
   * The address put in XOR-RELAYED-ADDRESS (RFC 8656 §7.3). A server bound to
   * 0.0.0.0 must announce an address peers can reach, not 0.0.0.0; default: `host`.
   */
  relayedAddress?: () => string
  /**
   * Where IPv6 relay sockets bind (RFC 8656 §7.2 REQUESTED-ADDRESS-FAMILY=IPv6 and dual
   * allocations with ADDITIONAL-ADDRESS-FAMILY): an IPv6 address of this host, or `::` with
   * relayedAddress6. Without it a server on an IPv4 `host` has no IPv6 address and answers 440
   * (an IPv6 `host` relays IPv6 there, and has no IPv4 relays).
   */
  host6?: string
  /** The address put in IPv6 XOR-RELAYED-ADDRESS; a server bound to `::` must set it. */
  relayedAddress6?: () => string
  /**
   * Also accept clients on this IPv6 address (`::` for all), UDP and TCP, on the same port as
   * `host`: a dual-stack server, `0.0.0.0` and `::`. How a client reaches the server does not
   * limit what it relays (RFC 8656 §3): an IPv6-only client gets an IPv4 relayed address by
   * default and the server translates. Best effort: if it cannot be bound, the server serves
   * `host` alone and TurnServer.listen6Error() says why (with port 0 both are picked again).
   */
  listen6?: string
  /** Listen port; 0 = any free port. */
  port?: number
  /** Also accept TCP from clients on the same port number (default true); relays stay UDP. */
  tcp?: boolean
  maxTcpConnections?: number
  /**
   * Relay ports (inclusive). RFC 8656 §7.2: the server SHOULD allocate from the dynamic range
   * 49152-65535 unless it knows other applications on the host are not affected. The default
   * is the part of it above Linux's default ephemeral range (32768-60999), so relay sockets
   * never compete with the host's outgoing connections; ports taken by
   * anyone else are skipped.
   * @default [61000, 65535]
   */
  relayPortRange?: readonly [number, number]
  defaultLifetimeS?: number
  maxLifetimeS?: number
  /**
   * Concurrent allocations per username (486, RFC 8656 §7.2); also the most ports one username
   * may hold reserved by EVEN-PORT with the R bit (more: 508, relay-reservations.ts).
   * @default DEFAULT_MAX_ALLOCATIONS_PER_USER (12)
   */
  maxAllocationsPerUser?: number
  nonceTtlS?: number
  /** Requests per second per source IP (token bucket) and burst size. */
  rateLimit?: { ratePerS: number; burst: number }
  /** Packets/s and bytes/s per allocation and direction (relay-limits.ts). */
  allocationLimits?: AllocationLimits
  /** Server-wide caps at start; change them later with TurnServer.setCaps (relay-limits.ts). */
  caps?: Partial<RelayCaps>
  /**
   * Receive and send buffer of the listen socket, in bytes (the kernel caps it at
   * net.core.rmem_max / wmem_max). All clients' packets queue there while the event loop is
   * busy (a GC pause, a burst of Allocates): at 50,000 packets/s the Linux default of 208 KiB
   * overflows within a few milliseconds.
   * @default 4 MiB
   */
  socketBufferBytes?: number
  /**
   * Allow peers on loopback addresses (127/8, ::1 and their mapped forms), including other
   * allocations' relay ports. Off by default: relaying into the server host is an
   * amplification/SSRF risk (RFC 8656 §21). The node sets it for a server bound to 127.0.0.1
   * (the demo, the tests: client, server and peers all on loopback). It says nothing of the
   * host's other addresses: those are refused but at a live relay port (peer-policy.ts), unless
   * allowPeers lists them. The server's own listen port is always refused (a relay loop).
   * @default false
   */
  allowLoopback?: boolean
  /**
   * CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses the relay may reach although the peer
   * policy (peer-policy.ts) refuses them by default: private, CGNAT, link-local and other
   * special-purpose ranges, loopback, and this host's own addresses. For a supernode serving a
   * LAN. Port 0, unspecified addresses and the server's own listen port stay refused. The
   * constructor throws InvalidCidrError on a malformed entry; parseAllowPeers reads the CLI form.
   * @default [] (relay only to public unicast addresses)
   */
  allowPeers?: readonly string[]
  /**
   * Accept channel numbers 0x4000-0x7FFF as RFC 5766 §11 did (coturn's turnutils_uclient and
   * other RFC 5766 clients pick them); false narrows to RFC 8656 §12's 0x4000-0x4FFF. RFC 8656
   * reserved 0x5000-0x7FFF for the RFC 7983 demultiplexing of a port shared with DTLS/SRTP;
   * the server's listen port carries only STUN and ChannelData, where every first byte
   * 0x40-0x7F is ChannelData (turn-server.ts, turn-tcp.ts), so the wider range costs nothing.
   * @default true
   */
  legacyChannelRange?: boolean
  /**
   * One relay thread of several sharing the listen port (turn-cluster.ts): SO_REUSEPORT on the
   * listeners ('claim' for the first, which makes sure no other process holds the port; 'join'
   * for the others), the nonce HMAC key they share (turn-auth.ts), and the admission and relay
   * ports counted over all of them (turn-shared.ts). Unset: a server of its own.
   */
  reusePort?: 'claim' | 'join'
  nonceKey?: Uint8Array
  shared?: SharedAllocations
  /** Clock in milliseconds; tests inject a fake one. */
  now?: () => number
  software?: string
}

/** TurnServer.stats(): a flat record of numbers, counted since the server was created. */
export interface TurnStats {
  /** Live allocations: the relayed calls now. */
  allocations: number
  allocationsTotal: number
  /** Allocates refused with 508 because of the server-wide caps. */
  allocationsRefused: number
  /** Of allocationsTotal, those made over TURN over TLS (the bridge port, RFC 8656 §3.1). */
  allocationsTls: number
  /** TURN-over-TLS connections accepted on the bridge port. */
  tlsConnections: number
  /** Distinct peer IDs (usernames `expiry:peerId`) that got an allocation (up to 100,000). */
  peersServed: number
  /** Payload bytes relayed, both directions (bytesToPeers + bytesToClients). */
  bytesRelayed: number
  packetsRelayed: number
  bytesToPeers: number
  bytesToClients: number
  packetsToPeers: number
  packetsToClients: number
  /** Packets not relayed, the sum of the dropped* reasons below. */
  packetsDropped: number
  /** No allocation, channel or permission for it. */
  droppedNoPermission: number
  /** Send indications to a peer the peer policy refuses (RFC 8656 §11.2: silently discarded). */
  droppedPeerDenied: number
  /** relayKbps is 0. */
  droppedRelayOff: number
  /** Over the allocation's packets/s (either direction). */
  droppedPacketRate: number
  /** Over the allocation's bytes/s (either direction). */
  droppedAllocationBandwidth: number
  /** Over the server-wide relayKbps. */
  droppedServerBandwidth: number
  /** CreatePermission and ChannelBind requests refused with 403 by the peer policy. */
  permissionsDenied: number
  /** Requests dropped by the per-source request rate limit. */
  rateLimited: number
  malformed: number
}

/**
 * Read a `--turn-allow-peers CIDR[,CIDR…]` value into TurnServerOptions.allowPeers: entries
 * separated by commas (spaces around them ignored), each a CIDR or a single address. Throws
 * InvalidCidrError on a malformed entry and InvalidInputError on an empty list or entry.
 */
export function parseAllowPeers(text: string): string[] {
  const entries = text.split(',').map((e) => e.trim())
  if (entries.some((e) => e === '')) {
    throw new InvalidInputError(`"${text}": expected CIDR[,CIDR…], e.g. 192.168.1.0/24,10.0.0.0/8`)
  }
  for (const e of entries) parseCidr(e)
  return entries
}

/**
 * The default per-username allocation quota. A node hands the same TURN credential (one
 * username) to every call for an hour, and Chromium allocates over UDP and TCP for each peer
 * connection: a 5-person group call's full mesh holds 4 peer connections, 8 allocations, and the
 * node's own overlay links use the same username. 5 left a group call's third pair without relay
 * candidates.
 */
export const DEFAULT_MAX_ALLOCATIONS_PER_USER = 12
