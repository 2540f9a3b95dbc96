/**
 * The parts of a SIP request an identity token covers, read with the
 * project's own SIP parsers and put in one canonical form, so the signer and
 * the verifier derive the same claims from the same request (RFC 8224 §4.1,
 * §12.1; RFC 8225 §5).
 *
 * - From and To as address-of-record URIs (`scheme:user@host`, host lower-case,
 *   no port, parameters or headers): the identity, not the route. The From
 *   user part must be a user ID; it is the name whose account key signs.
 * - Call-ID, CSeq (number and method) and Date, verbatim: they make every
 *   token unique to one request (RFC 8224 §12.1).
 * - For an SDP body, every `a=fingerprint` attribute ("mky", RFC 8225 §5.2.2,
 *   RFC 8224 §12.1): a relay that swaps the DTLS fingerprint can sit in the
 *   middle of the media. The rest of the SDP is not covered, as in RFC 8224,
 *   so ICE candidates may still be rewritten on the way.
 * - For any other non-empty body (a chat MESSAGE): a SHA-256 digest of the
 *   body and its Content-Type (a Kaiwa extension; nothing on the overlay has a
 *   reason to rewrite such a body).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toString } from 'uint8arrays'
import { KaiwaError } from '../errors.js'
import { callId, cseq } from '../sip/sip-message.js'
import type { SipRequest } from '../sip/sip-message.js'
import { parseNameAddr } from '../sip/sip-uri.js'
import type { ParsedUri } from '../sip/sip-uri.js'
import { isValidUserId } from '../user-id.js'

/**
 * The request cannot be signed or checked: a covered field is missing or
 * malformed (no Date, a From user part that is not a user ID, ...).
 */
export class IdentityRequestError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'IdentityRequestError'
  }
}

/** One SDP fingerprint as a "mky" entry (RFC 8225 §5.2.2). */
export interface MediaKey {
  /** hash-func token, as written (e.g. "sha-256"). */
  alg: string
  /** The fingerprint, as written (e.g. "AB:CD:..."). */
  dig: string
}

/** Digest of a non-SDP body (Kaiwa extension claim "body"). */
export interface BodyDigest {
  alg: 'sha-256'
  /** base64url SHA-256 of the body bytes. */
  dig: string
  /** Content-Type, lower-cased with whitespace removed ('' when absent). */
  typ: string
}

