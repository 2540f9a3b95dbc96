/** What UserDirectory's lookups and publishes answer (user-directory.ts). */
import { KaiwaError } from '../../shared/errors.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'

/** No storing node took the record: the overlay refused it (503, with the reason for the user). */
export class PublishError extends KaiwaError {
  constructor(message: string) {
    super(message, 'rejected')
    this.name = 'PublishError'
  }
}

/** Responders disagree on which account key holds the name. */
export interface NameConflict {
  /** Every account key with a live claim among the responders, the one used for routing first. */
  keys: Array<{ fingerprint: string; publicKey: Uint8Array; count: number }>
}

export interface LookupResult {
  /** The record used for routing: the majority key's newest record. */
  record: ContactRecord
  bytes: Uint8Array
  /** Where the answer came from: the in-memory cache, this node's store, or the DHT. */
  source: 'cache' | 'local' | 'network'
  /** Responders (DHT servers, this node included when it stores the name) whose records were compared. */
  responses: number
  /**
   * 'lan' when the answer came from the LAN's peers because no supernode is
   * reachable (lan-scope.ts): a LAN-only claim, first come among those peers.
   */
  scope?: 'lan'
  /** Set when responders disagree on the key. Never pin a key from a conflicting result. */
  conflict?: NameConflict
  /** 'one-hop' when the holders were asked in one hop through a supernode's table, not by a DHT walk. */
  via?: 'one-hop'
}

export interface LookupOptions {
  /** Skip the cache and the early stop; run the whole query and use the selector. */
  fresh?: boolean
  /** Use the in-memory cache of recent answers (default true; ignored with `fresh`). */
  cache?: boolean
  signal?: AbortSignal
  timeoutMs?: number
}

export interface PublishResult {
  record: ContactRecord
  /** Remote DHT servers that stored it (plus this node when it is one). */
  stored: number
}

/**
 * What a one-hop lookup (src/overlay/supernodes/) brings back: the records the
 * key's closest supernodes hold, as bytes, unchecked. The asker checks every
 * record as it checks a DHT answer; a supernode can withhold, never forge.
 */
export interface OneHopAnswer {
  /** Each record with the peer id string of the holder that returned it. */
  records: Array<{ peer: string; bytes: Uint8Array }>
  /** Holders that answered, with or without a record. */
  answered: number
  /** Holders that failed, timed out or returned an invalid record. */
  failed: number
}

/**
 * Look a DHT key up in one hop: through this node's supernode, or on a
 * supernode through its own table. Throws when it cannot (the caller then
 * walks the DHT). `early`: stop once enough holders agree.
 */
export type OneHopLookup = (
  key: Uint8Array,
  options: { early: boolean; signal: AbortSignal },
) => Promise<OneHopAnswer>
