/**
 * `kaiwa:` links: how people hand each other their user ID, optionally with
 * the key fingerprint to skip trust on first use: `kaiwa:alice` or
 * `kaiwa:alice#abcd-efgh-ijkl-mnop`. The same text goes into the QR code.
 * Typed input is forgiving: a bare user ID, `alice#fp`, `kaiwa://alice`,
 * mixed case and whitespace are all accepted. An invite link
 * (`kaiwa:alice?invite=…#fp`, see shared/invite/invite-link.ts) read here is
 * its contact part: the query is dropped, the user and fingerprint kept.
 */
import { normalizeUserId } from '../../shared/user-id.js'

export interface KaiwaLink {
  name: string
  /** Lower case, as `fingerprint()` prints it; absent: trust on first use. */
  fingerprint?: string
}

/** Why input is not a link: the user ID part or the fingerprint part is wrong. */
export type ParsedLink =
  { ok: true; link: KaiwaLink } | { ok: false; error: 'user_id' | 'fingerprint' }

// base32 (RFC 4648, lower case) in groups of four, as contact-record.ts prints it.
const FINGERPRINT_RE = /^[a-z2-7]{4}(?:-[a-z2-7]{4}){1,15}$/

export function parseKaiwaLink(input: string): ParsedLink {
  let s = input.trim()
  const scheme = /^kaiwa:(?:\/\/)?/i.exec(s)
  if (scheme) s = s.slice(scheme[0].length)
  let fp: string | undefined
  const hash = s.indexOf('#')
  if (hash >= 0) {
    fp = s
      .slice(hash + 1)
      .trim()
      .toLowerCase()
    s = s.slice(0, hash)
  }
  // An invite's query says how to reach a network; as a contact link it is not needed.
  s = s.replace(/\?.*$/s, '').replace(/\/+$/, '')
  try {
    s = decodeURIComponent(s)
  } catch {
    // not percent-encoded: keep as typed
  }
  let name: string
  try {
    name = normalizeUserId(s)
  } catch {
    return { ok: false, error: 'user_id' }
  }
  if (fp === undefined || fp === '') return { ok: true, link: { name } }
  if (!FINGERPRINT_RE.test(fp)) return { ok: false, error: 'fingerprint' }
  return { ok: true, link: { name, fingerprint: fp } }
}

export function formatKaiwaLink(link: KaiwaLink): string {
  return `kaiwa:${link.name}${link.fingerprint ? `#${link.fingerprint}` : ''}`
}
