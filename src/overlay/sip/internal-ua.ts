/**
 * The node's own minimal user agent, for `kaiwa message`: it originates a
 * MESSAGE (RFC 3428 §4) through the router like any local UA and waits for the
 * final response. A 2xx means the recipient's user agent took it; 202 means it
 * was stored for later delivery.
 */
import type { SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { buildRequest } from '../../shared/sip/request-builder.js'
import type { SipFlow } from './sip-router-types.js'

export interface SendMessageOptions {
  fromUser: string
  toUser: string
  domain: string
  text: string
  contentType?: string
  date?: Date
  timeoutMs?: number
}

export function buildMessage(opts: SendMessageOptions, selfPeer: string): SipRequest {
  return buildRequest({
    method: 'MESSAGE',
    uri: `sip:${opts.toUser}@${opts.domain}`,
    from: `sip:${opts.fromUser}@${opts.domain}`,
    viaHost: `${selfPeer}.invalid`,
    callIdHost: opts.domain,
    headers: [
      ['Date', (opts.date ?? new Date()).toUTCString()],
      ['Content-Type', opts.contentType ?? 'text/plain;charset=utf-8'],
    ],
    body: new TextEncoder().encode(opts.text),
  })
}

export async function sendMessage(
  router: LocalOrigin,
  opts: SendMessageOptions,
  selfPeer: string,
): Promise<SipResponse> {
  return finalResponseOf(router, buildMessage(opts, selfPeer), opts.timeoutMs ?? 40_000)
}

/** What a request the node originates needs of the router (sip-router.ts `fromLocal`). */
export interface LocalOrigin {
  fromLocal(req: SipRequest, flow: SipFlow): Promise<void>
}

/**
 * Send `req` through the router as a local UA would (signed there, RFC 8224
 * §6.1) and wait for its final response; provisional ones are skipped.
 * Rejects when none came within `timeoutMs` or the router refused to send.
 */
export function finalResponseOf(
  router: LocalOrigin,
  req: SipRequest,
  timeoutMs: number,
): Promise<SipResponse> {
  return new Promise<SipResponse>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no final response')), timeoutMs)
    void router
      .fromLocal(req, {
        send: (res) => {
          if (res.status < 200) return
          clearTimeout(timer)
          resolve(res)
        },
      })
      .catch((err: unknown) => {
        clearTimeout(timer)
        reject(err instanceof Error ? err : new Error(String(err)))
      })
  })
}
