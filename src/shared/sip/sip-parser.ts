/**
 * SIP message parser (RFC 3261 §7, §18.3, §25; torture cases from RFC 4475).
 *
 * Never throws: every input gives a ParseResult. A rejected message carries the
 * status to answer with (400, 413, 501, 505, 513) when a response is possible,
 * or `respondable: false` (drop). We are strict where RFC 4475 allows either
 * way: extra SP in the start line, <> around the Request-URI, headers in the
 * Request-URI and a non-GMT Date are all 400. The header-level rules are in
 * sip-header-rules.ts.
 */
import { KaiwaError } from '../errors.js'
import { TRACKED, validateHeaders } from './sip-header-rules.js'
import type { Seen } from './sip-header-rules.js'
import { SipHeaders, headerKey } from './sip-message.js'
import type { SipMessage, SipRequest } from './sip-message.js'
import { isToken, trimWs } from './sip-lexer.js'
import { parseSipUri } from './sip-uri.js'

export const DEFAULT_MAX_SIP_BYTES = 64 * 1024
/** Header field lines per message; more draws 513 (and cannot starve the CPU). */
export const MAX_HEADER_FIELDS = 256
/** Longest physical header line, in characters. */
export const MAX_LINE_LENGTH = 16 * 1024

export interface ParseOptions {
  transport: 'datagram' | 'stream'
  /** Largest message accepted (head + body), default 64 KiB. */
  maxBytes?: number
}

export interface SipParseErrorInit {
  status?: number
  respondable?: boolean
  incomplete?: boolean
  framing?: boolean
  request?: SipRequest
  consumed?: number
  needed?: number
}

/**
 * Why a message was rejected. `status` is the response to send when
 * `respondable` (the request had a usable Via and CSeq; `request` then holds
 * what was parsed, ready for createResponse). `incomplete`: stream only, wait
 * for more bytes (`needed` = total bytes when known). `framing`: stream only,
 * message boundaries are lost (Content-Length missing/bad/duplicated or too
 * big); answer if respondable, then close. Otherwise on a stream `consumed`
 * says how many bytes the bad message used, and parsing can go on after it.
 */
export class SipParseError extends KaiwaError {
  readonly reason: string
  readonly status?: number
  readonly respondable: boolean
  readonly incomplete: boolean
  readonly framing: boolean
  readonly request?: SipRequest
  readonly consumed?: number
  readonly needed?: number
  constructor(reason: string, init: SipParseErrorInit = {}) {
    // Single printable line of bounded length, so it can be used as a reason phrase.
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    const clean = reason.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 200)
    super(clean, 'invalid_input')
    this.name = 'SipParseError'
    this.reason = clean
    this.status = init.status
    this.respondable = init.respondable ?? false
    this.incomplete = init.incomplete ?? false
    this.framing = init.framing ?? false
    this.request = init.request
    this.consumed = init.consumed
    this.needed = init.needed
  }
}

export type ParseResult =
  | { ok: true; message: SipMessage; consumed: number; keepalive?: undefined }
  | { ok: false; error: SipParseError; keepalive?: undefined }

const decoder = new TextDecoder()

/**
 * Index just past the first CRLFCRLF that starts in [from, to - 4], or -1
 * (§7.5: the empty line ends the header section).
 */
