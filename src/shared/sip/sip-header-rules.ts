/**
 * Header-level rules of the SIP parser (sip-parser.ts): mandatory and single-instance header
 * fields (RFC 3261 §7.3.1, §8.1.1), and the syntax of CSeq, Max-Forwards, Via, From, To,
 * Contact, Date and Warning (§20), with RFC 4475's torture cases in mind. Works on what the
 * header loop collected (Seen), so it never sees the raw bytes.
 */
import { splitHeaderList } from './sip-message.js'
import { isToken } from './sip-lexer.js'
import { parseNameAddr, parseVia } from './sip-uri.js'

/** What the header loop remembers about the headers that validation needs. */
export interface Seen {
  count: Record<string, number>
  first: Record<string, string>
  vias: string[]
  contacts: string[]
  warnings: string[]
}
/** Headers whose count and first value the loop keeps (with date and content-type). */
export const TRACKED = ['call-id', 'to', 'from', 'cseq', 'max-forwards', 'content-length']
const SINGLE = [...TRACKED, 'content-type']

/** Methods of RFC 3261 and its common extensions; others with a CSeq mismatch get 501. */
const KNOWN_METHODS = new Set(
  'INVITE ACK BYE CANCEL OPTIONS REGISTER PRACK SUBSCRIBE NOTIFY PUBLISH INFO REFER MESSAGE UPDATE'.split(
    ' ',
  ),
)

const CSEQ_RE = /^(\d+)\s+(\S+)$/
const DATE_RE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/i
const LABELS: Record<string, string> = {
  via: 'Via',
  cseq: 'CSeq',
  'call-id': 'Call-ID',
  from: 'From',
  to: 'To',
  'max-forwards': 'Max-Forwards',
  'content-length': 'Content-Length',
  'content-type': 'Content-Type',
}

/** Header-level rules; returns the first problem. */
export function validateHeaders(
  seen: Seen,
  isRequest: boolean,
  method: string,
): [number, string] | undefined {
  // §8.1.1: To, From, Call-ID, CSeq, Via are mandatory (Max-Forwards too, but RFC
  // 2543 senders omit it: accepted, RFC 4475 §3.4.1). Responses need the same set.
  if (seen.vias.length === 0) return [400, 'missing Via header field (§8.1.1)']
  for (const key of ['cseq', 'call-id', 'from', 'to']) {
    if (!seen.count[key]) return [400, `missing ${LABELS[key]} header field (§8.1.1)`]
  }
  for (const key of SINGLE) {
    if ((seen.count[key] ?? 0) > 1) return [400, `multiple ${LABELS[key]} header fields (§7.3.1)`]
  }
  const cs = CSEQ_RE.exec(seen.first['cseq']!)
  if (!cs || !isToken(cs[2]!)) return [400, 'malformed CSeq (§20.16)']
  if (cs[1]!.length > 10 || Number(cs[1]) >= 2 ** 31)
    return [400, 'CSeq number must be less than 2**31 (§8.1.1.5)']
  if (isRequest && cs[2] !== method) {
    // RFC 4475 §3.1.2.18: with an unknown method 501 is the more future-proof answer.
    return [KNOWN_METHODS.has(method) ? 400 : 501, 'CSeq method does not match the request method']
  }
  const mf = seen.first['max-forwards']
  if (mf !== undefined && (!/^\d{1,10}$/.test(mf) || Number(mf) > 255))
    return [400, 'Max-Forwards must be 0-255 (§20.22)']
  for (const line of seen.vias) {
    for (const el of splitHeaderList(line)) {
      if (el === '') return [400, 'empty Via element (§20.42)']
      try {
        parseVia(el)
      } catch (err) {
        return [400, `malformed Via: ${(err as Error).message}`]
      }
    }
  }
  for (const key of ['from', 'to']) {
    try {
      parseNameAddr(seen.first[key]!)
    } catch (err) {
      return [400, `malformed ${LABELS[key]}: ${(err as Error).message}`]
    }
  }
  for (const line of seen.contacts) {
    for (const el of splitHeaderList(line)) {
      if (el === '*') continue // §10.2.2 wildcard
      try {
        if (el === '') throw new Error('empty element')
        parseNameAddr(el)
      } catch (err) {
        return [400, `malformed Contact: ${(err as Error).message}`]
      }
    }
  }
  const date = seen.first['date']
  if (date !== undefined && !DATE_RE.test(date))
    return [400, 'Date must be an RFC 1123 date in GMT (§20.17)']
  for (const line of seen.warnings) {
    for (const el of splitHeaderList(line)) {
      if (!/^\d{3} \S+ "/.test(el)) return [400, 'malformed Warning (3-digit warn-code, §20.43)']
    }
  }
  return undefined
}
