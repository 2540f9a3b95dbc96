/**
 * Responses the node generates itself (404, 480, 202 ...), standing in for a
 * UAS: RFC 3261 §8.2.6.2 requires a To tag on every response but 100.
 */
import { createResponse } from './sip-message.js'
import type { SipHeader, SipRequest, SipResponse } from './sip-message.js'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const POOL_BYTES = 4096
let pool = new Uint8Array(0)
let used = POOL_BYTES

/**
 * A random hex token (tags, branches, Call-IDs: RFC 3261 §19.3 wants them
 * cryptographically random). Every message needs a few, and one
 * getRandomValues call per token showed in profiles under load, so the CSPRNG
 * fills a pool that is consumed once, byte by byte.
 */
export function randomToken(bytes = 8): string {
  if (used + bytes > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(Math.max(POOL_BYTES, bytes)))
    used = 0
  }
  let out = ''
  for (let i = 0; i < bytes; i++) out += HEX[pool[used + i]!]
  used += bytes
  return out
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
