/**
 * SIP URI, name-addr and Via syntax (RFC 3261 §19.1, §20.10, §20.42, §25.1).
 *
 * Hand-written scanners over character-class tables rather than one big regex:
 * they are fast, report where the input went wrong, and never backtrack. Every
 * function here throws `SipUriError` on bad input; the message parser catches it
 * and turns it into a 400.
 *
 * Escapes (%HH) are validated but kept raw: `sip:%75ser@h` has user `%75ser`
 * (RFC 3261 §19.1.4 compares unescaped, but a registrar must not lose the
 * original spelling, RFC 4475 §3.1.1.3/§3.1.1.4).
 *
 * Character classes, scanners and quoted strings are in sip-lexer.ts.
 */
import {
  GENVAL,
  HNV,
  HOST,
  PARAM,
  PASS,
  SipUriError,
  TOKEN,
  USER,
  isWs,
  quotedEnd,
  skipWs,
  span,
  spanEscaped,
  trimWs,
  unexpected,
  unquote,
} from './sip-lexer.js'

/** Parameters, keyed by lower-cased name (§7.3.1: names are case-insensitive); null = no value. */
export type SipParams = Map<string, string | null>

export interface SipUri {
  kind: 'sip'
  scheme: 'sip' | 'sips'
  /** Raw user part (escapes kept). */
  user?: string
  password?: string
  /** Hostname, IPv4 address or bracketed IPv6 reference, as written. */
  host: string
  port?: number
  params: SipParams
  /** URI headers (`?name=value&...`), raw. */
  headers: Array<{ name: string; value: string }>
  raw: string
}

/** A URI of another scheme (tel:, http:, ...): kept opaque so callers can answer 416. */
export interface OtherUri {
  kind: 'other'
  scheme: string
  opaque: string
  raw: string
}

export type ParsedUri = SipUri | OtherUri

export interface NameAddr {
  displayName?: string
  uri: ParsedUri
  /** Header parameters (tag, q, expires, ...), quoted values kept with their quotes. */
  params: SipParams
  /** True when the URI was written inside <...>. */
  bracketed: boolean
}

export interface SipVia {
  protocol: string
  version: string
  transport: string
  host: string
  port?: number
  branch?: string
  params: SipParams
}

/** RFC 3261 §25.1 absoluteURI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
function isScheme(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20
    const alpha = c >= 97 && c <= 122
    if (i === 0 ? !alpha : !(alpha || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46))
      return false
  }
  return true
}

/**
 * Parse a URI (RFC 3261 §19.1.1 for sip:/sips:, §25.1 absoluteURI otherwise).
 * Throws SipUriError on embedded whitespace, missing host, bad port, bad escapes
 * or any character outside the grammar.
 */
