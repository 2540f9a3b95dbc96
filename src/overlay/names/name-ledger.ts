/**
 * What this node has observed about each name: the account key it saw claim
 * the name first, when (by this node's own clock), and until when that claim
 * was kept alive. Persisted, so a restart, kad-dht's own record clean-up (it
 * drops stored values 48 h after they were last received) or a kad-dht
 * "correction" that overwrites the stored value cannot make this node forget
 * who held a name.
 *
 * This replaces the claimant's `claimedAt` as the basis for ranking: a node
 * trusts its own observation, which an attacker can only influence by getting
 * a claim to this node first.
 */
import { decode, encode } from 'cborg'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { equals } from 'uint8arrays'
import { STRICT_DECODE } from '../../shared/cbor-strict.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'

export interface LedgerEntry {
  /** Raw account key that first claimed the name here. */
  publicKey: Uint8Array
  /** This node's clock when it first accepted that claim. */
  firstSeenAt: number
  /** Latest expiresAt of that key's claims seen here; the entry lapses after it. */
  until: number
}

/** What a node without a ledger entry may already hold (records stored before the ledger existed). */
export type LedgerFallback = (
  name: string,
) => Promise<{ publicKey: Uint8Array; expiresAt: number } | undefined>

export interface NameLedgerInit {
  datastore: Datastore
  fallback?: LedgerFallback
  /**
   * Entries kept in memory for the synchronous `peek` (the DHT selector is synchronous).
   * @default 10000
   */
  cacheSize?: number
  /**
   * Datastore key prefix of the entries. The LAN name table keeps its own
   * ledger (lan-name-table.ts), so a LAN-only claim never counts as a
   * sighting for the overlay's DHT.
   * @default '/kaiwa/names/first-seen'
   */
  prefix?: string
}

const PREFIX = '/kaiwa/names/first-seen'

type WireEntry = { k: Uint8Array; t: number; u: number }

export class NameLedger {
  private readonly cache = new Map<string, LedgerEntry | null>()
  private readonly cacheSize: number
  private readonly prefix: string

  constructor(private readonly init: NameLedgerInit) {
    this.cacheSize = init.cacheSize ?? 10_000
    this.prefix = init.prefix ?? PREFIX
  }

  /** The entry for `name`, live or lapsed; loads it (or the fallback) into the cache. */
  async get(name: string): Promise<LedgerEntry | undefined> {
    const cached = this.cache.get(name)
    if (cached !== undefined) return cached ?? undefined
    let entry = await this.load(name)
    if (entry === undefined && this.init.fallback !== undefined) {
      const held = await this.init.fallback(name).catch(() => undefined)
      if (held !== undefined) {
        // Seen before the ledger existed: we do not know when, only that it is held.
        entry = { publicKey: held.publicKey, firstSeenAt: 0, until: held.expiresAt }
      }
    }
    this.remember(name, entry ?? null)
    return entry
  }

  /** Cached entry only (no I/O), for the synchronous DHT selector. */
  peek(name: string): LedgerEntry | undefined {
    return this.cache.get(name) ?? undefined
  }

  /** The key holding `name` at `now` as far as this node saw, if its claim has not lapsed. */
  async holder(name: string, now: number): Promise<Uint8Array | undefined> {
    const e = await this.get(name)
    return e !== undefined && e.until > now ? e.publicKey : undefined
  }

  /** Like holder(), from the cache only. */
  peekHolder(name: string, now: number): Uint8Array | undefined {
    const e = this.peek(name)
    return e !== undefined && e.until > now ? e.publicKey : undefined
  }

  /**
   * Record that this node accepted `record` for its name at `now`. A lapsed
   * entry, or none, starts a new first sighting; the same key extends `until`;
   * another key while the entry is live changes nothing (the caller refused it).
   */
  async observe(record: ContactRecord, now: number): Promise<void> {
    const e = await this.get(record.name)
    let next: LedgerEntry
    if (e === undefined || e.until <= now) {
      next = { publicKey: record.publicKey, firstSeenAt: now, until: record.expiresAt }
    } else if (equals(e.publicKey, record.publicKey)) {
      if (record.expiresAt <= e.until && e.firstSeenAt !== 0) return
      next = { ...e, until: Math.max(e.until, record.expiresAt) }
    } else {
      return
    }
    const wire: WireEntry = { k: next.publicKey, t: next.firstSeenAt, u: next.until }
    await this.init.datastore.put(this.keyFor(record.name), encode(wire))
    this.remember(record.name, next)
  }

  private async load(name: string): Promise<LedgerEntry | undefined> {
    let raw: Uint8Array
    try {
      raw = await this.init.datastore.get(this.keyFor(name))
    } catch {
      return undefined
    }
    try {
      const w = decode(raw, STRICT_DECODE) as Partial<WireEntry>
      if (!(w.k instanceof Uint8Array) || typeof w.t !== 'number' || typeof w.u !== 'number') {
        return undefined
      }
      return { publicKey: w.k, firstSeenAt: w.t, until: w.u }
    } catch {
      // A corrupt entry is treated as absent; the next accepted claim rewrites it.
      return undefined
    }
  }

  private keyFor(name: string): Key {
    // User IDs are [a-z0-9._-] (user-id.ts), safe as one datastore key segment.
    return new Key(`${this.prefix}/${name}`)
  }

  private remember(name: string, entry: LedgerEntry | null): void {
    this.cache.delete(name)
    this.cache.set(name, entry)
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
  }
}
