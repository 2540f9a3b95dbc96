/**
 * How a group call's full mesh is set up (pure; group-call.ts runs it). Every
 * pair of members has its own SIP dialog and its own peer connection (own
 * ICE: direct, or relayed through a supernode's TURN), so no server mixes
 * media and one member can be relayed while the others connect directly.
 *
 * 1. A member in a call presses Add to call and picks C. If the call was
 *    one-to-one it becomes a conference: a fresh random ID (conference-id.ts).
 *    The member sends the new roster (X-Kaiwa-Conference with C added) to
 *    every peer it has a dialog with, as an in-dialog INFO (RFC 6086 §4.2),
 *    then INVITEs C with the same header. C's phone rings as for any call.
 * 2. C answers. C then INVITEs every member listed in the header that it has
 *    no dialog with yet (the newcomer calls everyone), with the same header.
 * 3. A member auto-accepts an INVITE only when all of these hold
 *    (`admit`): the header names the conference it is in; its node verified
 *    the sender (RFC 8224 Identity, X-Kaiwa-Identity set and not `mismatch`:
 *    see src/overlay/sip/sender-identity.ts); and the sender is on the
 *    member's own roster, which only members' INFOs over established dialogs
 *    and its own Add to call change. An INVITE from someone not (yet) on the
 *    roster waits a few seconds for the roster update that may be in flight,
 *    then is refused 403. Knowing the ID alone admits no one.
 * 4. Glare: if two members INVITE each other at once, the dialog placed by
 *    the lower user ID wins (the higher one cancels its own INVITE).
 * 5. Leaving is a BYE to every peer; a member whose dialog with X ends drops
 *    X from its roster. The call ends for a member when it has no peers left.
 */
import type { SenderState } from '../../shared/identity/verification-state.js'
import { MAX_MEMBERS } from '../sip/conference-id.js'
import type { Conference } from '../sip/conference-id.js'

/** One pair's dialog as the mesh sees it. */
export type LegState = 'outgoing' | 'incoming' | 'active'

export interface MeshState {
  id: string
  self: string
  members: ReadonlySet<string>
  legs: ReadonlyMap<string, LegState>
}

export type Admission =
  /** Not for the conference we are in (or we are in none): an ordinary incoming call. */
  | { kind: 'not-ours' }
  /** Answer it now; `cancelOwn`: first cancel our own INVITE to the sender (glare). */
  | { kind: 'accept'; cancelOwn: boolean }
  /** The sender is not on our roster yet: wait for a member's roster update. */
  | { kind: 'wait' }
  | { kind: 'refuse'; status: 403 | 486; why: string }

/** What to do with an INVITE from `from` carrying `conf` (step 3 and 4 above). */
export function admit(
  state: MeshState | undefined,
  from: string,
  conf: Conference | undefined,
  verification: SenderState | undefined,
): Admission {
  if (state == null || conf == null || conf.id !== state.id) return { kind: 'not-ours' }
  if (verification == null || verification.state === 'mismatch')
    return { kind: 'refuse', status: 403, why: 'the sender identity is not verified' }
  if (from === state.self) return { kind: 'refuse', status: 403, why: 'an INVITE from ourselves' }
  if (!state.members.has(from)) return { kind: 'wait' }
  const leg = state.legs.get(from)
  if (leg == null) return { kind: 'accept', cancelOwn: false }
  if (leg === 'outgoing' && from < state.self) return { kind: 'accept', cancelOwn: true }
  return { kind: 'refuse', status: 486, why: 'already connected to this member' }
}

/** Step 2: the members a newcomer INVITEs once it answered `inviter`. */
export function peersToInvite(state: MeshState, inviter: string): string[] {
  return [...state.members]
    .filter((m) => m !== state.self && m !== inviter && !state.legs.has(m))
    .sort()
}

/**
 * A roster update from a member (step 1): the members after it. Additive (a
 * member leaves by hanging up, which every peer sees as its dialog's end);
 * an update that would make the call larger than a group call takes is ignored.
 */
export function mergeRoster(
  members: ReadonlySet<string>,
  roster: Conference,
  self: string,
): Set<string> {
  const next = new Set([...members, ...roster.members, self])
  return next.size > MAX_MEMBERS ? new Set([...members, self]) : next
}

export type AddProblem = 'full' | 'member' | 'self'

/** Why `user` cannot be added now, or undefined. */
export function addProblem(
  members: ReadonlySet<string>,
  self: string,
  user: string,
): AddProblem | undefined {
  if (user === self) return 'self'
  if (members.has(user)) return 'member'
  if (members.size >= MAX_MEMBERS) return 'full'
  return undefined
}