export function parseSipUri(s: string): ParsedUri {
  const colon = s.indexOf(':')
  const scheme = colon > 0 ? s.slice(0, colon).toLowerCase() : ''
  if (!isScheme(scheme)) throw new SipUriError(`missing or bad URI scheme in ${JSON.stringify(s)}`)
  const end = s.length
  if (scheme !== 'sip' && scheme !== 'sips') {
    const opaque = s.slice(colon + 1)
    // §25.1: opaque-part / hier-part are uric characters; we only refuse what can
    // never appear in a URI (whitespace, controls, <, >, ").
    // eslint-disable-next-line no-control-regex -- controls are exactly what is refused
    if (opaque.length === 0 || /[\x00-\x20\x7f<>"]/.test(opaque))
      throw unexpected(s, colon + 1, 'bad URI')
    return { kind: 'other', scheme, opaque, raw: s }
  }
  let i = colon + 1
  let user: string | undefined
  let password: string | undefined
  // userinfo: '@' cannot appear unescaped anywhere else in a SIP URI.
  const at = s.indexOf('@', i)
  if (at >= 0) {
    const ue = spanEscaped(s, i, at, USER)
    if (ue === i) throw new SipUriError(`empty user part in ${JSON.stringify(s)}`)
    user = s.slice(i, ue)
    if (ue < at) {
      if (s.charCodeAt(ue) !== 58) throw unexpected(s, ue, 'bad user part')
      const pe = spanEscaped(s, ue + 1, at, PASS)
      if (pe !== at) throw unexpected(s, pe, 'bad password')
      password = s.slice(ue + 1, at)
    }
    i = at + 1
  }
  let host: string
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i)
    if (close < 0 || !/^\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]$/.test(s.slice(i, close + 1)))
      throw new SipUriError(`bad IPv6 reference in ${JSON.stringify(s)}`)
    host = s.slice(i, close + 1)
    i = close + 1
  } else {
    const he = span(s, i, end, HOST)
    if (he === i) throw unexpected(s, i, 'missing host')
    host = s.slice(i, he)
    i = he
  }
  let port: number | undefined
  if (s.charCodeAt(i) === 58) {
    let pe = i + 1
    while (pe < end && s.charCodeAt(pe) >= 48 && s.charCodeAt(pe) <= 57) pe++
    port = pe - i - 1 >= 1 && pe - i - 1 <= 5 ? Number(s.slice(i + 1, pe)) : NaN
    if (!(port <= 65535)) throw new SipUriError(`bad port in ${JSON.stringify(s)}`)
    i = pe
  }
  const params: SipParams = new Map()
  while (s.charCodeAt(i) === 59) {
    const ns = i + 1
    const ne = spanEscaped(s, ns, end, PARAM)
    if (ne === ns) throw unexpected(s, ns, 'empty or bad uri-parameter')
    let value: string | null = null
    i = ne
    if (s.charCodeAt(i) === 61) {
      const ve = spanEscaped(s, i + 1, end, PARAM)
      if (ve === i + 1) throw unexpected(s, i + 1, 'empty or bad uri-parameter value')
      value = s.slice(i + 1, ve)
      i = ve
    }
    const name = s.slice(ns, ne).toLowerCase()
    if (!params.has(name)) params.set(name, value)
  }
  const headers: Array<{ name: string; value: string }> = []
  if (s.charCodeAt(i) === 63) {
    do {
      const ns = i + 1
      const ne = spanEscaped(s, ns, end, HNV)
      if (ne === ns || s.charCodeAt(ne) !== 61) throw unexpected(s, ne, 'bad URI header')
      const ve = spanEscaped(s, ne + 1, end, HNV)
      headers.push({ name: s.slice(ns, ne), value: s.slice(ne + 1, ve) })
      i = ve
    } while (s.charCodeAt(i) === 38)
  }
  if (i !== end) throw unexpected(s, i, 'bad SIP URI')
  const uri: SipUri = { kind: 'sip', scheme, host, params, headers, raw: s }
  if (user !== undefined) uri.user = user
  if (password !== undefined) uri.password = password
  if (port !== undefined) uri.port = port
  return uri
}

/**
 * Header parameters: *( SEMI generic-param ) to the end of `s`, starting at `start`
 * (RFC 3261 §25.1: SEMI = SWS ";" SWS, EQUAL = SWS "=" SWS, gen-value = token /
 * host / quoted-string). Empty parameters (";;") are errors (RFC 4475 §3.1.2.1).
 */
export function parseHeaderParams(s: string, start = 0): SipParams {
  const params: SipParams = new Map()
  const end = s.length
  let i = skipWs(s, start)
  while (i < end) {
    if (s.charCodeAt(i) !== 59) throw unexpected(s, i, 'bad parameter list')
    i = skipWs(s, i + 1)
    const ne = span(s, i, end, TOKEN)
    if (ne === i) throw unexpected(s, i, 'empty or bad parameter name')
    const name = s.slice(i, ne).toLowerCase()
    i = skipWs(s, ne)
    let value: string | null = null
    if (s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1)
      const ve = s.charCodeAt(i) === 34 ? quotedEnd(s, i) : span(s, i, end, GENVAL)
      if (ve === i) throw unexpected(s, i, `empty value for parameter ${name}`)
      value = s.slice(i, ve)
      i = skipWs(s, ve)
    }
    if (!params.has(name)) params.set(name, value)
  }
  return params
}

/**
 * name-addr / addr-spec with header params (From, To, Contact, Route, ...).
 * RFC 3261 §20.10: with a bare addr-spec, everything after the first ';' is a
 * header parameter, and a URI with ',', '?' or ';' must be in <...>.
 * The display name is unquoted (quoted-pairs resolved) or the raw token run.
 */
