/**
 * What a node remembers between lookups of a name: a short cache of answers,
 * and the newest record it has seen for each name (per account key), kept
 * for longer. The rule both enforce (issue 13): a lookup never goes back to a
 * lower `seq` under the same key than one this node has already seen. A
 * supernode restarted with its old data, or one that missed the owner's
 * latest put, therefore loses to a newer copy from any responder, now or in
 * an earlier lookup. `seq` is inside the owner's signature (contact-record.ts),
 * so nobody but the owner can raise it.
 *
 * Memory only: after a restart the first lookup starts from what the network
 * says.
 */
import { equals } from 'uint8arrays'
import type { ContactRecord } from '../../shared/records/contact-record.js'

/** A lookup answer: the record used for routing and its signed bytes. */
export interface Answer {
  record: ContactRecord
  bytes: Uint8Array
}

export interface LookupMemoryInit {
  /** How long a cached answer is served without asking the network. */
  cacheTtlMs: number
  /**
   * Names whose newest record is remembered (oldest-touched forgotten first).
   * @default 10_000
   */
  maxNames?: number
}

export class LookupMemory<T extends Answer> {
  private readonly cache = new Map<string, { result: T; at: number }>()
  private readonly newest = new Map<string, Answer>()
  private readonly maxNames: number

  constructor(private readonly init: LookupMemoryInit) {
    this.maxNames = init.maxNames ?? 10_000
  }

  /** The cached answer for `name` if younger than the cache TTL. */
  cached(name: string, now: number): T | undefined {
    const c = this.cache.get(name)
    return c != null && now - c.at < this.init.cacheTtlMs ? c.result : undefined
  }

  /** How long ago the cached answer for `name` was taken (undefined: none). */
  ageOf(name: string, now: number): number | undefined {
    const c = this.cache.get(name)
    return c == null ? undefined : now - c.at
  }

  /** The newest record seen for `name`, if any (whatever its key). */
  known(name: string): ContactRecord | undefined {
    return this.newest.get(name)?.record
  }

  /**
   * Take a fresh answer: if this node has already seen a higher `seq` under the
   * answer's key (and that record is still live), the answer is replaced by
   * it; otherwise the answer becomes the newest seen. The result is cached and
   * returned.
   */
  remember(name: string, result: T, now: number): T {
    const better = this.newerThan(name, result.record, now)
    const chosen =
      better != null ? { ...result, record: better.record, bytes: better.bytes } : result
    this.saw(name, chosen)
    this.cache.set(name, { result: chosen, at: now })
    return chosen
  }

  /** Record an answer seen outside a lookup (our own publish) without caching it. */
  saw(name: string, answer: Answer): void {
    const prev = this.newest.get(name)
    if (prev != null && sameKey(prev.record, answer.record) && prev.record.seq > answer.record.seq)
      return
    this.newest.delete(name)
    this.newest.set(name, { record: answer.record, bytes: answer.bytes })
    if (this.newest.size > this.maxNames) {
      const oldest = this.newest.keys().next().value
      if (oldest !== undefined) this.newest.delete(oldest)
    }
  }

  /**
   * Forget the cached answer (a device in it was unreachable). The newest seq
   * seen is kept: the next lookup asks the network but still never goes back.
   */
  invalidate(name: string): void {
    this.cache.delete(name)
  }

  private newerThan(name: string, r: ContactRecord, now: number): Answer | undefined {
    const prev = this.newest.get(name)
    if (prev == null || !sameKey(prev.record, r)) return undefined
    return prev.record.seq > r.seq && prev.record.expiresAt > now ? prev : undefined
  }
}

function sameKey(a: ContactRecord, b: ContactRecord): boolean {
  return equals(a.publicKey, b.publicKey)
}