/** Everything a token covers except `iat`, in canonical form. */
export interface RequestClaims {
  /** The From user part: the user ID whose account key signs. */
  name: string
  /** From as an AOR URI. */
  orig: string
  /** To as an AOR URI. */
  dest: string
  callId: string
  cseq: { seq: number; method: string }
  /** The Date header field value, verbatim. */
  date: string
  /** Date as ms since epoch. */
  dateMs: number
  /** Sorted, de-duplicated SDP fingerprints; empty when there are none or no SDP body. */
  mky: MediaKey[]
  /** Present for a non-empty body that is not SDP. */
  body?: BodyDigest
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const SIP_DATE_RE =
  /^(?:mon|tue|wed|thu|fri|sat|sun), (\d{2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i

/**
 * The SIP Date for `ms` (RFC 3261 §20.17: RFC 1123 form, always GMT), e.g.
 * "Tue, 14 Nov 2023 22:13:20 GMT". Throws RangeError for times outside years 1000–9999.
 */
export function formatSipDate(ms: number): string {
  // Every request a node signs gets a Date: the same string for a whole second.
  const second = Math.floor(ms / 1000)
  if (second === lastDate.second) return lastDate.text
  const s = new Date(ms).toUTCString()
  if (!SIP_DATE_RE.test(s)) throw new RangeError(`time ${ms} has no RFC 1123 form`)
  lastDate = { second, text: s }
  return s
}

let lastDate = { second: NaN, text: '' }

/** ms since epoch of an RFC 1123 SIP Date, or undefined if it is not one (or not a real day). */
export function parseSipDate(value: string): number | undefined {
  const m = SIP_DATE_RE.exec(value)
  if (m === null) return undefined
  const [day, month, year, h, min, s] = [
    Number(m[1]),
    MONTHS.indexOf(m[2]!.toLowerCase()),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  ]
  if (h > 23 || min > 59 || s > 59) return undefined
  const ms = Date.UTC(year, month, day, h, min, s)
  // Date.UTC rolls 31 Feb over into March; a real date survives the round trip.
  return new Date(ms).getUTCDate() === day ? ms : undefined
}

function aor(uri: ParsedUri): string {
  if (uri.kind !== 'sip') return `${uri.scheme}:${uri.opaque}`
  const user = uri.user !== undefined ? `${uri.user}@` : ''
  return `${uri.scheme}:${user}${uri.host.toLowerCase()}`
}

function addressOf(req: SipRequest, header: 'From' | 'To'): ParsedUri {
  const value = req.headers.get(header)
  if (value === undefined) throw new IdentityRequestError(`the request has no ${header} header`)
  try {
    return parseNameAddr(value).uri
  } catch (err) {
    throw new IdentityRequestError(`malformed ${header}: ${(err as Error).message}`)
  }
}

/** Media type of an SDP body (RFC 4566 §8.1). */
function isSdp(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/sdp'
}

// Matches anywhere, not only at line starts: covering too much is harmless
// (both ends compute the same list), covering too little would let a relay
// slip in a fingerprint that some SDP parser still honours.
const FINGERPRINT_RE = /a=fingerprint:[ \t]*([^\s]*)[ \t]*([^\r\n]*)/gi
// Byte-to-character decoding cannot merge two different byte strings (UTF-8
// decoding replaces every invalid sequence with the same U+FFFD).
const latin1 = new TextDecoder('latin1')

/**
 * The SDP `a=fingerprint` attributes (RFC 8122 §5) of `sdp`, in canonical
 * "mky" order: de-duplicated, sorted by alg then dig (RFC 8225 §5.2.2 wants
 * one deterministic order; line order and repetition are not security-relevant).
 */
export function sdpMediaKeys(sdp: Uint8Array): MediaKey[] {
  const text = latin1.decode(sdp)
  const seen = new Map<string, MediaKey>()
  for (const m of text.matchAll(FINGERPRINT_RE)) {
    const key: MediaKey = { alg: m[1]!, dig: m[2]!.trimEnd() }
    seen.set(`${key.alg} ${key.dig}`, key)
  }
  return [...seen.values()].sort((a, b) =>
    a.alg !== b.alg ? (a.alg < b.alg ? -1 : 1) : a.dig < b.dig ? -1 : a.dig > b.dig ? 1 : 0,
  )
}

/**
 * Read the covered fields of `req`. Throws IdentityRequestError naming the
 * first field that is missing or malformed.
 */
export function readRequestClaims(req: SipRequest): RequestClaims {
  const from = addressOf(req, 'From')
  const to = addressOf(req, 'To')
  if (from.kind !== 'sip' || from.user === undefined || !isValidUserId(from.user)) {
    throw new IdentityRequestError(`the From URI ${from.raw} does not name a user ID`)
  }
  let cs: { seq: number; method: string }
  let cid: string
  try {
    cs = cseq(req)
    cid = callId(req)
  } catch (err) {
    throw new IdentityRequestError((err as Error).message)
  }
  if (cid === '') throw new IdentityRequestError('empty Call-ID')
  if (cs.method !== req.method) {
    throw new IdentityRequestError('the CSeq method does not match the request method')
  }
  // RFC 8224 §4.1: the Date header field is required; iat and Date bound the
  // token in time.
  if (req.headers.count('Date') !== 1) {
    throw new IdentityRequestError('the request must carry exactly one Date header (RFC 8224 §4.1)')
  }
  const date = req.headers.get('Date')!
  const dateMs = parseSipDate(date)
  if (dateMs === undefined) {
    throw new IdentityRequestError('Date must be an RFC 1123 date in GMT (RFC 3261 §20.17)')
  }
  const claims: RequestClaims = {
    name: from.user,
    orig: aor(from),
    dest: aor(to),
    callId: cid,
    cseq: cs,
    date,
    dateMs,
    mky: [],
  }
  if (req.body.length > 0) {
    const type = req.headers.get('Content-Type')
    if (isSdp(type)) claims.mky = sdpMediaKeys(req.body)
    else {
      const typ = (type ?? '').toLowerCase().replace(/\s+/g, '')
      claims.body = { alg: 'sha-256', dig: toString(sha256(req.body), 'base64url'), typ }
    }
  }
  return claims
}
