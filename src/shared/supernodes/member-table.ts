/**
 * The one-hop supernode table (issue 16 §5): every live supernode, as its
 * newest signed membership event (membership-event.ts), and the K closest of
 * them to a key under kad-dht's metric (SHA-256 of the key XOR SHA-256 of the
 * peer id multihash; Maymounkov & Mazières 2002, §2.1).
 *
 * What an event must pass, beyond its signature, to be admitted (and, over
 * gossipsub, to be forwarded at all):
 *   - it comes from the peer it is about (`from`, gossipsub's StrictSign
 *     author, equals `peer`), else 'impostor': nobody relays another's event;
 *   - `issuedAt` no more than ALLOWED_SKEW_MS ahead of this clock ('future');
 *   - `issuedAt + ttlMs` still ahead ('stale': a backdated or long-delayed
 *     event, or one from a peer that stopped re-announcing);
 *   - `seq` above the one held for that peer ('replayed'), except that an
 *     older event issued within REORDER_MS of the held one is only ignored
 *     (two honest events can cross on different gossip paths); the same `seq`
 *     with the same bytes is a duplicate (ignored), with other bytes an
 *     'equivocation' (refused).
 * A leave is kept as a tombstone until its own expiry, so an older join that
 * arrives late cannot bring the peer back. Entries that are not re-announced
 * within `ttlMs` of their `issuedAt` expire.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import type { PeerId } from '@libp2p/interface'
import { compare, equals, toString } from 'uint8arrays'
import { ALLOWED_SKEW_MS } from '../clock/clock-limits.js'
import { MembershipEventError, signerOf } from './membership-event.js'
import type { MembershipEvent } from './membership-event.js'

export interface MemberTableInit {
  /** How long an event stays valid after its issuedAt (a few re-announce periods). */
  ttlMs: number
  /**
   * Most entries (joins and leave tombstones) held; events about new peers
   * beyond it are ignored, not refused.
   * @default 100000
   */
  maxEntries?: number
  /** @default ALLOWED_SKEW_MS */
  maxFutureMs?: number
}

export interface TableEntry {
  event: MembershipEvent
  bytes: Uint8Array
  /** Peer id string (base58btc of the multihash). */
  id: string
  peerId: PeerId
  /** SHA-256 of the peer id multihash: its place in kad-dht's key space. */
  point: Uint8Array
}

/**
 * 'accepted': held now; 'duplicate': these very bytes are held; 'outdated': an
 * older event of the peer issued within REORDER_MS of the one held; 'full':
 * no room for a new peer. None of the last three is forwarded.
 */
export type Admission = 'accepted' | 'duplicate' | 'outdated' | 'full'

/** Events of one peer issued this close together may arrive in either order. */
export const REORDER_MS = 60_000

export class MemberTable {
  private readonly entries = new Map<string, TableEntry>()
  private readonly maxEntries: number
  private readonly maxFutureMs: number

  constructor(private readonly init: MemberTableInit) {
    this.maxEntries = init.maxEntries ?? 100_000
    this.maxFutureMs = init.maxFutureMs ?? ALLOWED_SKEW_MS
  }

  /**
   * Admit a decoded, signature-checked event. `from` is the multihash of the
   * peer that signed the carrying message (gossipsub); undefined for a
   * snapshot entry, whose own signature is the proof. Throws
   * MembershipEventError when the event must be refused.
   */
  admit(event: MembershipEvent, bytes: Uint8Array, now: number, from?: Uint8Array): Admission {
    if (from != null && !equals(from, event.peer)) {
      throw new MembershipEventError('supernode event relayed for another peer', 'impostor')
    }
    if (event.issuedAt > now + this.maxFutureMs) {
      throw new MembershipEventError('supernode event issued in the future', 'future')
    }
    if (event.issuedAt + this.init.ttlMs <= now) {
      throw new MembershipEventError('supernode event too old', 'stale')
    }
    const id = peerKey(event.peer)
    const held = this.entries.get(id)
    if (held != null) {
      if (event.seq < held.event.seq) {
        // Gossip may deliver two close events of one peer out of order: old news, not an attack.
        if (held.event.issuedAt - event.issuedAt < REORDER_MS) return 'outdated'
        throw new MembershipEventError(
          `supernode event seq ${event.seq} is older than ${held.event.seq}`,
          'replayed',
        )
      }
      if (event.seq === held.event.seq) {
        if (equals(bytes, held.bytes)) return 'duplicate'
        throw new MembershipEventError('two different events with one seq', 'equivocation')
      }
    } else if (this.entries.size >= this.maxEntries) {
      this.expire(now)
      if (this.entries.size >= this.maxEntries) return 'full'
    }
    const peerId = held?.peerId ?? signerOf(event.peer)
    if (peerId == null) throw new MembershipEventError('not a key-derived peer id', 'impostor')
    this.entries.set(id, { event, bytes, id, peerId, point: held?.point ?? sha256(event.peer) })
    return 'accepted'
  }

  /** Drop what was not re-announced in time; returns how many went. */
  expire(now: number): number {
    let n = 0
    for (const [id, e] of this.entries) {
      if (e.event.issuedAt + this.init.ttlMs <= now) {
        this.entries.delete(id)
        n++
      }
    }
    return n
  }

  /** The live supernodes (joins not expired). */
  members(now: number): TableEntry[] {
    return [...this.entries.values()].filter(
      (e) => e.event.kind === 'join' && e.event.issuedAt + this.init.ttlMs > now,
    )
  }

  /** The entry held for a peer id string, join or leave. */
  get(id: string): TableEntry | undefined {
    return this.entries.get(id)
  }

  /**
   * The `k` live supernodes closest to `key` (a DHT key, hashed here as
   * kad-dht hashes it), nearest first, leaving out peers `skip` names.
   */
  closest(key: Uint8Array, k: number, now: number, skip?: (id: string) => boolean): TableEntry[] {
    const target = sha256(key)
    return this.members(now)
      .filter((e) => skip?.(e.id) !== true)
      .map((e) => ({ e, d: xor(target, e.point) }))
      .sort((a, b) => compare(a.d, b.d))
      .slice(0, k)
      .map((x) => x.e)
  }

  /** Every held event (joins and tombstones) not expired, for a new supernode's first table. */
  snapshot(now: number): Array<{ peer: Uint8Array; bytes: Uint8Array }> {
    this.expire(now)
    return [...this.entries.values()].map((e) => ({ peer: e.event.peer, bytes: e.bytes }))
  }

  get size(): number {
    return this.entries.size
  }
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** The peer id string of a multihash, as PeerId.toString() gives it (base58btc, no prefix). */
export function peerKey(peer: Uint8Array): string {
  return toString(peer, 'base58btc')
}
