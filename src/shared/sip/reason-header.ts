/**
 * The Reason header (RFC 3326): why a request was refused or a dialog ended,
 * in words a final status cannot carry, e.g.
 *
 *   Reason: SIP ;cause=488 ;text="no common audio codec (phone offers G.729)"
 *
 * RFC 3326 §2: `Reason = "Reason" HCOLON reason-value *(COMMA reason-value)`,
 * `reason-value = protocol *(SEMI reason-params)`, `protocol = "SIP" /
 * "Q.850" / token`, and the params `cause` (a status or Q.850 cause code) and
 * `text` (a quoted-string). Kaiwa sends it with 488 so the caller's app can say
 * what went wrong, and reads it on failed calls for the same reason.
 */
import { InvalidInputError } from '../errors.js'
import { splitHeaderList } from './sip-message.js'

export interface SipReason {
  /** `SIP`, `Q.850`, or another token, as written. */
  protocol: string
  cause: number | undefined
  text: string | undefined
}

/** Longest text we send or show: it reaches a user's screen, keep it one line. */
export const REASON_TEXT_MAX = 160

/** Thrown by `formatReason` for values RFC 3326 cannot carry. */
export class ReasonHeaderError extends InvalidInputError {
  constructor(message: string) {
    super(message)
    this.name = 'ReasonHeaderError'
  }
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/

/** One quoted-string's content, unescaped (RFC 3261 §25.1 quoted-pair). */
function unquote(raw: string): string | undefined {
  if (raw.length < 2 || !raw.startsWith('"') || !raw.endsWith('"')) return undefined
  return raw.slice(1, -1).replace(/\\(.)/g, '$1')
}

/** Splits `a ;b="x;y" ;c` at semicolons outside quotes. */
function splitParams(value: string): string[] {
  const out: string[] = []
  let from = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if (c === ';') {
      out.push(value.slice(from, i).trim())
      from = i + 1
    }
  }
  out.push(value.slice(from).trim())
  return out
}

/** A short, single-line, printable text: it comes from the far end and is shown to the user. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const one = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return one.length > REASON_TEXT_MAX ? `${one.slice(0, REASON_TEXT_MAX - 1)}…` : one
}

/**
 * Every reason-value of one or more Reason header values. Values that do not
 * parse are skipped: a malformed Reason never hides the status it came with.
 */
export function parseReasons(values: readonly string[]): SipReason[] {
  const out: SipReason[] = []
  for (const value of values) {
    for (const item of splitHeaderList(value)) {
      const [protocol = '', ...params] = splitParams(item)
      if (!TOKEN.test(protocol)) continue
      let cause: number | undefined
      let text: string | undefined
      for (const p of params) {
        const eq = p.indexOf('=')
        if (eq < 0) continue
        const name = p.slice(0, eq).trim().toLowerCase()
        const raw = p.slice(eq + 1).trim()
        if (name === 'cause' && /^\d{1,5}$/.test(raw)) cause = Number(raw)
        else if (name === 'text') {
          const t = unquote(raw)
          if (t != null && clean(t) !== '') text = clean(t)
        }
      }
      out.push({ protocol, cause, text })
    }
  }
  return out
}

/** The reason that explains a SIP status: the `SIP` one (preferring the same cause), else the first. */
export function reasonFor(reasons: readonly SipReason[], status?: number): SipReason | undefined {
  const sip = reasons.filter((r) => r.protocol.toUpperCase() === 'SIP')
  return sip.find((r) => r.cause === status) ?? sip[0] ?? reasons[0]
}

/** A `Reason` header value: `SIP ;cause=488 ;text="…"` (quotes and backslashes escaped). */
export function formatReason(cause: number, text: string, protocol = 'SIP'): string {
  if (!TOKEN.test(protocol)) throw new ReasonHeaderError(`not a Reason protocol: ${protocol}`)
  if (!Number.isInteger(cause) || cause < 0 || cause > 99999)
    throw new ReasonHeaderError(`not a Reason cause: ${cause}`)
  const quoted = clean(text).replace(/["\\]/g, '\\$&')
  return `${protocol} ;cause=${cause} ;text="${quoted}"`
}
