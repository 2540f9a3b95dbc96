/**
 * Which peers needed TURN for files lately. The first file to a peer behind a
 * NAT that defeats punching (a symmetric NAT facing a port-restricted or
 * symmetric one) spends its direct attempts first (a TCP dial, a STUN-only
 * WebRTC dial: up to about 17 s) before the TURN dial starts. Once TURN has
 * carried a file to that peer, the next transfer or resume races the TURN dial
 * against the direct ones from the start (file-protocol.ts `openDirect`), so it
 * does not wait for them again.
 *
 * An entry lasts `ttlMs` from the last time the direct attempts failed to
 * reach the peer; a direct attempt that succeeds forgets it at once. So a
 * peer that becomes directly reachable (it moved off the NAT, or a port
 * mapping appeared) is found by the racing direct dials, and at the latest
 * after `ttlMs` it is tried directly first again. Kept in memory only: after
 * a restart the first file pays the direct attempts once more.
 */

/** How long a peer counts as needing TURN after its direct attempts failed. @default 10 min */
export const TURN_MEMORY_MS = 10 * 60_000
/** Most peers remembered (the oldest entry goes first). */
export const TURN_MEMORY_PEERS = 1024

export interface TurnMemoryOptions {
  /** @default TURN_MEMORY_MS */
  ttlMs?: number
  /** @default TURN_MEMORY_PEERS */
  maxPeers?: number
  /** @default Date.now */
  now?: () => number
}

export class TurnMemory {
  /** Peer ID → when its direct attempts last failed while TURN carried its files. */
  private readonly failedAt = new Map<string, number>()
  private readonly ttlMs: number
  private readonly maxPeers: number
  private readonly now: () => number

  constructor(opts: TurnMemoryOptions = {}) {
    this.ttlMs = opts.ttlMs ?? TURN_MEMORY_MS
    this.maxPeers = opts.maxPeers ?? TURN_MEMORY_PEERS
    this.now = opts.now ?? Date.now
  }

  /** Whether `peer` needed TURN within the last `ttlMs` (then the TURN dial starts at once). */
  needsTurn(peer: string): boolean {
    const at = this.failedAt.get(peer)
    if (at === undefined) return false
    if (this.now() - at < this.ttlMs) return true
    this.failedAt.delete(peer)
    return false
  }

  /** How long ago `peer` was last found to need TURN, in ms; undefined when not remembered. */
  age(peer: string): number | undefined {
    return this.needsTurn(peer) ? this.now() - this.failedAt.get(peer)! : undefined
  }

  /** TURN carried a file to `peer` after (or while) its direct attempts failed. */
  neededTurn(peer: string): void {
    // Re-inserted, so the Map's order is oldest first.
    this.failedAt.delete(peer)
    this.failedAt.set(peer, this.now())
    while (this.failedAt.size > this.maxPeers) {
      const oldest = this.failedAt.keys().next().value
      if (oldest === undefined) break
      this.failedAt.delete(oldest)
    }
  }

  /** A direct connection to `peer` was made: try it directly first from now on. */
  wentDirect(peer: string): void {
    this.failedAt.delete(peer)
  }

  get size(): number {
    return this.failedAt.size
  }
}
