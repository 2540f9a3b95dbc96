/**
 * `kaiwa:` links: `kaiwa:alice` or `kaiwa:alice#abcd-efgh-ijkl-mnop`, the
 * user ID and, optionally, its key fingerprint (README: users share
 * `name#fingerprint` to skip trust on first use). They reach the app as a
 * command-line argument (Windows, Linux, a second instance) or an `open-url`
 * event (macOS), and go to the renderer as a `link` event; the renderer
 * offers to add the contact with `contactAdd {name, fingerprint}`.
 */
import { isInviteLink } from '../../shared/invite/invite-link.js'
import { normalizeUserId } from '../../shared/user-id.js'

export const LINK_SCHEME = 'kaiwa'

export interface KaiwaLink {
  name: string
  /** Canonical `xxxx-xxxx-xxxx-xxxx` (base32 of 80 bits, see contact-record.ts). */
  fingerprint?: string
  /** The whole link when it is an invite; the renderer offers to join with it. */
  invite?: string
}

/** Links are short (an invite, with its supernode addresses, up to a few KiB); longer is not ours. */
const MAX_LINK_CHARS = 4096
const FINGERPRINT_RE = /^[a-z2-7]{16}$/

/** The launch flag autostart uses: start in the tray, without a window. */
export const HIDDEN_FLAG = '--hidden'

function canonicalFingerprint(text: string): string | undefined {
  const compact = text.trim().toLowerCase().replace(/-/g, '')
  if (!FINGERPRINT_RE.test(compact)) return undefined
  return (compact.match(/.{4}/g) ?? []).join('-')
}

/**
 * Parse a `kaiwa:` link, or undefined if it is not a valid one. Accepts
 * `kaiwa://alice` too (some launchers add the slashes) and a percent-encoded
 * `#`. A link that names a fingerprint we cannot read is refused as a whole,
 * rather than quietly falling back to trust on first use.
 */
export function parseKaiwaLink(text: unknown): KaiwaLink | undefined {
  if (typeof text !== 'string' || text.length > MAX_LINK_CHARS) return undefined
  const m = /^kaiwa:(?:\/\/)?(.*)$/is.exec(text.trim())
  if (m == null) return undefined
  let rest: string
  try {
    rest = decodeURIComponent(m[1]!)
  } catch {
    return undefined
  }
  const hash = rest.indexOf('#')
  const namePart = (hash === -1 ? rest : rest.slice(0, hash))
    .replace(/\?.*$/s, '')
    .replace(/\/$/, '')
  let name: string
  try {
    name = normalizeUserId(namePart)
  } catch {
    return undefined
  }
  const invite = isInviteLink(text) ? { invite: text.trim() } : {}
  if (hash === -1) return { name, ...invite }
  const fingerprint = canonicalFingerprint(rest.slice(hash + 1))
  return fingerprint === undefined ? undefined : { name, fingerprint, ...invite }
}

/** The first valid `kaiwa:` link among command-line arguments. */
export function findKaiwaLink(argv: readonly string[]): KaiwaLink | undefined {
  for (const arg of argv) {
    if (!/^kaiwa:/i.test(arg)) continue
    const link = parseKaiwaLink(arg)
    if (link !== undefined) return link
  }
  return undefined
}

/** Started by autostart (or by hand) to sit in the tray without opening the window. */
export function isHiddenLaunch(argv: readonly string[]): boolean {
  return argv.includes(HIDDEN_FLAG)
}
