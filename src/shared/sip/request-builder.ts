/**
 * A new out-of-dialog request as a user agent client builds one (RFC 3261
 * §8.1.1): Request-URI, To, From with a fresh tag, a new Call-ID, CSeq 1, a Via
 * with a magic-cookie branch (§8.1.1.7) and Max-Forwards 70. Later headers in
 * `headers` override these (e.g. a fixed Call-ID), others are appended.
 */
import { SipHeaders } from './sip-message.js'
import type { SipRequest } from './sip-message.js'
import { randomToken } from './responses.js'

export interface RequestInit {
  method: string
  uri: string
  /** From URI (a tag is added). */
  from: string
  /** To URI; defaults to the Request-URI. */
  to?: string
  /** Host for the Via sent-by (ours is never dialled back: routing is below SIP). */
  viaHost?: string
  callIdHost?: string
  headers?: ReadonlyArray<readonly [string, string]>
  body?: Uint8Array
}

export function buildRequest(init: RequestInit): SipRequest {
  const headers = new SipHeaders([
    ['Via', `SIP/2.0/TCP ${init.viaHost ?? 'ua.invalid'};branch=z9hG4bK${randomToken(10)}`],
    ['Max-Forwards', '70'],
    ['From', `<${init.from}>;tag=${randomToken(6)}`],
    ['To', `<${init.to ?? init.uri}>`],
    [
      'Call-ID',
      init.callIdHost != null ? `${randomToken(12)}@${init.callIdHost}` : randomToken(12),
    ],
    ['CSeq', `1 ${init.method}`],
  ])
  for (const [name, value] of init.headers ?? []) {
    if (OVERRIDABLE.has(name.toLowerCase())) headers.set(name, value)
    else headers.add(name, value)
  }
  return {
    kind: 'request',
    method: init.method,
    uri: init.uri,
    version: 'SIP/2.0',
    headers,
    body: init.body ?? new Uint8Array(0),
  }
}

const OVERRIDABLE = new Set(['call-id', 'cseq', 'to', 'from', 'max-forwards'])
