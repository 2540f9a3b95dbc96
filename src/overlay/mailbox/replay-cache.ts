/**
 * Remembers signed mailbox requests (fetch, delete) until their timestamp
 * leaves the allowed skew window, so each one is accepted once. A signed
 * request is already bound to the requesting peer and to a time within
 * ±MAX_REQUEST_SKEW_MS; this closes the rest of the window, in which the same
 * bytes could otherwise be sent again (e.g. a delete replayed after the
 * recipient stored new mail under a reused id, or a fetch repeated to probe).
 *
 * Keyed by a hash of the signed bytes, not by the signature: the bytes are
 * what the signer meant, and a second valid encoding of the same signature
 * must not count as a new request. Bounded: when full even after dropping
 * expired entries, `admit` refuses, failing closed rather than forgetting.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toString } from 'uint8arrays'

export class ReplayCache {
  /** Hash hex → when it may be forgotten (ms). */
  private readonly seen = new Map<string, number>()

  constructor(private readonly maxEntries = 65_536) {}

  /**
   * Admit `signed` once: true the first time, false for a replay (or when
   * full). `forgetAt` is when its timestamp stops being acceptable anyway.
   */
  admit(signed: Uint8Array, forgetAt: number, now: number): boolean {
    const id = toString(sha256(signed), 'base16')
    const until = this.seen.get(id)
    if (until !== undefined && until > now) return false
    if (this.seen.size >= this.maxEntries) this.prune(now)
    if (this.seen.size >= this.maxEntries) return false
    this.seen.set(id, forgetAt)
    return true
  }

  /** Drops entries whose timestamp is past the window. */
  prune(now: number): void {
    for (const [id, until] of this.seen) if (until <= now) this.seen.delete(id)
  }

  get size(): number {
    return this.seen.size
  }
}
