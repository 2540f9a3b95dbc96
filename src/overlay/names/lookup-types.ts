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
