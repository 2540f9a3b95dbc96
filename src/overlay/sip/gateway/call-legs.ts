/**
 * Requests the gateway builds itself to tear down a leg whose media could not
 * be negotiated (media-edge.ts): the ACK and BYE for a 2xx it will not pass on
 * (RFC 3261 §13.2.2.4 "the UAC core MUST generate an ACK … then terminate the
 * dialog with a BYE", as a UA would for a 2xx it cannot use, §13.2.2.4 last
 * paragraph), and a BYE built from an ACK when the ACK's answer fails.
 *
 * The route set is left empty: toward the phone the gateway is the next hop
 * itself, and toward the overlay the router routes by the GRUU Request-URI.
 */
import { SipHeaders, cseq } from '../../../shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { randomToken } from '../../../shared/sip/responses.js'
import { extractUri } from '../local-registrar.js'
import { BRANCH_PREFIX } from './gateway-types.js'

/** RFC 3326 Reason of a BYE for a session whose media could not be negotiated. */
export const MEDIA_FAILED_REASON = 'SIP ;cause=488 ;text="Media negotiation failed"'

export interface DialogIds {
  uri: string
  from: string
  to: string
  callId: string
}

/** The dialog a 2xx to `invite` set up, seen from the INVITE's sender (§12.1.2). */
export function dialogOf2xx(invite: SipRequest, ok: SipResponse): DialogIds | undefined {
  const contact = ok.headers.get('contact')
  const to = ok.headers.get('to')
  const from = invite.headers.get('from')
  const id = invite.headers.get('call-id')
  if (contact == null || to == null || from == null || id == null) return undefined
  return { uri: extractUri(contact), from, to, callId: id }
}

/**
 * ACK (`method` ACK, same CSeq number) or BYE (the next number) in `dialog`.
 * `via`: the sent-by and transport for our Via, or undefined when a client
 * transaction adds it (toward the phone).
 */
export function dialogRequest(
  method: 'ACK' | 'BYE',
  dialog: DialogIds,
  seq: number,
  via?: string,
  reason = MEDIA_FAILED_REASON,
): SipRequest {
  const headers = new SipHeaders()
  if (via != null) headers.add('Via', `SIP/2.0/${via};branch=${BRANCH_PREFIX}kw${randomToken(10)}`)
  headers.add('Max-Forwards', '70')
  headers.add('From', dialog.from)
  headers.add('To', dialog.to)
  headers.add('Call-ID', dialog.callId)
  headers.add('CSeq', `${seq} ${method}`)
  if (method === 'BYE') headers.add('Reason', reason)
  headers.add('Content-Length', '0')
  return {
    kind: 'request',
    method,
    uri: dialog.uri,
    version: 'SIP/2.0',
    headers,
    body: new Uint8Array(0),
  }
}

/** The dialog of an ACK, from its sender's side (`reversed`: the other side's). */
export function dialogOfAck(ack: SipRequest, reversed: boolean, otherTarget?: string): DialogIds {
  const from = ack.headers.get('from') ?? ''
  const to = ack.headers.get('to') ?? ''
  const id = ack.headers.get('call-id') ?? ''
  return reversed
    ? { uri: otherTarget ?? ack.uri, from: to, to: from, callId: id }
    : { uri: ack.uri, from, to, callId: id }
}

export function nextSeq(msg: SipRequest): number {
  return cseq(msg).seq + 1
}
