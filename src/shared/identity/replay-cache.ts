/**
 * A bounded memory of identity tokens already accepted, so a captured request
 * cannot be played again while its Date is still fresh (RFC 8224 §12: the
 * Date window limits replay in time; within the window only state at the
 * verifier stops it).
 *
 * Each entry lives until the token it stands for would be refused as stale
 * anyway (`expiresAt`), so the cache never needs to hold more than one
 * freshness window of traffic. Every check costs O(1): a Map lookup and
 * insert, plus at most PRUNE_PER_CHECK deletions of expired entries from the
 * front of an insertion-order queue (amortised: each entry leaves it once).
 *
 * When the cap is reached the oldest entry is evicted. If that entry was still
 * live, the cache could later fail to recognise its token, so it raises a
 * floor: any unknown token issued at or before the newest evicted live entry
 * is refused as a possible replay. Overflow therefore fails closed (a late,
 * legitimate request may be refused) and never lets a replay through.
 */

/** Default number of remembered tokens: 100 000 ≈ 166 requests/s over a 10-minute window. */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 100_000

/** Expired entries removed from the front per check: more than the one inserted, so it keeps up. */
const PRUNE_PER_CHECK = 16

export interface ReplayCacheInit {
  /**
   * Most tokens remembered at once; size it for the peak request rate times
   * the freshness window (2 × IDENTITY_MAX_SKEW_MS at most).
   *
   * @default DEFAULT_REPLAY_CACHE_ENTRIES
   */
  maxEntries?: number
}

/** One accepted token: when it was issued and when it goes stale (ms since epoch). */
export interface ReplayEntryTimes {
  issuedAt: number
  expiresAt: number
}

/** 'fresh': first sighting, now remembered. 'replay': seen before, or possibly seen and evicted. */
export type ReplayVerdict = 'fresh' | 'replay'

interface Entry extends ReplayEntryTimes {
  key: string
}

export class ReplayCache {
  readonly maxEntries: number
  readonly #entries = new Map<string, Entry>()
  /**
   * Entries in insertion order, consumed from `#head`. A Map's own iterator
   * would be O(n) here: V8 keeps deleted slots at the front of its table
   * until a rehash, and every new iterator walks over them.
   */
  #queue: Array<Entry | undefined> = []
  #head = 0
  /** issuedAt of the newest entry evicted while still live; unknown tokens at or below it are refused. */
  #floor = -Infinity
  #evictions = 0

  constructor(init: ReplayCacheInit = {}) {
    const max = init.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`ReplayCache maxEntries must be a positive integer, got ${String(max)}`)
    }
    this.maxEntries = max
  }

  /** Tokens currently remembered (expired ones not yet pruned included). */
  get size(): number {
    return this.#entries.size
  }

  /** Live entries evicted to make room since creation: a sign the cap is too small. */
  get evictions(): number {
    return this.#evictions
  }

  /**
   * Check `key` (a token's signature) and remember it if it is new. Call only
   * for tokens that verified: remembering an unverified one would let anyone
   * who saw a real signature block it.
   */
  check(key: string, times: ReplayEntryTimes, now: number): ReplayVerdict {
    this.#prune(now)
    const seen = this.#entries.get(key)
    if (seen !== undefined) {
      if (seen.expiresAt > now) return 'replay'
      this.#entries.delete(key) // its queue slot goes stale and is skipped later
    }
    if (times.issuedAt <= this.#floor) return 'replay'
    if (this.#entries.size >= this.maxEntries) this.#evictOldest(now)
    const entry: Entry = { key, issuedAt: times.issuedAt, expiresAt: times.expiresAt }
    this.#entries.set(key, entry)
    this.#queue.push(entry)
    return 'fresh'
  }

  /** True if `key` is remembered and not yet expired (does not record anything). */
  has(key: string, now: number): boolean {
    const seen = this.#entries.get(key)
    return seen !== undefined && seen.expiresAt > now
  }

  clear(): void {
    this.#entries.clear()
    this.#queue = []
    this.#head = 0
    this.#floor = -Infinity
  }

  /** The oldest queued entry that is still the live one for its key (stale slots dropped). */
  #front(): Entry | undefined {
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head]!
      if (this.#entries.get(e.key) === e) return e
      this.#shift()
    }
    return undefined
  }

  #shift(): void {
    this.#queue[this.#head++] = undefined
    // Drop the consumed half once it dominates: amortised O(1) per entry.
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  #prune(now: number): void {
    for (let n = 0; n < PRUNE_PER_CHECK; n++) {
      const e = this.#front()
      if (e === undefined || e.expiresAt > now) return
      this.#entries.delete(e.key)
      this.#shift()
    }
  }

  #evictOldest(now: number): void {
    const e = this.#front()
    if (e === undefined) return
    this.#entries.delete(e.key)
    this.#shift()
    if (e.expiresAt > now) {
      this.#evictions++
      if (e.issuedAt > this.#floor) this.#floor = e.issuedAt
    }
  }
}
