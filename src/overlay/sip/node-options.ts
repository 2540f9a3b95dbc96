/**
 * OPTIONS answered by the callee's node itself, and the probe a caller's node
 * sends while a call is being prepared (sip-service.ts `prepare`).
 *
 * RFC 3261 §16.3 step 3: an element that receives a request whose
 * Max-Forwards is 0 must not forward it, but "if the request was for OPTIONS,
 * the element MAY act as the final recipient and respond per Section 11". The
 * router does so after the sender was verified like any other request from a
 * link (RFC 8224: 428 / 438 / 403 otherwise), so the probe's 200 means "this
 * device is reachable and has checked who you are".
 *
 * Why a probe: verifying a request from a link means looking the From user's
 * record up (sender-identity.ts). The caller's node sends the probe as soon
 * as its new link is up, so the callee's node does that lookup while the
 * caller's microphone opens; the INVITE that follows finds the record in the
 * directory's cache (or joins the lookup in flight) instead of waiting for it.
 * The INVITE is verified in full as before: the probe only warms the cache.
 */
import { buildRequest } from '../../shared/sip/request-builder.js'
import { respond } from '../../shared/sip/responses.js'
import type { SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { finalResponseOf } from './internal-ua.js'
import type { LocalOrigin } from './internal-ua.js'

/** What the node answers for (RFC 3261 §11.2): the methods its router carries to its UAs. */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE'

/** An OPTIONS this node answers itself: Max-Forwards 0 (RFC 3261 §16.3 step 3). */
export function isNodeOptions(req: SipRequest): boolean {
  return req.method === 'OPTIONS' && req.headers.get('max-forwards')?.trim() === '0'
}

/** The node's 200 to such an OPTIONS (RFC 3261 §11.2). */
export function answerOptions(req: SipRequest): SipResponse {
  return respond(req, 200, 'OK', [
    ['Allow', ALLOW],
    ['Accept', 'application/sdp'],
  ])
}

export interface ProbeOptions {
  fromUser: string
  toUser: string
  domain: string
  /** @default 10 s */
  timeoutMs?: number
}

/**
 * Send an OPTIONS to every device of `toUser` through the router, as a local
 * UA would (signed there, RFC 8224 §6.1), with Max-Forwards 1: this node's
 * router forwards it with 0, so each device's node answers it itself. Resolves
 * with the final response (the first 2xx of the fork), or undefined when none
 * came within the timeout.
 */
export function probeUser(
  router: LocalOrigin,
  opts: ProbeOptions,
  selfPeer: string,
): Promise<SipResponse | undefined> {
  const req = buildRequest({
    method: 'OPTIONS',
    uri: `sip:${opts.toUser}@${opts.domain}`,
    from: `sip:${opts.fromUser}@${opts.domain}`,
    viaHost: `${selfPeer}.invalid`,
    callIdHost: opts.domain,
    headers: [
      ['Max-Forwards', '1'],
      ['Accept', 'application/sdp'],
    ],
  })
  return finalResponseOf(router, req, opts.timeoutMs ?? 10_000).catch(() => undefined)
}
