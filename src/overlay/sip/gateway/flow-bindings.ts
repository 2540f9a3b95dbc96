/**
 * Which connection each registered contact came over. A phone that registered
 * over TCP is reached only over that connection (RFC 3261 §18.2.2; RFC 5626
 * §5.3 flows), so when the connection closes its bindings go too: the router
 * then stops forking to a phone it cannot reach, and a MESSAGE lands in the
 * node's inbox instead of failing. A contact re-registered over a newer
 * connection (or over UDP) belongs to that one and survives the old one.
 */
import { SipHeaders } from '../../../shared/sip/sip-message.js'
import type { SipRequest } from '../../../shared/sip/sip-message.js'
import { randomToken } from '../../../shared/sip/responses.js'
import { extractUri } from '../local-registrar.js'
import { BRANCH_PREFIX } from './gateway-types.js'
import type { GatewayFlow } from './gateway-types.js'

export class FlowBindings {
  /** Normalized contact URI → [flow key, contact as registered]. */
  private readonly owner = new Map<string, [string, string]>()

  /** A REGISTER that came on `flow` got a 2xx. */
  registered(req: SipRequest, flow: GatewayFlow): void {
    const headerExpires = req.headers.get('expires')?.trim()
    for (const c of req.headers.getAll('contact')) {
      if (c.trim() === '*') {
        this.owner.clear() // §10.3 step 6: every binding is gone
        return
      }
      const uri = extractUri(c)
      const key = uri.toLowerCase()
      const param = /;\s*expires\s*=\s*(\d+)/i.exec(c)?.[1]
      const removed = Number(param ?? headerExpires ?? '1') === 0
      if (removed) this.owner.delete(key)
      else this.owner.set(key, [flow.key, uri])
    }
  }

  /** `flow` closed: the contacts it still owns (now forgotten). */
  closed(flow: GatewayFlow): string[] {
    const out: string[] = []
    for (const [key, [owner, uri]] of this.owner) {
      if (owner !== flow.key) continue
      this.owner.delete(key)
      out.push(uri)
    }
    return out
  }
}

/** REGISTER removing `contacts` of sip:user@domain (§10.2.2), for the router's registrar. */
export function unregisterRequest(
  user: string,
  domain: string,
  contacts: string[],
  sentBy: string,
): SipRequest {
  const aor = `sip:${user}@${domain}`
  const headers = new SipHeaders([
    ['Via', `SIP/2.0/TCP ${sentBy};branch=${BRANCH_PREFIX}kw${randomToken(10)}`],
    ['Max-Forwards', '70'],
    ['From', `<${aor}>;tag=${randomToken(4)}`],
    ['To', `<${aor}>`],
    ['Call-ID', `${randomToken(10)}@${sentBy}`],
    ['CSeq', '1 REGISTER'],
    ...contacts.map((c): [string, string] => ['Contact', `<${c}>;expires=0`]),
  ])
  return {
    kind: 'request',
    method: 'REGISTER',
    uri: `sip:${domain}`,
    version: 'SIP/2.0',
    headers,
    body: new Uint8Array(0),
  }
}
