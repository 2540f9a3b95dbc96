/**
 * A storing node that does not hold a name asks the other nodes closest to the
 * name's key what they hold before it accepts a first claim. Without this, a
 * supernode that joined after alice published would take an attacker's
 * "alice" as the first claim it ever saw, and then serve it.
 *
 * Rule: among the reachable closest nodes (those that answered at all, with or
 * without a record), if a strict majority holds a live claim under one other
 * account key, the incoming claim is refused and that key's best record is the
 * one to store instead. Anything short of a majority is not enough to refuse:
 * otherwise a single lying neighbour could block every new name (squatting by
 * denial). Pure, so the decision is unit-tested apart from the DHT.
 */
import { equals } from 'uint8arrays'
import type { ContactRecord } from './contact-record.js'
import { tallyClaims, type KeyTally } from './claim-ranking.js'

export interface NeighbourHolding {
  /** Peer id string of the neighbour that answered. */
  peer: string
  /** What it holds for the name (already validated), or nothing. */
  record?: ContactRecord
}

export type FirstClaimVerdict =
  | { accept: true; responders: number }
  | {
      accept: false
      responders: number
      /** The majority key and how many responders hold it. */
      holder: KeyTally
      /** The majority key's best record, to store instead of the refused one. */
      record: ContactRecord
    }

export function judgeFirstClaim(
  incoming: ContactRecord,
  neighbours: readonly NeighbourHolding[],
  now: number,
): FirstClaimVerdict {
  const responders = neighbours.length
  const held = neighbours
    .map((n) => n.record)
    .filter((r): r is ContactRecord => r !== undefined && r.expiresAt > now)
  const others = held.filter((r) => !equals(r.publicKey, incoming.publicKey))
  const top = tallyClaims(others, now)[0]
  if (top === undefined || top.count * 2 <= responders) return { accept: true, responders }
  return { accept: false, responders, holder: top, record: others[top.best]! }
}
