/**
 * Responses the node generates itself (404, 480, 202 ...), standing in for a
 * UAS: RFC 3261 §8.2.6.2 requires a To tag on every response but 100.
 */
import { createResponse } from './sip-message.js'
import type { SipHeader, SipRequest, SipResponse } from './sip-message.js'

export function randomToken(bytes = 8): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

export function respond(
  request: SipRequest,
  status: number,
  reason: string,
  extraHeaders?: ReadonlyArray<readonly [string, string] | SipHeader>,
): SipResponse {
  return createResponse(
    request,
    status,
    reason,
    extraHeaders,
    status > 100 ? randomToken() : undefined,
  )
}
