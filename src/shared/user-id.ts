/**
 * User IDs: the human-chosen names that key contact records in the DHT.
 *
 * The rule is deliberately narrow (ASCII letters, digits, '.', '_', '-') so a
 * name is unambiguous when read aloud or typed on a SIP keypad-style UI, is
 * safe inside a SIP URI user part and a DHT key, and cannot be spoofed with
 * look-alike Unicode characters.
 */
import { InvalidUserIdError } from './errors.js'

export const USER_ID_RULE = "user IDs are 3–32 characters of a-z, 0-9, '.', '_' or '-'"

// Inner characters may be any allowed character; the first and last may not be
// '.' or '-' (they read as punctuation and collide with path/URI syntax).
const USER_ID_RE = /^[a-z0-9_](?:[a-z0-9._-]{1,30})[a-z0-9_]$/

/** True when `s` is already a normalised, valid user ID (no trimming or case folding). */
export function isValidUserId(s: unknown): boolean {
  return typeof s === 'string' && USER_ID_RE.test(s)
}

/**
 * Normalise what a user typed into the canonical user ID: trim, NFKC (so
 * fullwidth 'ＡＬＩＣＥ' becomes 'ALICE'), then lowercase. Throws
 * InvalidUserIdError when the result does not satisfy the rule.
 */
export function normalizeUserId(input: string): string {
  if (typeof input !== 'string') throw new InvalidUserIdError(`not a string; ${USER_ID_RULE}`)
  const s = input.trim().normalize('NFKC').toLowerCase()
  if (isValidUserId(s)) return s
  const shown = JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)
  if (s.length < 3 || s.length > 32) {
    throw new InvalidUserIdError(
      `invalid user ID ${shown}: wrong length (${s.length}); ${USER_ID_RULE}`,
    )
  }
  if (/^[.-]|[.-]$/.test(s)) {
    throw new InvalidUserIdError(
      `invalid user ID ${shown}: may not start or end with '.' or '-'; ${USER_ID_RULE}`,
    )
  }
  throw new InvalidUserIdError(`invalid user ID ${shown}: ${USER_ID_RULE}`)
}