export function findHeadEnd(b: Uint8Array, from: number, to: number = b.length): number {
  const last = Math.min(to, b.length) - 4
  let i = from
  while (i <= last) {
    i = b.indexOf(13, i)
    if (i < 0 || i > last) return -1
    if (b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i + 4
    i++
  }
  return -1
}

function failure(reason: string, init: SipParseErrorInit): ParseResult {
  return { ok: false, error: new SipParseError(reason, init) }
}

export function parseSipMessage(bytes: Uint8Array, opts: ParseOptions): ParseResult {
  try {
    return parse(bytes, opts.transport === 'stream', opts.maxBytes ?? DEFAULT_MAX_SIP_BYTES)
  } catch (err) {
    // Defensive: a bug must not take the transport down with it.
    return failure(`internal parser error: ${String(err)}`, { framing: true })
  }
}

function parse(bytes: Uint8Array, stream: boolean, max: number): ParseResult {
  const len = bytes.length
  if (!stream && len > max) return failure(`datagram larger than ${max} bytes`, {})
  // §7.5: CRLFs before the start line are ignored.
  let start = 0
  while (start + 1 < len && bytes[start] === 13 && bytes[start + 1] === 10) start += 2
  if (start >= len || (start + 1 === len && bytes[start] === 13)) {
    return stream
      ? failure('waiting for a message', { incomplete: true })
      : failure('empty datagram', {})
  }
  let headEnd = findHeadEnd(bytes, start, stream ? start + max + 4 : len)
  const terminated = headEnd >= 0
  let headTextEnd = headEnd - 4
  if (!terminated) {
    if (stream) {
      if (len - start >= max)
        return failure(`header section larger than ${max} bytes`, { framing: true })
      return failure('header section incomplete', { incomplete: true })
    }
    headEnd = len
    headTextEnd = len
    while (
      headTextEnd - 2 >= start &&
      bytes[headTextEnd - 2] === 13 &&
      bytes[headTextEnd - 1] === 10
    )
      headTextEnd -= 2
  }
  const head = decoder.decode(bytes.subarray(start, headTextEnd))

  // ---- header fields (§7.3): unfold continuation lines (§7.3.1) ----
  const headers = new SipHeaders()
  const seen: Seen = { count: {}, first: {}, vias: [], contacts: [], warnings: [] }
  let lineErr: [number, string] | undefined
  const lineError = (status: number, reason: string): void => {
    lineErr ??= [status, reason]
  }
  let curName: string | undefined
  let curValue = ''
  const flush = (): void => {
    if (curName === undefined) return
    const value = trimWs(curValue)
    headers.add(curName, value)
    const key = headerKey(curName)
    if (key === 'via') seen.vias.push(value)
    else if (key === 'contact') seen.contacts.push(value)
    else if (key === 'warning') seen.warnings.push(value)
    else if (key === 'date' || key === 'content-type' || TRACKED.includes(key)) {
      seen.count[key] = (seen.count[key] ?? 0) + 1
      seen.first[key] ??= value
    }
    curName = undefined
  }
  let pos = head.indexOf('\r\n')
  const startLine = pos < 0 ? head : head.slice(0, pos)
  while (pos >= 0) {
    const ls = pos + 2
    pos = head.indexOf('\r\n', ls)
    const line = head.slice(ls, pos < 0 ? head.length : pos)
    if (line.length > MAX_LINE_LENGTH) {
      flush()
      lineError(513, `header line longer than ${MAX_LINE_LENGTH} characters`)
      continue
    }
    if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
      flush()
      lineError(400, 'bare CR or LF in the header section (§7)')
      continue
    }
    const c0 = line.charCodeAt(0)
    if (c0 === 32 || c0 === 9) {
      if (curName === undefined) lineError(400, 'continuation line without a header field (§7.3.1)')
      else curValue = trimWs(curValue) + ' ' + trimWs(line) // §7.3.1: fold = one SP
      continue
    }
    flush()
    const colon = line.indexOf(':')
    if (colon < 0) {
      lineError(400, `header line without a colon: ${line.slice(0, 40)}`)
      continue
    }
    let ne = colon
    while (ne > 0 && (line.charCodeAt(ne - 1) === 32 || line.charCodeAt(ne - 1) === 9)) ne--
    const name = line.slice(0, ne)
    if (!isToken(name)) {
      lineError(400, `bad header name: ${name.slice(0, 40)}`)
      continue
    }
    if (headers.size >= MAX_HEADER_FIELDS) {
      lineError(513, `more than ${MAX_HEADER_FIELDS} header fields`)
      break
    }
    curName = name
    curValue = line.slice(colon + 1)
  }
  flush()

  // ---- start line (§7.1, §7.2, §25) ----
  let isRequest = true
  let method = ''
  let uri = ''
  let status = 0
  let phrase = ''
  let startErr: [number, string] | undefined
  if (startLine.length >= 4 && startLine.slice(0, 4).toUpperCase() === 'SIP/') {
    isRequest = false
    // eslint-disable-next-line no-control-regex -- Reason-Phrase excludes controls but HTAB (§25.1)
    const m = /^(SIP\/\d+\.\d+) (\d{3}) ([^\x00-\x08\x0a-\x1f\x7f]*)$/i.exec(startLine)
    if (!m) startErr = [0, 'malformed Status-Line (§7.2)']
    else if (m[1]!.toUpperCase() !== 'SIP/2.0') startErr = [0, `unsupported version ${m[1]}`]
    else {
      status = Number(m[2])
      phrase = m[3]!
      if (status < 100 || status > 699) startErr = [0, `status code ${status} out of range`]
    }
  } else {
    const parts = startLine.split(' ')
    method = parts[0] ?? ''
    uri = parts[1] ?? ''
    const version = parts[2] ?? ''
    if (parts.length !== 3 || method === '' || uri === '' || version === '') {
      startErr = [400, 'Request-Line must be Method SP Request-URI SP SIP-Version (§7.1)']
    } else if (version.toUpperCase() !== 'SIP/2.0') {
      // §8.2.1/§21.5.16: a well-formed other version draws 505 (RFC 4475 §3.1.2.16).
      startErr = /^SIP\/\d+\.\d+$/i.test(version)
        ? [505, `SIP version ${version} not supported`]
        : [400, 'bad SIP-Version']
    } else if (!isToken(method)) {
      startErr = [400, 'method is not a token (§25.1)']
    } else startErr = checkRequestUri(uri)
  }

  // ---- framing (§18.3, §20.14) ----
  const clCount = seen.count['content-length'] ?? 0
  const clText = seen.first['content-length'] ?? ''
  let bodyLen: number | undefined
  let clErr: string | undefined
  if (clCount > 1) clErr = 'multiple Content-Length header fields (§20.14)'
  else if (clCount === 1) {
    if (/^\d{1,10}$/.test(clText)) bodyLen = Number(clText)
    else clErr = `bad Content-Length: ${clText.slice(0, 20)}`
  }
  // The answer goes back where the request came from (§18.2.2 / §18.3 stay on the
  // same flow), so it only needs a Via to copy and a CSeq; never answer an ACK (§17.2.1).
  const respondable = (): boolean =>
    isRequest && method !== 'ACK' && (seen.count['cseq'] ?? 0) > 0 && seen.vias.length > 0
  const partial = (): SipRequest => ({
    kind: 'request',
    method,
    uri,
    version: 'SIP/2.0',
    headers,
    body: new Uint8Array(0),
  })
  const reject = (st: number, reason: string, extra: SipParseErrorInit = {}): ParseResult => {
    if (isRequest && st > 0 && respondable())
      return failure(reason, { ...extra, status: st, respondable: true, request: partial() })
    return failure(reason, extra)
  }

  let consumed: number
  let bodyEnd: number
  let bodyErr: string | undefined
  if (stream) {
    if (clCount === 0 && !clErr) clErr = 'missing Content-Length on a stream transport (§18.3)'
    if (clErr !== undefined || bodyLen === undefined) return reject(400, clErr!, { framing: true })
    if (headEnd - start + bodyLen > max)
      return reject(413, `message larger than ${max} bytes`, { framing: true })
    consumed = headEnd + bodyLen
    if (consumed > len) return failure('body incomplete', { incomplete: true, needed: consumed })
    bodyEnd = consumed
  } else {
    bodyErr = clErr
    bodyEnd = len
    if (bodyLen !== undefined && terminated) {
      // §18.3: over UDP, octets beyond Content-Length are ignored (RFC 4475 §3.1.1.8);
      // fewer than Content-Length is an error (§3.1.2.2).
      if (headEnd + bodyLen > len) bodyErr = 'Content-Length larger than the datagram body (§18.3)'
      else bodyEnd = headEnd + bodyLen
    }
    consumed = bodyEnd
  }

  const problem: [number, string] | undefined =
    startErr ??
    lineErr ??
    (bodyErr !== undefined ? [400, bodyErr] : undefined) ??
    validateHeaders(seen, isRequest, method) ??
    (terminated ? undefined : [400, 'no empty line after the header fields (§7)'])
  if (problem) return reject(problem[0], problem[1], stream ? { consumed } : {})

  const body = bytes.slice(headEnd, bodyEnd)
  const message: SipMessage = isRequest
    ? { kind: 'request', method, uri, version: 'SIP/2.0', headers, body }
    : { kind: 'response', status, reason: phrase, version: 'SIP/2.0', headers, body }
  return { ok: true, message, consumed }
}

/** Request-URI rules (§7.1, §19.1.1, RFC 4475 §3.1.2.7/.8/.11). Unknown schemes pass (416 later). */
function checkRequestUri(uri: string): [number, string] | undefined {
  if (uri.charCodeAt(0) === 60) return [400, 'Request-URI enclosed in <> (§7.1)']
  try {
    const parsed = parseSipUri(uri)
    if (parsed.kind === 'sip' && parsed.headers.length > 0)
      return [400, 'headers not allowed in the Request-URI (§19.1.1)']
  } catch (err) {
    return [400, `malformed Request-URI: ${(err as Error).message}`]
  }
  return undefined
}
