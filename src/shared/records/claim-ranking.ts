/**
 * Which of several conflicting claims for one name to believe.
 *
 * Nothing here looks at `claimedAt`: the claimant writes it, so ranking by it
 * let anyone backdate a claim (claimedAt = 1) and win on every node that had
 * not yet stored the real owner's record. Claims are ranked by what the
 * deciding node itself observed instead:
 *
 *   1. live claims beat expired ones;
 *   2. the key this node saw first for the name (its persisted first-seen
 *      ledger), when the caller passes one;
 *   3. the key held by the most responders (each record passed in stands for
 *      one responder; callers deduplicate by peer);
 *   4. a deterministic tie-break on the key's fingerprint, so every node picks
 *      the same one. A claimant can grind keys to win this step, which is why a
 *      tie is never silent: callers report it as a conflict (see `isConflict`).
 *
 * Within the chosen key the highest seq wins (then v2 over v1, then the
 * smaller signature, only so that the choice is a function of the input).
 */
import { compare, equals } from 'uint8arrays'
import { fingerprint, type ContactRecord } from './contact-record.js'

export interface KeyTally {
  publicKey: Uint8Array
  /** fingerprint(publicKey), as people compare it out of band. */
  fingerprint: string
  /** Responders (records passed in) holding a claim under this key. */
  count: number
  /** Whether this key holds at least one live claim. */
  live: boolean
  /** Index (into the input) of this key's best record. */
  best: number
}

export interface RankOptions {
  /** The key this node observed first for the name (first-seen ledger); it ranks above any count. */
  preferKey?: Uint8Array
}

const isLiveAt = (r: ContactRecord, now: number): boolean => r.expiresAt > now

/** Best-first within one key: higher seq, then v2 (stamped) over v1, then smaller signature. */
function compareSameKey(a: ContactRecord, b: ContactRecord, now: number): number {
  const liveA = isLiveAt(a, now)
  if (liveA !== isLiveAt(b, now)) return liveA ? -1 : 1
  if (a.seq !== b.seq) return b.seq - a.seq
  if (a.v !== b.v) return b.v - a.v
  return compare(a.signature, b.signature)
}

/**
 * One entry per distinct account key among `records`, best-first by the rules
 * in the header. Empty input gives an empty list.
 */
export function tallyClaims(
  records: readonly ContactRecord[],
  now: number,
  options: RankOptions = {},
): KeyTally[] {
  const byKey: KeyTally[] = []
  records.forEach((r, i) => {
    let t = byKey.find((k) => equals(k.publicKey, r.publicKey))
    if (t === undefined) {
      t = {
        publicKey: r.publicKey,
        fingerprint: fingerprint(r.publicKey),
        count: 0,
        live: false,
        best: i,
      }
      byKey.push(t)
    }
    t.count++
    t.live ||= isLiveAt(r, now)
    if (compareSameKey(r, records[t.best]!, now) < 0) t.best = i
  })
  const prefer = options.preferKey
  return byKey.sort((a, b) => {
    if (a.live !== b.live) return a.live ? -1 : 1
    if (prefer !== undefined) {
      const pa = equals(a.publicKey, prefer)
      const pb = equals(b.publicKey, prefer)
      if (pa !== pb) return pa ? -1 : 1
    }
    if (a.count !== b.count) return b.count - a.count
    return a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0
  })
}

/**
 * Index of the record to believe among `records` (see the header). Throws
 * RangeError if `records` is empty.
 */
export function chooseClaim(
  records: readonly ContactRecord[],
  now: number,
  options: RankOptions = {},
): number {
  const first = tallyClaims(records, now, options)[0]
  if (first === undefined) throw new RangeError('no records to choose from')
  return first.best
}

/** True when more than one account key holds a live claim: the name is contested. */
export function isConflict(tallies: readonly KeyTally[]): boolean {
  return tallies.filter((t) => t.live).length > 1
}
