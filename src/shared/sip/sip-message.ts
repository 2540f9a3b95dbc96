/**
 * The SIP message model (RFC 3261 §7), serialization, and the helpers that
 * transactions and UAS code need: top Via, CSeq, tags, transaction keys
 * (§17.2.3) and building a response from a request (§8.2.6).
 *
 * Browser-safe: Uint8Array + TextEncoder only.
 */
import { KaiwaError } from '../errors.js'
import { isToken, trimWs } from './sip-lexer.js'
import { parseNameAddr, parseVia } from './sip-uri.js'
import type { SipVia } from './sip-uri.js'

/** A header is missing or malformed, or a header name/value cannot be written. */
export class SipHeaderError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'SipHeaderError'
  }
}

export interface SipHeader {
  name: string
  value: string
}

/** RFC 3261 §7.3.3 compact forms (and those of later RFCs), mapped to the long name. */
const COMPACT: Record<string, string> = Object.fromEntries(
  (
    'i call-id|m contact|e content-encoding|l content-length|c content-type|f from|t to|v via|' +
    'k supported|s subject|o event|u allow-events|r refer-to|b referred-by|x session-expires|' +
    'y identity|a accept-contact|j reject-contact|d request-disposition'
  )
    .split('|')
    .map((pair) => pair.split(' ')),
)

/** Headers whose grammar is a comma-separated list (§7.3.1: may be combined on one line). */
const LIST_HEADERS = new Set(
  (
    'via contact route record-route path service-route allow supported require proxy-require ' +
    'unsupported accept accept-encoding accept-language allow-events content-encoding ' +
    'content-language in-reply-to alert-info call-info error-info warning reason accept-contact ' +
    'reject-contact request-disposition security-client security-server security-verify ' +
    'p-asserted-identity history-info'
  ).split(' '),
)

/** Lower-cased long header name: the key for case-insensitive, compact-aware lookup. */
export function headerKey(name: string): string {
  const l = name.toLowerCase()
  return l.length === 1 ? (COMPACT[l] ?? l) : l
}

/**
 * Split a list header value on commas that are outside quoted strings and <...>
 * (§7.3.1). Elements are trimmed; empty elements are kept so validators can
 * reject them (RFC 4475 §3.1.2.1).
 */
export function splitHeaderList(value: string): string[] {
  if (value.indexOf(',') < 0) return [trimWs(value)]
  const out: string[] = []
  let from = 0
  let quoted = false
  let angle = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (quoted) {
      if (c === 92) i++
      else if (c === 34) quoted = false
    } else if (c === 34) quoted = true
    else if (c === 60) angle = true
    else if (c === 62) angle = false
    else if (c === 44 && !angle) {
      out.push(trimWs(value.slice(from, i)))
      from = i + 1
    }
  }
  out.push(trimWs(value.slice(from)))
  return out
}

interface Entry {
  name: string
  value: string
  key: string
}

function checked(name: string, value: string): Entry {
  if (!isToken(name)) throw new SipHeaderError(`bad header name ${JSON.stringify(name)}`)
  // No CR/LF in a value: a header that could inject another header (§7.3.1).
  if (/[\r\n]/.test(value)) throw new SipHeaderError(`header ${name} value contains CR or LF`)
  return { name, value: trimWs(value), key: headerKey(name) }
}

/**
 * Ordered header fields. Lookup is case-insensitive and understands compact
 * forms (`get('Call-ID')` finds `i:`); values are unfolded and trimmed.
 */
export class SipHeaders implements Iterable<SipHeader> {
  #entries: Entry[] = []

  constructor(init?: Iterable<SipHeader | readonly [string, string]>) {
    for (const h of init ?? []) {
      if ('name' in h) this.add(h.name, h.value)
      else this.add(h[0], h[1])
    }
  }

  /** Number of header field lines. */
  get size(): number {
    return this.#entries.length
  }

  has(name: string): boolean {
    const key = headerKey(name)
    return this.#entries.some((e) => e.key === key)
  }

