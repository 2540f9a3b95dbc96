/**
 * The two lookups the simulation compares (issue 16 §5), counted in round
 * trips and messages.
 *
 * Today (kad-dht): a client asks the supernodes it knows, each answer names
 * the K closest nodes its table holds, and the client asks the α closest it
 * has not asked yet, round after round (Kademlia's iterative lookup, §2.3).
 * Kaiwa's quorum read (src/overlay/names/quorum-read.ts) stops once `agree`
 * record holders have answered; a record lives on the K supernodes closest
 * to its key. Every answer of a round arrives in one round trip: the figure
 * is the depth of the lookup, not its message count.
 *
 * One hop (Gupta, Liskov and Rodrigues, "One Hop Lookups for Peer-to-Peer
 * Overlays", HotOS 2003): every supernode knows every other supernode, so a
 * client asks its supernode (one round trip), which asks the `agree` closest
 * holders at once (the second). A table entry for a supernode that has left,
 * before the news reached this table, costs a timeout and a further wave.
 */
import type { Prng } from '../election/prng.js'
import { closestOf } from './xor-space.js'
import type { XorSpace } from './xor-space.js'

export interface LookupResult {
  roundTrips: number
  messages: number
  ok: boolean
}

export interface KadLookupOptions {
  /** Queries in flight per round. kad-dht's default α is 10 (constants.ts ALPHA). */
  alpha: number
  /** Record holders that must answer (quorum-read.ts `agree`). */
  agree: number
  /** Give up after this many rounds. */
  maxRounds?: number
}

/** A client's iterative lookup of `key`, starting from the supernodes in `start`. */
export function kadLookup(
  space: XorSpace,
  key: number,
  start: readonly number[],
  opts: KadLookupOptions,
): LookupResult {
  const holders = new Set(space.closest(key, space.k))
  const known = new Set(start)
  const queried = new Set<number>()
  let records = 0
  let messages = 0
  const maxRounds = opts.maxRounds ?? 20
  for (let round = 1; round <= maxRounds; round++) {
    const fresh = Array.from(known).filter((id) => !queried.has(id))
    const ask = closestOf(fresh, key, opts.alpha)
    if (ask.length === 0) return { roundTrips: round - 1, messages, ok: false }
    for (const peer of ask) {
      queried.add(peer)
      messages++
      if (holders.has(peer)) records++
      for (const p of closestOf(space.table(peer), key, space.k)) known.add(p)
    }
    if (records >= opts.agree) return { roundTrips: round, messages, ok: true }
  }
  return { roundTrips: maxRounds, messages, ok: false }
}

export interface OneHopOptions {
  agree: number
  /** Chance that a table entry names a supernode that has already left. */
  staleEntry: number
}

/** A client's lookup through its supernode, which knows every supernode. */
export function oneHopLookup(
  space: XorSpace,
  key: number,
  prng: Prng,
  opts: OneHopOptions,
): LookupResult {
  const holders = space.closest(key, space.k)
  let roundTrips = 1 // client → its supernode
  let messages = 1
  let next = 0
  let answered = 0
  while (answered < opts.agree) {
    if (next >= holders.length) return { roundTrips, messages, ok: false }
    const wave = holders.slice(next, next + opts.agree - answered)
    next += wave.length
    roundTrips++
    messages += wave.length
    for (let i = 0; i < wave.length; i++) if (prng.next() >= opts.staleEntry) answered++
  }
  return { roundTrips, messages, ok: true }
}
