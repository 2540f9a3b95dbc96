/**
 * How a verified sender compares with what the user already trusts, as the
 * receiving node tells its local user agents (the UI's sip.js, phones) in a
 * header it sets itself after verifying the request's Identity (RFC 8224
 * §6.2) and after removing any copy the request arrived with:
 *
 *   X-Kaiwa-Identity: verified; fp=abcd-efgh-ijkl-mnop
 *   X-Kaiwa-Identity: new; fp=abcd-efgh-ijkl-mnop; conflict
 *
 * Pure: used by the overlay (writing) and the renderer (reading).
 */

/** The header field the receiving node sets on requests it hands to local UAs. */
export const IDENTITY_STATE_HEADER = 'X-Kaiwa-Identity'

/**
 * verified: the sender's account key is the key pinned for that contact;
 * new: no key is pinned for the name (first contact: compare the fingerprint
 * out of band); mismatch: a key is pinned and this is another one.
 */
export type VerificationState = 'verified' | 'new' | 'mismatch'

export interface SenderState {
  state: VerificationState
  /** Fingerprint of the sender's account key (contact-record.ts `fingerprint()`). */
  fingerprint: string
  /** The directory saw rival keys claiming the name (user-directory `conflict`). */
  conflict: boolean
}

/** The IDENTITY_STATE_HEADER value for `s`. */
export function formatState(s: SenderState): string {
  return `${s.state}; fp=${s.fingerprint}${s.conflict ? '; conflict' : ''}`
}

const STATE_RE =
  /^\s*(verified|new|mismatch)\s*;\s*fp=([a-z2-7]{4}(?:-[a-z2-7]{4}){3})\s*(;\s*conflict\s*)?$/

/** Parse an IDENTITY_STATE_HEADER value; undefined when absent or malformed. */
export function parseState(value: string | undefined | null): SenderState | undefined {
  if (value == null) return undefined
  const m = STATE_RE.exec(value)
  if (m == null) return undefined
  return { state: m[1] as VerificationState, fingerprint: m[2]!, conflict: m[3] != null }
}

/**
 * The conversation / call-log peer for a sender whose key is not the pinned
 * one: `alice (unverified key ABCD-…)`. It is not a user ID, so it never
 * merges into the pinned contact's thread or call history.
 */
export function unverifiedPeer(user: string, fingerprint: string): string {
  return `${user} (unverified key ${fingerprint})`
}

const UNVERIFIED_PEER_RE =
  /^([a-z0-9._-]{1,32}) \(unverified key ([a-z2-7]{4}(?:-[a-z2-7]{4}){3})\)$/

/** The parts of an `unverifiedPeer`, or undefined for anything else. */
export function parseUnverifiedPeer(
  peer: string,
): { user: string; fingerprint: string } | undefined {
  const m = UNVERIFIED_PEER_RE.exec(peer)
  return m == null ? undefined : { user: m[1]!, fingerprint: m[2]! }
}