export function parseNameAddr(value: string): NameAddr {
  const s = value
  let i = skipWs(s, 0)
  let displayName: string | undefined
  let uriStart = -1
  if (s.charCodeAt(i) === 34) {
    const qe = quotedEnd(s, i)
    displayName = unquote(s.slice(i, qe))
    i = skipWs(s, qe)
    if (s.charCodeAt(i) !== 60) throw unexpected(s, i, 'expected < after display name')
    uriStart = i + 1
  } else if (s.charCodeAt(i) === 60) {
    uriStart = i + 1
  } else {
    // display-name = *(token LWS); lwsdisp (RFC 4475 §3.1.1.6): LWS before '<' optional.
    let j = i
    for (;;) {
      const te = span(s, j, s.length, TOKEN)
      if (te === j) break
      j = skipWs(s, te)
    }
    if (j > i && s.charCodeAt(j) === 60) {
      displayName = trimWs(s.slice(i, j))
      uriStart = j + 1
    } else if (j > i && s.charCodeAt(span(s, i, s.length, TOKEN)) !== 58) {
      // Not "scheme:" either: an unquoted display name with non-token characters.
      throw new SipUriError(`display name must be tokens or a quoted string (§25.1): ${s}`)
    }
  }
  if (uriStart >= 0) {
    const gt = s.indexOf('>', uriStart)
    if (gt < 0) throw new SipUriError(`missing > in ${JSON.stringify(s)}`)
    const uri = parseSipUri(s.slice(uriStart, gt)) // RAQUOT/LAQUOT: no LWS inside <>
    const na: NameAddr = { uri, params: parseHeaderParams(s, gt + 1), bracketed: true }
    if (displayName !== undefined) na.displayName = displayName
    return na
  }
  let e = i
  while (e < s.length) {
    const c = s.charCodeAt(e)
    if (c === 59 || isWs(c)) break
    if (c === 44 || c === 63)
      throw new SipUriError(`URI with ',' or '?' must be enclosed in <> (RFC 3261 §20.10): ${s}`)
    e++
  }
  if (e === i) throw new SipUriError('empty address')
  return { uri: parseSipUri(s.slice(i, e)), params: parseHeaderParams(s, e), bracketed: false }
}

/**
 * One via-parm (RFC 3261 §20.42, §25.1): sent-protocol LWS sent-by *(SEMI via-params),
 * with SWS allowed around '/' and ':' (RFC 4475 §3.1.1.1).
 */
export function parseVia(value: string): SipVia {
  const s = value
  const end = s.length
  let i = skipWs(s, 0)
  const parts: string[] = []
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      i = skipWs(s, i)
      if (s.charCodeAt(i) !== 47) throw unexpected(s, i, 'bad Via sent-protocol')
      i = skipWs(s, i + 1)
    }
    const te = span(s, i, end, TOKEN)
    if (te === i) throw unexpected(s, i, 'bad Via sent-protocol')
    parts.push(s.slice(i, te))
    i = te
  }
  const hs = skipWs(s, i)
  if (hs === i) throw unexpected(s, i, 'expected whitespace before Via sent-by')
  i = hs
  let host: string
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i)
    if (close < 0 || !/^\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]$/.test(s.slice(i, close + 1)))
      throw new SipUriError(`bad IPv6 reference in Via ${JSON.stringify(s)}`)
    host = s.slice(i, close + 1)
    i = close + 1
  } else {
    const he = span(s, i, end, HOST)
    if (he === i) throw unexpected(s, i, 'missing Via sent-by host')
    host = s.slice(i, he)
    i = he
  }
  let port: number | undefined
  const pc = skipWs(s, i)
  if (s.charCodeAt(pc) === 58) {
    const ps = skipWs(s, pc + 1)
    let pe = ps
    while (pe < end && s.charCodeAt(pe) >= 48 && s.charCodeAt(pe) <= 57) pe++
    port = pe - ps >= 1 && pe - ps <= 5 ? Number(s.slice(ps, pe)) : NaN
    if (!(port <= 65535)) throw new SipUriError(`bad port in Via ${JSON.stringify(s)}`)
    i = pe
  }
  const params = parseHeaderParams(s, i)
  const via: SipVia = {
    protocol: parts[0]!,
    version: parts[1]!,
    transport: parts[2]!.toUpperCase(),
    host,
    params,
  }
  if (port !== undefined) via.port = port
  const branch = params.get('branch')
  if (branch != null) via.branch = branch
  return via
}
