/**
 * The lexical layer of the SIP header grammar (RFC 3261 §25.1): character-class tables, scanners
 * that stop at the first character outside a class, LWS trimming and quoted strings. Used by the
 * URI, name-addr and Via parsers (sip-uri.ts) and the message parser; every scanner here either
 * returns an index or throws SipUriError, never backtracks.
 */
import { KaiwaError } from '../errors.js'

/** Bad syntax in a URI, name-addr, parameter list or Via value. */
export class SipUriError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'SipUriError'
  }
}

// ---- character classes (RFC 3261 §25.1) ----
export const TOKEN = 1
export const USER = 2 // unreserved / user-unreserved (escapes handled separately)
export const PASS = 4
export const PARAM = 8 // paramchar
export const HNV = 16 // hname / hvalue chars
export const HOST = 32
export const GENVAL = 64 // gen-value: token / host (incl. IPv6 ':' '[' ']')
const CLASS = new Uint8Array(128)
function mark(chars: string, flags: number): void {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)]! |= flags
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
mark(ALNUM, TOKEN | USER | PASS | PARAM | HNV | HOST | GENVAL)
mark("-_.!~*'()", USER | PASS | PARAM | HNV) // unreserved mark
mark("-.!%*_+`'~", TOKEN | GENVAL)
mark('&=+$,;?/', USER) // user-unreserved
mark('&=+$,', PASS)
mark('[]/:&+$', PARAM) // param-unreserved
mark('[]/?:+$', HNV) // hnv-unreserved
mark('-.', HOST)
mark('[]:', GENVAL)

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

/** Index of the first char in [i, end) not in `cls`. */
export function span(s: string, i: number, end: number, cls: number): number {
  while (i < end) {
    const c = s.charCodeAt(i)
    if (c >= 128 || (CLASS[c]! & cls) === 0) break
    i++
  }
  return i
}

/** Like span, but also accepts %HH escapes (and rejects a bare '%'). */
export function spanEscaped(s: string, i: number, end: number, cls: number): number {
  while (i < end) {
    const c = s.charCodeAt(i)
    if (c === 37) {
      if (i + 2 >= end || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
        throw new SipUriError(`bad %-escape at offset ${i} in ${JSON.stringify(s)}`)
      }
      i += 3
      continue
    }
    if (c >= 128 || (CLASS[c]! & cls) === 0) break
    i++
  }
  return i
}

export function isToken(s: string): boolean {
  return s.length > 0 && span(s, 0, s.length, TOKEN) === s.length
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9
}

/** Trim SP/HT only (LWS, §25.1); String#trim would also eat U+FEFF and other Unicode spaces. */
export function trimWs(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && isWs(s.charCodeAt(a))) a++
  while (b > a && isWs(s.charCodeAt(b - 1))) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++
  return i
}

export function unexpected(s: string, i: number, what: string): SipUriError {
  const ch = s[i]
  if (ch === undefined) return new SipUriError(`${what}: unexpected end of ${JSON.stringify(s)}`)
  const desc = ch === ' ' || ch === '\t' ? 'embedded whitespace' : `character ${JSON.stringify(ch)}`
  return new SipUriError(`${what}: ${desc} at offset ${i} in ${JSON.stringify(s)}`)
}

/** End index (after the closing quote) of the quoted-string starting at s[i] === '"'. */
export function quotedEnd(s: string, i: number): number {
  let j = i + 1
  while (j < s.length) {
    const c = s.charCodeAt(j)
    if (c === 92)
      j += 2 // quoted-pair
    else if (c === 34) return j + 1
    else j++
  }
  throw new SipUriError(`unterminated quoted string in ${JSON.stringify(s)}`)
}

/** Remove the quotes and quoted-pair backslashes of a quoted-string (§25.1). */
export function unquote(q: string): string {
  if (q.length < 2 || q.charCodeAt(0) !== 34) return q
  return q.slice(1, -1).replace(/\\([\s\S])/g, '$1')
}
