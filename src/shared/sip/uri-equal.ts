/**
 * SIP URI equality (RFC 3261 §19.1.4), as a registrar matches a Contact
 * (§10.3 step 6): scheme, user and password compared case-sensitively after
 * unescaping, host case-insensitively, ports equal (absent only equals
 * absent); a uri-parameter in both URIs must match (case-insensitively);
 * `user`, `ttl`, `method` and `maddr` (and `transport`, which has no default
 * here) must match even if only one URI has them; any other parameter in only
 * one URI is ignored. So sip.js's INVITE Contact, which adds `;ob` (RFC 5626
 * §5.4) to the Contact it registered, is the same contact.
 */
import { parseSipUri } from './sip-uri.js'
import type { SipUri } from './sip-uri.js'

const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport']

function unescape(s: string | undefined): string | undefined {
  if (s == null) return undefined
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function parse(uri: string): SipUri | undefined {
  try {
    const u = parseSipUri(uri.trim())
    return u.kind === 'sip' ? u : undefined
  } catch {
    return undefined
  }
}

export function sameSipUri(a: string, b: string): boolean {
  const x = parse(a)
  const y = parse(b)
  if (x == null || y == null) return a.trim().toLowerCase() === b.trim().toLowerCase()
  if (x.scheme !== y.scheme) return false
  if (unescape(x.user) !== unescape(y.user) || unescape(x.password) !== unescape(y.password))
    return false
  if (x.host.toLowerCase() !== y.host.toLowerCase() || x.port !== y.port) return false
  const lower = (v: string | null | undefined) => (v == null ? v : v.toLowerCase())
  for (const [k, v] of x.params) {
    const name = k.toLowerCase()
    const other = [...y.params].find(([n]) => n.toLowerCase() === name)
    if (other == null) {
      if (MUST_MATCH.includes(name)) return false
      continue
    }
    if (lower(v) !== lower(other[1])) return false
  }
  for (const [k] of y.params) {
    const name = k.toLowerCase()
    if (MUST_MATCH.includes(name) && ![...x.params.keys()].some((n) => n.toLowerCase() === name))
      return false
  }
  return true
}
