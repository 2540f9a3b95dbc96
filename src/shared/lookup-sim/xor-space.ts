/**
 * A Kademlia key space for the lookup simulation (issue 16 §5): supernode IDs
 * as random 32-bit integers, XOR distance (Maymounkov and Mazières, §2.1), and
 * the ideal routing table of each node, built lazily.
 *
 * 32 bits instead of 256: the simulation needs about 10^4 supernodes (1 % of
 * 10^6 users), far below 2^32, and routing depends only on the top
 * log2(N) + a few bits of each ID. An ideal table holds, for every bit b, up
 * to K random nodes among those whose distance from the owner has its highest
 * set bit at b (the owner's k-bucket for b): in ID order they form one
 * contiguous range, found by binary search.
 */
import type { Prng } from '../election/prng.js'

export const ID_BITS = 32

/** XOR distance as an unsigned 32-bit integer. */
export function distance(a: number, b: number): number {
  return (a ^ b) >>> 0
}

export class XorSpace {
  /** Node IDs in ascending order. */
  readonly ids: Uint32Array
  private readonly tables = new Map<number, Uint32Array>()

  constructor(
    count: number,
    private readonly prng: Prng,
    readonly k = 20,
  ) {
    const seen = new Set<number>()
    while (seen.size < count) seen.add(prng.int(2 ** ID_BITS) >>> 0)
    this.ids = Uint32Array.from(seen).sort()
  }

  get size(): number {
    return this.ids.length
  }

  /** A random node's ID. */
  randomNode(): number {
    return this.ids[this.prng.int(this.ids.length)]!
  }

  /** The `n` nodes closest to `key` among all of them (the record's replica set). */
  closest(key: number, n: number): number[] {
    return closestOf(this.ids, key, n)
  }

  /** `owner`'s ideal routing table: up to K nodes per bucket. */
  table(owner: number): Uint32Array {
    const cached = this.tables.get(owner)
    if (cached != null) return cached
    const out: number[] = []
    for (let b = ID_BITS - 1; b >= 0; b--) {
      // Nodes sharing owner's bits above b and differing at b.
      const base = (((owner >>> b) ^ 1) * 2 ** b) >>> 0
      const lo = lowerBound(this.ids, base)
      const hi = lowerBound(this.ids, base + 2 ** b)
      const n = hi - lo
      if (n <= this.k) {
        for (let i = lo; i < hi; i++) out.push(this.ids[i]!)
      } else {
        const picked = new Set<number>()
        while (picked.size < this.k) picked.add(lo + this.prng.int(n))
        for (const i of picked) out.push(this.ids[i]!)
      }
    }
    const table = Uint32Array.from(out)
    this.tables.set(owner, table)
    return table
  }

  /** Buckets that hold at least one node in `owner`'s table (kad-dht refreshes each). */
  filledBuckets(owner: number): number {
    const seen = new Set<number>()
    for (const id of this.table(owner)) seen.add(31 - Math.clz32(distance(owner, id)))
    return seen.size
  }
}

/** The `n` IDs of `from` closest to `key`. */
export function closestOf(from: ArrayLike<number>, key: number, n: number): number[] {
  const all = Array.from(from)
  all.sort((a, b) => distance(a, key) - distance(b, key))
  return all.slice(0, n)
}

function lowerBound(sorted: Uint32Array, value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
