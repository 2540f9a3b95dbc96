/**
 * The conference a group-call INVITE or roster update belongs to, carried in
 * one header field on ordinary SIP requests (pure; see call/group-mesh.ts for how
 * the mesh uses it):
 *
 *   X-Kaiwa-Conference: 3f9c0a7e5b1d44c8a2e6f0b9d3c7a1e4; members=alice,bob,carol
 *
 * The ID is 128 random bits (hex): unguessable, so only someone who was told
 * it by a member can name the conference. `members` lists the user IDs of
 * everyone in the call (the sender included), in no particular order. A
 * header that does not parse is ignored: the request is then an ordinary
 * one-to-one call (it rings), never auto-accepted.
 */
import { isValidUserId } from '../../shared/user-id.js'

export const CONFERENCE_HEADER = 'X-Kaiwa-Conference'
/** Audio group calls: up to 5 people (issue 14 §3), a full mesh of 10 pairs. */
export const MAX_MEMBERS = 5
/** With video: up to 4 people (each sends its camera to 3 others). */
export const MAX_VIDEO_MEMBERS = 4

export interface Conference {
  id: string
  /** User IDs of everyone in the call, the sender included. */
  members: string[]
}

const ID_RE = /^[0-9a-f]{32}$/

/** A fresh conference ID: 128 bits from the platform's CSPRNG. */
export function newConferenceId(random: (b: Uint8Array) => Uint8Array = defaultRandom): string {
  return [...random(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')
}

function defaultRandom(b: Uint8Array): Uint8Array {
  return crypto.getRandomValues(b)
}

export function isConferenceId(id: string): boolean {
  return ID_RE.test(id)
}

/** The header value for `c` (members sorted and deduplicated). */
export function formatConference(c: Conference): string {
  if (!isConferenceId(c.id)) throw new Error(`not a conference ID: ${c.id}`)
  const members = [...new Set(c.members)].sort()
  for (const m of members) if (!isValidUserId(m)) throw new Error(`not a user ID: ${m}`)
  return `${c.id}; members=${members.join(',')}`
}

/** The header line for `c`, as sip.js's extraHeaders take it. */
export function conferenceHeaderLine(c: Conference): string {
  return `${CONFERENCE_HEADER}: ${formatConference(c)}`
}

/**
 * Parse a header value; undefined when absent or malformed (a bad ID, a
 * member that is not a user ID, more members than a group call takes).
 */
export function parseConference(value: string | undefined | null): Conference | undefined {
  if (value == null) return undefined
  const m = /^\s*([0-9a-f]{32})\s*;\s*members=([^;\s]+)\s*$/.exec(value)
  if (m == null) return undefined
  const members = [...new Set(m[2]!.split(','))]
  if (members.length === 0 || members.length > MAX_MEMBERS) return undefined
  if (!members.every(isValidUserId)) return undefined
  return { id: m[1]!, members: members.sort() }
}
