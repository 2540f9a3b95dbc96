/**
 * SipRouter's test harness (sip-router*.test.ts). The overlay edges of its
 * init (resolve, linkTo) are small in-memory doubles: links record what the
 * router sends on them, and the test answers as the remote devices would, by
 * handing their responses to `fromLink`. Local user agents register through
 * `fromLocal` with a Deliver that records requests and lets the test answer
 * them.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'vitest'
import { SipRouter } from '../../../src/overlay/sip/sip-router.js'
import type {
  MessageEvent,
  Resolution,
  SipFlow,
  SipRouterInit,
} from '../../../src/overlay/sip/sip-router-types.js'
import type { Deliver } from '../../../src/overlay/sip/local-registrar.js'
import type { SipLink } from '../../../src/overlay/sip/sip-links.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'

export const SELF = 'PEER_SELF'
export const B1 = { peer: 'PEER_B1', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] }
export const B2 = { peer: 'PEER_B2', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4002')] }

/** Let the router's awaits (resolution, link opening, Contact rewriting) run. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

/** An in-memory SIP link: records what is sent; `open = false` makes send fail. */
export class MemoryLink implements SipLink {
  readonly relayed = false
  open = true
  readonly sent: SipMessage[] = []
  constructor(readonly peer: string) {}
  send(msg: SipMessage): boolean {
    if (!this.open) return false
    this.sent.push(msg)
    return true
  }
  requests(method?: string): SipRequest[] {
    return this.sent.filter(
      (m): m is SipRequest => m.kind === 'request' && (method == null || m.method === method),
    )
  }
  responses(): SipResponse[] {
    return this.sent.filter((m): m is SipResponse => m.kind === 'response')
  }
}

/** A local user agent registered through `fromLocal`; the test answers its requests. */
export interface LocalUa {
  contact: string
  received: Array<{ req: SipRequest; answer: (res: SipResponse) => void }>
}

export function harness(over: Partial<SipRouterInit> = {}) {
  const links = new Map<string, MemoryLink>()
  const linkCalls: Array<{ peer: string; addrs: unknown[] }> = []
  const unreachable = new Set<string>()
  const resolutions = new Map<string, Resolution>()
  const resolved: string[] = []
  const messages: MessageEvent[] = []
  let registered = 0
  const link = (peer: string): MemoryLink => {
    let l = links.get(peer)
    if (l == null || !l.open) links.set(peer, (l = new MemoryLink(peer)))
    return l
  }
  const router = new SipRouter({
    selfPeer: () => SELF,
    domain: 'kaiwa',
    ownName: async () => 'alice',
    resolve: async (user) => {
      resolved.push(user)
      return resolutions.get(user) ?? { kind: 'unknown' }
    },
    linkTo: async (peer, addrs) => {
      linkCalls.push({ peer, addrs })
      if (unreachable.has(peer)) throw new Error(`cannot dial ${peer}`)
      return link(peer)
    },
    onMessage: (ev) => {
      messages.push(ev)
    },
    onRegistered: () => registered++,
    log: silentLogger,
    ...over,
  })

  /** What a local UA's flow received. */
  const flow = (binding?: string): SipFlow & { got: SipResponse[] } => {
    const got: SipResponse[] = []
    return { got, send: (res) => got.push(res), ...(binding != null ? { binding } : {}) }
  }

  const registerUa = async (contact: string): Promise<LocalUa> => {
    const ua: LocalUa = { contact, received: [] }
    const deliver: Deliver = (_c, req, onResponse) => {
      ua.received.push({ req, answer: onResponse })
    }
    const reg = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:alice@kaiwa',
      to: 'sip:alice@kaiwa',
      headers: [['Contact', `<${contact}>`]],
    })
    const f = { ...flow(), deliver }
    await router.fromLocal(reg, f)
    expect(f.got.map((r) => r.status)).toEqual([200])
    return ua
  }

  return {
    router,
    links,
    linkCalls,
    unreachable,
    resolutions,
    resolved,
    messages,
    registered: () => registered,
    link,
    flow,
    registerUa,
  }
}

export function request(
  method: string,
  uri: string,
  headers: Array<[string, string]> = [],
): SipRequest {
  return buildRequest({
    method,
    uri,
    from: method === 'INVITE' || method === 'MESSAGE' ? 'sip:alice@kaiwa' : 'sip:bob@kaiwa',
    to: 'sip:bob@kaiwa',
    headers,
  })
}

/** The ACK for a non-2xx final: same branch and CSeq number (RFC 3261 §17.1.1.3). */
export function ackFor(invite: SipRequest): SipRequest {
  const headers = invite.headers.clone()
  headers.set('CSeq', `${invite.headers.get('cseq')!.split(' ')[0]} ACK`)
  return { ...invite, method: 'ACK', headers }
}

export const statuses = (rs: SipResponse[]): number[] => rs.map((r) => r.status)
