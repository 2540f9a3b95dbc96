/** Options and statistics of the TURN server (turn-server.ts). */
export interface TurnServerOptions {
  /** Shared secret of the TURN REST API credentials. */
  secret: string | Uint8Array
  realm?: string
  host?: string
  /** Listen port; 0 = any free port. */
  port?: number
  /** Also accept TCP from clients on the same port number (default true); relays stay UDP. */
  tcp?: boolean
  maxTcpConnections?: number
  /** Relay ports (inclusive); default 49160-49200, outside Linux's ephemeral range. */
  relayPortRange?: readonly [number, number]
  defaultLifetimeS?: number
  maxLifetimeS?: number
  maxAllocationsPerUser?: number
  nonceTtlS?: number
  /** Requests per second per source IP (token bucket) and burst size. */
  rateLimit?: { ratePerS: number; burst: number }
  /**
   * Allow peers on loopback addresses (127/8, ::1), including other allocations' relay ports.
   * Off by default: relaying into the server host is an amplification/SSRF risk (RFC 8656 §21).
   * Tests must set it since client, server and peers all live on 127.0.0.1. The server's own
   * listen port is always refused (a relay loop).
   */
  allowLoopback?: boolean
  /**
   * Accept channel numbers 0x4000-0x7FFF as RFC 5766 §11 did (coturn's turnutils_uclient picks
   * them), instead of RFC 8656 §12's 0x4000-0x4FFF. 0x5000-0x7FFF collide with the RFC 7983
   * demultiplexing ranges, so keep it off unless such clients must be served.
   */
  legacyChannelRange?: boolean
  /** Clock in milliseconds; tests inject a fake one. */
  now?: () => number
  software?: string
}

export interface TurnStats {
  allocations: number
  allocationsTotal: number
  bytesToPeers: number
  bytesToClients: number
  packetsToPeers: number
  packetsToClients: number
  rateLimited: number
  malformed: number
}
