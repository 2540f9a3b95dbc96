/**
 * Monte Carlo model of a name hijack, for docs/security.md and
 * bench/name-hijack-sim.mjs. Pure and seeded: the same options give the same
 * figures on every machine.
 *
 * The model. The name's key has K closest nodes (kad-dht's replication set).
 * A share `adversarial` of them is the attacker's; they hold and serve the
 * attacker's claim. Alice claimed the name first, so every honest node that
 * was in the set then holds her record. A share `fresh` of the honest nodes
 * joined after she published (churn) and holds nothing; the attacker pushes
 * its claim to them first. A fresh node without the neighbour check accepts
 * it. With the check it asks `checkResponders` random others of the K
 * (first-claim-verdict.ts) and refuses if a strict majority holds alice's key;
 * fresh nodes are visited in random order, so a fresh node that accepted
 * earlier answers later checks with the attacker's key.
 *
 * A reader then asks the K nodes in random order (a kad query reaches the
 * closest set in no useful order) and, as names/quorum-read.ts does, stops
 * when the first `agree` agree, else reads `max` and follows the majority
 * (ties go against alice, the pessimistic choice). "Today" is the reader
 * that believed the first answer. We count how often the reader routes to the
 * attacker, and how often it does so with no conflict visible, i.e. a TOFU
 * pin would silently take the attacker's key.
 */

export interface HijackSimOptions {
  /** Closest nodes that hold a name (kad-dht K). @default 20 */
  k?: number
  /** Attacker's share of the K closest, 0..1. */
  adversarial: number
  /** Share of the honest K that joined after the owner published. @default 0.25 */
  fresh?: number
  /** Fresh nodes run the first-claim neighbour check. */
  neighbourCheck: boolean
  /** Responders a fresh node's check reads. @default 5 */
  checkResponders?: number
  /** Reader: 'first' believes the first answer (before this change); 'quorum' reads agree/max. */
  reader: 'first' | 'quorum'
  /** @default 3 */
  agree?: number
  /** @default 5 */
  max?: number
  /** @default 20000 */
  trials?: number
  /** @default 1 */
  seed?: number
}

export interface HijackSimResult {
  /** Reader routed to the attacker's key. */
  hijacked: number
  /** Reader routed to the attacker's key and saw no conflict (a TOFU pin would take it). */
  silent: number
  /** Reader saw a conflict (either key routed). */
  conflictSeen: number
  trials: number
}

const ALICE = 0
const ATTACKER = 1
const NONE = -1

/** mulberry32: small, fast, good enough for a simulation, and seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

/** One trial: what each of the K nodes holds after the attack. */
function holdings(o: Required<HijackSimOptions>, rnd: () => number): number[] {
  const bad = Math.round(o.adversarial * o.k)
  const honest = o.k - bad
  const fresh = Math.round(o.fresh * honest)
  // index layout: [attacker..., fresh honest..., old honest...]
  const held: number[] = []
  for (let i = 0; i < bad; i++) held.push(ATTACKER)
  for (let i = 0; i < fresh; i++) held.push(NONE)
  for (let i = 0; i < honest - fresh; i++) held.push(ALICE)
  const freshIdx = shuffle(
    Array.from({ length: fresh }, (_, i) => bad + i),
    rnd,
  )
  for (const f of freshIdx) {
    if (!o.neighbourCheck) {
      held[f] = ATTACKER
      continue
    }
    const others = shuffle(
      held.map((_, i) => i).filter((i) => i !== f),
      rnd,
    ).slice(0, o.checkResponders)
    const forAlice = others.filter((i) => held[i] === ALICE).length
    // Refused when a strict majority holds alice; the refusing node then stores alice's record.
    held[f] = forAlice * 2 > others.length ? ALICE : ATTACKER
  }
  return held
}

function read(o: Required<HijackSimOptions>, held: number[], rnd: () => number) {
  const order = shuffle(
    held.filter((h) => h !== NONE),
    rnd,
  )
  if (order.length === 0) return { key: NONE, conflict: false }
  if (o.reader === 'first') return { key: order[0]!, conflict: false }
  const first = order.slice(0, o.agree)
  if (first.length === o.agree && first.every((h) => h === first[0])) {
    return { key: first[0]!, conflict: false }
  }
  const seen = order.slice(0, o.max)
  const alice = seen.filter((h) => h === ALICE).length
  const attacker = seen.length - alice
  return { key: alice > attacker ? ALICE : ATTACKER, conflict: alice > 0 && attacker > 0 }
}

export function simulateHijack(options: HijackSimOptions): HijackSimResult {
  const o: Required<HijackSimOptions> = {
    k: 20,
    fresh: 0.25,
    checkResponders: 5,
    agree: 3,
    max: 5,
    trials: 20_000,
    seed: 1,
    ...options,
  }
  if (!(o.adversarial >= 0 && o.adversarial <= 1) || !(o.fresh >= 0 && o.fresh <= 1)) {
    throw new RangeError('adversarial and fresh are shares between 0 and 1')
  }
  if (o.k < 1 || o.agree < 1 || o.max < o.agree || o.trials < 1) {
    throw new RangeError('need k ≥ 1, 1 ≤ agree ≤ max and trials ≥ 1')
  }
  const rnd = prng(o.seed)
  let hijacked = 0
  let silent = 0
  let conflictSeen = 0
  for (let t = 0; t < o.trials; t++) {
    const r = read(o, holdings(o, rnd), rnd)
    if (r.conflict) conflictSeen++
    if (r.key === ATTACKER) {
      hijacked++
      if (!r.conflict) silent++
    }
  }
  return {
    hijacked: hijacked / o.trials,
    silent: silent / o.trials,
    conflictSeen: conflictSeen / o.trials,
    trials: o.trials,
  }
}