  /** Value of the first header field with this name. */
  get(name: string): string | undefined {
    const key = headerKey(name)
    for (const e of this.#entries) if (e.key === key) return e.value
    return undefined
  }

  /**
   * All values, in order. List headers (Via, Contact, Route, Allow, ...) are also
   * split on commas outside quotes and <...>; empty list elements are dropped.
   */
  getAll(name: string): string[] {
    const key = headerKey(name)
    const list = LIST_HEADERS.has(key)
    const out: string[] = []
    for (const e of this.#entries) {
      if (e.key !== key) continue
      if (!list) out.push(e.value)
      else for (const v of splitHeaderList(e.value)) if (v !== '') out.push(v)
    }
    return out
  }

  /** Number of header field lines with this name (not split on commas). */
  count(name: string): number {
    const key = headerKey(name)
    let n = 0
    for (const e of this.#entries) if (e.key === key) n++
    return n
  }

  /** Replace every field with this name by one, at the first one's position (or append). */
  set(name: string, value: string): this {
    const entry = checked(name, value)
    const idx = this.#entries.findIndex((e) => e.key === entry.key)
    if (idx < 0) this.#entries.push(entry)
    else {
      this.#entries[idx] = entry
      this.#entries = this.#entries.filter((e, i) => i <= idx || e.key !== entry.key)
    }
    return this
  }

  /** Append a field. */
  add(name: string, value: string): this {
    this.#entries.push(checked(name, value))
    return this
  }

  /** Insert before the first field with this name (or at the top): e.g. a new Via (§16.6). */
  prepend(name: string, value: string): this {
    const entry = checked(name, value)
    const idx = this.#entries.findIndex((e) => e.key === entry.key)
    this.#entries.splice(idx < 0 ? 0 : idx, 0, entry)
    return this
  }

  /** Remove every field with this name; returns how many were removed. */
  remove(name: string): number {
    const key = headerKey(name)
    const before = this.#entries.length
    this.#entries = this.#entries.filter((e) => e.key !== key)
    return before - this.#entries.length
  }

  clone(): SipHeaders {
    const copy = new SipHeaders()
    copy.#entries = this.#entries.map((e) => ({ ...e }))
    return copy
  }

  *[Symbol.iterator](): Iterator<SipHeader> {
    for (const e of this.#entries) yield { name: e.name, value: e.value }
  }

  /** @internal Used by serialization: entries with their lookup keys. */
  static entries(h: SipHeaders): readonly Readonly<Entry>[] {
    return h.#entries
  }
}

export interface SipRequest {
  kind: 'request'
  method: string
  /** Raw Request-URI. */
  uri: string
  version: string
  headers: SipHeaders
  body: Uint8Array
}

export interface SipResponse {
  kind: 'response'
  status: number
  reason: string
  version: string
  headers: SipHeaders
  body: Uint8Array
}

export type SipMessage = SipRequest | SipResponse

const encoder = new TextEncoder()

/**
 * Wire bytes of a message. Content-Length is always written from the real body
 * length (§18.3, §20.14): an existing Content-Length field is rewritten in place
 * (duplicates dropped), otherwise one is appended. Throws SipHeaderError if
 * the start line would contain CR or LF (header values are checked on insert).
 */
export function serializeSipMessage(msg: SipMessage): Uint8Array {
  const len = msg.body.length
  const line = msg.kind === 'request' ? msg.method + msg.uri : msg.reason
  if (/[\r\n]/.test(line + msg.version)) throw new SipHeaderError('CR or LF in the start line')
  let head =
    msg.kind === 'request'
      ? `${msg.method} ${msg.uri} ${msg.version}\r\n`
      : `${msg.version} ${msg.status} ${msg.reason}\r\n`
  let wroteLength = false
  for (const e of SipHeaders.entries(msg.headers)) {
    if (e.key === 'content-length') {
      if (!wroteLength) head += `${e.name}: ${len}\r\n`
      wroteLength = true
    } else head += `${e.name}: ${e.value}\r\n`
  }
  if (!wroteLength) head += `Content-Length: ${len}\r\n`
  const headBytes = encoder.encode(head + '\r\n')
  const out = new Uint8Array(headBytes.length + len)
  out.set(headBytes, 0)
  out.set(msg.body, headBytes.length)
  return out
}

function required(msg: SipMessage, name: string): string {
  const v = msg.headers.get(name)
  if (v === undefined) throw new SipHeaderError(`missing ${name} header`)
  return v
}

/** The first via-parm of the first Via field (§18.2.2, §17.2.3). Throws if absent/bad. */
export function topVia(msg: SipMessage): SipVia {
  return parseVia(splitHeaderList(required(msg, 'Via'))[0]!)
}

/** CSeq number and method (§20.16). Throws SipHeaderError if absent or malformed. */
export function cseq(msg: SipMessage): { seq: number; method: string } {
  const m = /^(\d{1,10})\s+(\S+)$/.exec(required(msg, 'CSeq'))
  const seq = m ? Number(m[1]) : NaN
  if (!m || !(seq < 2 ** 31)) throw new SipHeaderError('malformed CSeq')
  return { seq, method: m[2]! }
}

export function callId(msg: SipMessage): string {
  return required(msg, 'Call-ID')
}

function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    return parseNameAddr(value).params.get('tag') ?? undefined
  } catch {
    return undefined
  }
}

export function fromTag(msg: SipMessage): string | undefined {
  return tagOf(msg.headers.get('From'))
}

export function toTag(msg: SipMessage): string | undefined {
  return tagOf(msg.headers.get('To'))
}

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this magic cookie. */
export const MAGIC_COOKIE = 'z9hG4bK'

/**
 * Transaction matching key (§17.1.3 / §17.2.3).
 *
 * With an RFC 3261 branch: branch + sent-by + method, where the method is the
 * request's (CSeq's for a response) and ACK maps to INVITE (an ACK for a non-2xx
 * belongs to the INVITE transaction). `method` overrides it, e.g.
 * `transactionKey(cancel, 'INVITE')` finds the transaction a CANCEL targets (§9.2).
 *
 * Without the magic cookie, or with a bare "z9hG4bK" (RFC 4475 §3.2.1), fall back to
 * RFC 2543 matching: Request-URI (requests only), From tag, Call-ID, CSeq number,
 * method and the top Via. The To tag is left out so the ACK matches its INVITE.
 */
export function transactionKey(msg: SipMessage, method?: string): string {
  const via = topVia(msg)
  const cs = cseq(msg)
  let m = method ?? (msg.kind === 'request' ? msg.method : cs.method)
  if (m === 'ACK') m = 'INVITE'
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? ''}`
  const branch = via.branch
  if (
    branch !== undefined &&
    branch.startsWith(MAGIC_COOKIE) &&
    branch.length > MAGIC_COOKIE.length
  )
    return `${branch}|${sentBy}|${m}`
  const ruri = msg.kind === 'request' ? msg.uri : ''
  return [
    '2543',
    ruri,
    fromTag(msg) ?? '',
    callId(msg),
    cs.seq,
    m,
    via.transport,
    sentBy,
    branch ?? '',
  ].join('|')
}

/**
 * CANCEL for a request we sent (§9.1): same Request-URI, Call-ID, From, To and
 * CSeq number; only the top Via; the Route set; method CANCEL; no body.
 */
export function buildCancel(request: SipRequest): SipRequest {
  const headers = new SipHeaders()
  headers.add('Via', splitHeaderList(required(request, 'Via'))[0]!)
  for (const name of ['Route', 'Max-Forwards', 'From', 'To', 'Call-ID']) {
    for (const v of request.headers.getAll(name)) headers.add(name, v)
  }
  headers.add('CSeq', `${cseq(request).seq} CANCEL`)
  headers.add('Content-Length', '0')
  const body = new Uint8Array(0)
  return { kind: 'request', method: 'CANCEL', uri: request.uri, version: 'SIP/2.0', headers, body }
}

/** Methods whose 101–299 responses create a dialog, so Record-Route is copied (§12.1.1). */
const DIALOG_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY'])

/**
 * Build a response to `request` (§8.2.6): copies all Via fields in order, From,
 * To, Call-ID and CSeq (§8.2.6.2), plus Record-Route for dialog-creating
 * responses (§12.1.1). `toTag` is added when the To has no tag yet and the
 * response is not a 100 (§8.2.6.2). The body is empty; Content-Length 0 is
 * written by serializeSipMessage.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason: string,
  extraHeaders?: ReadonlyArray<readonly [string, string] | SipHeader>,
  toTag?: string,
): SipResponse {
  const headers = new SipHeaders()
  const src = SipHeaders.entries(request.headers)
  const copy = (key: string): void => {
    for (const e of src) if (e.key === key) headers.add(e.name, e.value)
  }
  copy('via')
  copy('from')
  for (const e of src) {
    if (e.key !== 'to') continue
    let value = e.value
    if (toTag !== undefined && status > 100 && tagOf(value) === undefined) value += `;tag=${toTag}`
    headers.add(e.name, value)
  }
  copy('call-id')
  copy('cseq')
  if (status > 100 && status < 300 && DIALOG_METHODS.has(request.method)) copy('record-route')
  for (const h of extraHeaders ?? []) {
    if ('name' in h) headers.add(h.name, h.value)
    else headers.add(h[0], h[1])
  }
  headers.set('Content-Length', '0')
  const phrase = reason.replace(/[\r\n]+/g, ' ') // §7.2: no CRLF in a Reason-Phrase
  return {
    kind: 'response',
    status,
    reason: phrase,
    version: 'SIP/2.0',
    headers,
    body: new Uint8Array(0),
  }
}
