/**
 * SipRouter on its own. The overlay edges of its init (resolve, linkTo) are
 * small in-memory doubles: links record what the router sends on them, and
 * the test answers as the remote devices would, by handing their responses to
 * `fromLink`. Local user agents register through `fromLocal` with a Deliver
 * that records requests and lets the test answer them.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
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
import { respond } from '../../../src/shared/sip/responses.js'
import { SipHeaderError, SipHeaders } from '../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'

const SELF = 'PEER_SELF'
const B1 = { peer: 'PEER_B1', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] }
const B2 = { peer: 'PEER_B2', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4002')] }

/** Let the router's awaits (resolution, link opening, Contact rewriting) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

/** An in-memory SIP link: records what is sent; `open = false` makes send fail. */
class MemoryLink implements SipLink {
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
interface LocalUa {
  contact: string
  received: Array<{ req: SipRequest; answer: (res: SipResponse) => void }>
}

function harness(over: Partial<SipRouterInit> = {}) {
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

function request(method: string, uri: string, headers: Array<[string, string]> = []): SipRequest {
  return buildRequest({
    method,
    uri,
    from: method === 'INVITE' || method === 'MESSAGE' ? 'sip:alice@kaiwa' : 'sip:bob@kaiwa',
    to: 'sip:bob@kaiwa',
    headers,
  })
}

/** The ACK for a non-2xx final: same branch and CSeq number (RFC 3261 §17.1.1.3). */
function ackFor(invite: SipRequest): SipRequest {
  const headers = invite.headers.clone()
  headers.set('CSeq', `${invite.headers.get('cseq')!.split(' ')[0]} ACK`)
  return { ...invite, method: 'ACK', headers }
}

const statuses = (rs: SipResponse[]): number[] => rs.map((r) => r.status)

describe('SipRouter: out-of-dialog requests into the overlay (RFC 3261 §16.6)', () => {
  it('resolves the user once and forks the request to each live device', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1, B2] })
    const invite = request('INVITE', 'sip:bob@kaiwa', [['Contact', '<sip:ua@127.0.0.1:5070>']])
    const f = h.flow('b7')
    await h.router.fromLocal(invite, f)
    await settle()
    expect(h.resolved).toEqual(['bob'])
    expect(h.linkCalls).toEqual([
      { peer: B1.peer, addrs: B1.addrs },
      { peer: B2.peer, addrs: B2.addrs },
    ])
    for (const peer of [B1.peer, B2.peer]) {
      const sent = h.links.get(peer)!.requests('INVITE')
      expect(sent).toHaveLength(1)
      // §16.6 step 3: Max-Forwards decremented.
      expect(sent[0]!.headers.get('max-forwards')).toBe('69')
      // The Contact leaving the node is a GRUU naming this device and the binding.
      expect(sent[0]!.headers.get('contact')).toBe('<sip:alice@kaiwa;gr=PEER_SELF;ua=b7>')
    }
    expect(h.router.pendingTransactions()).toBe(1)
  })

  it('relays provisional responses and the first 2xx, CANCELling the device still ringing (§16.7)', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1, B2] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(invite, f)
    await settle()
    const [l1, l2] = [h.links.get(B1.peer)!, h.links.get(B2.peer)!]
    await h.router.fromLink(respond(invite, 180, 'Ringing'), l2)
    await h.router.fromLink(respond(invite, 200, 'OK'), l1)
    await settle()
    expect(statuses(f.got)).toEqual([180, 200])
    expect(l2.requests().map((r) => r.method)).toEqual(['INVITE', 'CANCEL'])
    expect(l1.requests().map((r) => r.method)).toEqual(['INVITE'])
  })

  it('drops a response from a peer the request was not forked to (only a 2xx passes)', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(invite, f)
    await settle()
    await h.router.fromLink(respond(invite, 486, 'Busy Here'), h.link('PEER_STRANGER'))
    expect(f.got).toEqual([])
    await h.router.fromLink(respond(request('INVITE', 'sip:x@kaiwa'), 200, 'OK'), h.link(B1.peer))
    expect(f.got).toEqual([])
  })

  it('answers 404 for a user the overlay does not know', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'sip:nobody@kaiwa'), f)
    expect(statuses(f.got)).toEqual([404])
    expect(h.router.pendingTransactions()).toBe(0)
  })

  it('answers 408 when the overlay lookup times out', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'timeout' })
    const f = h.flow()
    await h.router.fromLocal(request('MESSAGE', 'sip:bob@kaiwa'), f)
    expect(statuses(f.got)).toEqual([408])
  })

  it('answers 480 when no device of the user can be reached', async () => {
    const h = harness({ storeOffline: async () => true })
    h.resolutions.set('bob', { kind: 'found', devices: [B1, B2] })
    h.unreachable.add(B1.peer).add(B2.peer)
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'sip:bob@kaiwa'), f)
    await settle()
    expect(statuses(f.got)).toEqual([480])
    expect(h.router.pendingTransactions()).toBe(1) // an INVITE lingers for late 2xx (§16.7)
  })

  it('answers 480 when the user has no device at all', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [] })
    const f = h.flow()
    await h.router.fromLocal(request('MESSAGE', 'sip:bob@kaiwa'), f)
    await settle()
    expect(statuses(f.got)).toEqual([480])
  })

  it('answers 202 when offline storage accepts a MESSAGE for an unreachable user (RFC 3428 §7)', async () => {
    const stored: Array<{ method: string; user: string }> = []
    const h = harness({
      storeOffline: async (req, user) => {
        stored.push({ method: req.method, user })
        return true
      },
    })
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    h.unreachable.add(B1.peer)
    const f = h.flow()
    await h.router.fromLocal(request('MESSAGE', 'sip:bob@kaiwa'), f)
    await settle()
    expect(statuses(f.got)).toEqual([202])
    expect(stored).toEqual([{ method: 'MESSAGE', user: 'bob' }])
    expect(h.messages.map((m) => [m.direction, m.status])).toEqual([['out', 202]])
    expect(h.router.pendingTransactions()).toBe(0)
  })

  it('answers 480 when offline storage refuses, and never stores for a GRUU', async () => {
    let asked = 0
    const h = harness({
      storeOffline: async () => {
        asked++
        return false
      },
    })
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    h.unreachable.add(B1.peer)
    const f = h.flow()
    await h.router.fromLocal(request('MESSAGE', 'sip:bob@kaiwa'), f)
    await settle()
    const g = h.flow()
    await h.router.fromLocal(request('MESSAGE', `sip:bob@kaiwa;gr=${B1.peer};ua=b1`), g)
    await settle()
    expect(statuses(f.got)).toEqual([480])
    expect(statuses(g.got)).toEqual([480])
    expect(asked).toBe(1)
  })

  it('records the final status of an outgoing MESSAGE in the history', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const msg = request('MESSAGE', 'sip:bob@kaiwa')
    await h.router.fromLocal(msg, h.flow())
    await settle()
    await h.router.fromLink(respond(msg, 200, 'OK'), h.links.get(B1.peer)!)
    expect(h.messages.map((m) => [m.direction, m.status, m.request.method])).toEqual([
      ['out', 200, 'MESSAGE'],
    ])
  })
})

describe('SipRouter: requests it refuses (RFC 3261 §16.3, §8.2.2)', () => {
  it('answers 483 for Max-Forwards 0, without a lookup (§16.3 step 3)', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'sip:bob@kaiwa', [['Max-Forwards', '0']]), f)
    expect(statuses(f.got)).toEqual([483])
    expect(h.resolved).toEqual([])
  })

  it('answers 416 for a Request-URI scheme other than sip/sips (§8.2.2.1)', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'tel:+15551234567'), f)
    expect(statuses(f.got)).toEqual([416])
  })

  it('answers 404 for a domain other than the overlay’s', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'sip:bob@example.com'), f)
    expect(statuses(f.got)).toEqual([404])
    expect(h.resolved).toEqual([])
  })

  it('answers 400 for a malformed REGISTER (a To that is no SIP URI, a bad wildcard)', async () => {
    const h = harness()
    const badTo = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'tel:+1',
      to: 'tel:+1',
    })
    const wildcard = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:alice@kaiwa',
      to: 'sip:alice@kaiwa',
      headers: [['Contact', '*']],
    })
    const f = h.flow()
    await h.router.fromLocal(badTo, f)
    await h.router.fromLocal(wildcard, f)
    expect(statuses(f.got)).toEqual([400, 400])
  })

  it('rejects with SipHeaderError a request with no Via, which no response could follow', async () => {
    const h = harness()
    const noVia: SipRequest = { ...request('MESSAGE', 'sip:bob@kaiwa') }
    noVia.headers = new SipHeaders([...noVia.headers].filter((x) => x.name !== 'Via'))
    const f = h.flow()
    await expect(h.router.fromLocal(noVia, f)).rejects.toBeInstanceOf(SipHeaderError)
    expect(f.got).toEqual([])
  })

  it('never answers an ACK, even one it cannot route (§17.1.1.3)', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal(request('ACK', 'sip:nobody@kaiwa'), f)
    await h.router.fromLocal(request('ACK', 'tel:+1555'), f)
    await h.router.fromLocal(request('ACK', 'sip:bob@kaiwa', [['Max-Forwards', '0']]), f)
    expect(f.got).toEqual([])
  })

  it('answers 503 with Retry-After when too many transactions are pending', async () => {
    const h = harness({ maxPending: 1 })
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const first = request('INVITE', 'sip:bob@kaiwa')
    await h.router.fromLocal(first, h.flow())
    await settle()
    const f = h.flow()
    await h.router.fromLocal(request('INVITE', 'sip:bob@kaiwa'), f)
    expect(statuses(f.got)).toEqual([503])
    expect(f.got[0]!.headers.get('retry-after')).toBe('5')
  })

  it('still takes ACK and CANCEL when too many transactions are pending: they open none', async () => {
    const h = harness({ maxPending: 1 })
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const inviteFlow = h.flow()
    await h.router.fromLocal(invite, inviteFlow)
    await settle()
    const link = h.links.get(B1.peer)!
    await h.router.fromLink(respond(invite, 180, 'Ringing'), link)
    const f = h.flow()
    await h.router.fromLocal({ ...invite, method: 'CANCEL' }, f)
    expect(statuses(f.got)).toEqual([200])
    await settle()
    expect(link.requests().map((r) => r.method)).toEqual(['INVITE', 'CANCEL'])
    await h.router.fromLink(respond(invite, 487, 'Request Terminated'), link)
    const a = h.flow()
    await h.router.fromLocal(ackFor(invite), a)
    await settle()
    expect(a.got).toEqual([])
    expect(link.requests().map((r) => r.method)).toEqual(['INVITE', 'CANCEL', 'ACK'])
  })
})

describe('SipRouter: in-dialog requests follow the GRUU Contact (RFC 5627 §3.1)', () => {
  it('routes a request to a GRUU straight to its device, with no lookup', async () => {
    const h = harness()
    const bye = request('BYE', `sip:bob@kaiwa;gr=${B2.peer};ua=b3`)
    const f = h.flow()
    await h.router.fromLocal(bye, f)
    await settle()
    expect(h.resolved).toEqual([])
    expect(h.linkCalls).toEqual([{ peer: B2.peer, addrs: [] }])
    expect(h.links.get(B2.peer)!.requests('BYE')).toHaveLength(1)
    await h.router.fromLink(respond(bye, 200, 'OK'), h.links.get(B2.peer)!)
    expect(statuses(f.got)).toEqual([200])
  })

  it('sends the ACK for a 2xx by its GRUU, without lookup or response (§13.2.2.4)', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(invite, f)
    await settle()
    const ok = respond(invite, 200, 'OK', [['Contact', `<sip:bob@kaiwa;gr=${B1.peer};ua=b1>`]])
    await h.router.fromLink(ok, h.links.get(B1.peer)!)
    // The 2xx ACK is a new transaction: a new branch, the Request-URI the Contact.
    const ack = request('ACK', `sip:bob@kaiwa;gr=${B1.peer};ua=b1`, [
      ['Call-ID', invite.headers.get('call-id')!],
    ])
    const a = h.flow()
    await h.router.fromLocal(ack, a)
    await settle()
    expect(h.resolved).toEqual(['bob'])
    expect(h.links.get(B1.peer)!.requests('ACK')).toEqual([ack])
    expect(a.got).toEqual([])
  })

  it('sends the ACK for a non-2xx final where the INVITE went, in its transaction (§17.1.1.3)', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1, B2] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(invite, f)
    await settle()
    await h.router.fromLink(respond(invite, 486, 'Busy Here'), h.links.get(B1.peer)!)
    await h.router.fromLink(respond(invite, 480, 'Temporarily Unavailable'), h.links.get(B2.peer)!)
    expect(statuses(f.got)).toEqual([486])
    await h.router.fromLocal(ackFor(invite), h.flow())
    await settle()
    expect(h.resolved).toEqual(['bob'])
    for (const peer of [B1.peer, B2.peer])
      expect(
        h.links
          .get(peer)!
          .requests()
          .map((r) => r.method),
      ).toEqual(['INVITE', 'ACK'])
  })
})

describe('SipRouter: CANCEL from a local UA (RFC 3261 §9.2, §16.10)', () => {
  it('answers 481 to a CANCEL that matches no pending INVITE', async () => {
    const h = harness()
    const f = h.flow()
    await h.router.fromLocal({ ...request('INVITE', 'sip:bob@kaiwa'), method: 'CANCEL' }, f)
    expect(statuses(f.got)).toEqual([481])
  })

  it('answers 200, CANCELs the ringing device, and relays its 487', async () => {
    const h = harness()
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const invite = request('INVITE', 'sip:bob@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(invite, f)
    await settle()
    const link = h.links.get(B1.peer)!
    await h.router.fromLink(respond(invite, 180, 'Ringing'), link)
    const c = h.flow()
    await h.router.fromLocal({ ...invite, method: 'CANCEL' }, c)
    await settle()
    expect(statuses(c.got)).toEqual([200])
    const cancel = link.requests('CANCEL')
    expect(cancel).toHaveLength(1)
    expect(cancel[0]!.headers.get('cseq')).toMatch(/ CANCEL$/)
    await h.router.fromLink(respond(invite, 487, 'Request Terminated'), link)
    expect(statuses(f.got)).toEqual([180, 487])
  })
})

describe('SipRouter: requests from the overlay to local user agents', () => {
  it('delivers to every registered UA and returns their responses on the link the request came on', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    const ui = await h.registerUa('sip:ui@127.0.0.1:5080')
    expect(h.registered()).toBe(2)
    const invite = request('INVITE', 'sip:alice@kaiwa')
    const caller = h.link('PEER_CALLER')
    await h.router.fromLink(invite, caller)
    // Each UA receives the request at the contact it registered.
    expect(desk.received.map((r) => r.req.uri)).toEqual(['sip:desk@127.0.0.1:5070'])
    expect(ui.received.map((r) => r.req.uri)).toEqual(['sip:ui@127.0.0.1:5080'])
    const deskReq = desk.received[0]!.req
    desk.received[0]!.answer(respond(deskReq, 180, 'Ringing'))
    desk.received[0]!.answer(
      respond(deskReq, 200, 'OK', [['Contact', '<sip:desk@127.0.0.1:5070>']]),
    )
    await settle()
    expect(statuses(caller.responses())).toEqual([180, 200])
    // The UA's Contact leaves the node as a GRUU naming this device and its binding.
    const binding = h.router.registrar.byContact('sip:desk@127.0.0.1:5070')!.id
    expect(caller.responses()[1]!.headers.get('contact')).toBe(
      `<sip:alice@kaiwa;gr=${SELF};ua=${binding}>`,
    )
    // The UI branch had not answered at all: its CANCEL waits for a provisional (§9.1).
    expect(ui.received.map((r) => r.req.method)).toEqual(['INVITE'])
    ui.received[0]!.answer(respond(ui.received[0]!.req, 180, 'Ringing'))
    await settle()
    expect(ui.received.map((r) => r.req.method)).toEqual(['INVITE', 'CANCEL'])
  })

  it('reopens the link when it closed before the response was ready', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    const msg = request('MESSAGE', 'sip:alice@kaiwa')
    const caller = h.link('PEER_CALLER')
    await h.router.fromLink(msg, caller)
    caller.open = false
    desk.received[0]!.answer(respond(desk.received[0]!.req, 200, 'OK'))
    await settle()
    expect(h.linkCalls).toEqual([{ peer: 'PEER_CALLER', addrs: [] }])
    expect(statuses(h.links.get('PEER_CALLER')!.responses())).toEqual([200])
    expect(h.messages.map((m) => [m.direction, m.status])).toEqual([['in', 200]])
  })

  it('delivers a GRUU request to its binding only', async () => {
    const h = harness()
    await h.registerUa('sip:desk@127.0.0.1:5070')
    const ui = await h.registerUa('sip:ui@127.0.0.1:5080')
    const id = h.router.registrar.byContact('sip:ui@127.0.0.1:5080')!.id
    await h.router.fromLink(request('BYE', `sip:alice@kaiwa;gr=${SELF};ua=${id}`), h.link('X'))
    expect(ui.received.map((r) => r.req.method)).toEqual(['BYE'])
    expect(h.router.registrar.byContact('sip:desk@127.0.0.1:5070')).toBeDefined()
  })

  it('answers 404 for a GRUU naming another device, or another user', async () => {
    const h = harness()
    await h.registerUa('sip:desk@127.0.0.1:5070')
    const link = h.link('X')
    await h.router.fromLink(request('BYE', `sip:alice@kaiwa;gr=${B1.peer};ua=b1`), link)
    await h.router.fromLink(request('INVITE', 'sip:carol@kaiwa'), link)
    expect(statuses(link.responses())).toEqual([404, 404])
  })

  it('with no UA registered, takes a MESSAGE itself once it is stored, and answers 480 to INVITE', async () => {
    const h = harness()
    const link = h.link('X')
    await h.router.fromLink(request('MESSAGE', 'sip:alice@kaiwa'), link)
    await h.router.fromLink(request('INVITE', 'sip:alice@kaiwa'), link)
    expect(statuses(link.responses())).toEqual([200, 480])
    expect(h.messages.map((m) => [m.direction, m.status])).toEqual([['in', 200]])
  })

  it('answers 500 when the MESSAGE it takes itself cannot be stored', async () => {
    const h = harness({ onMessage: () => Promise.reject(new Error('disk full')) })
    const link = h.link('X')
    await h.router.fromLink(request('MESSAGE', 'sip:alice@kaiwa'), link)
    expect(statuses(link.responses())).toEqual([500])
  })

  it('CANCEL from the overlay: 200 and the ringing UA is CANCELled; 481 when nothing matches', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    const invite = request('INVITE', 'sip:alice@kaiwa')
    const link = h.link('X')
    await h.router.fromLink(invite, link)
    desk.received[0]!.answer(respond(desk.received[0]!.req, 180, 'Ringing'))
    await settle()
    await h.router.fromLink({ ...invite, method: 'CANCEL' }, link)
    await h.router.fromLink({ ...request('INVITE', 'sip:alice@kaiwa'), method: 'CANCEL' }, link)
    expect(statuses(link.responses())).toEqual([180, 200, 481])
    expect(desk.received.map((r) => r.req.method)).toEqual(['INVITE', 'CANCEL'])
  })

  it('ignores a duplicate of a request it is already delivering', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    const invite = request('INVITE', 'sip:alice@kaiwa')
    await h.router.fromLink(invite, h.link('X'))
    await h.router.fromLink(invite, h.link('X'))
    expect(desk.received).toHaveLength(1)
  })

  it('forks to this very node as a device without a link (the same account on two UAs)', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    h.resolutions.set('alice', { kind: 'found', devices: [{ peer: SELF, addrs: [] }] })
    const msg = request('MESSAGE', 'sip:alice@kaiwa')
    const f = h.flow()
    await h.router.fromLocal(msg, f)
    await settle()
    expect(h.linkCalls).toEqual([])
    expect(desk.received.map((r) => r.req.method)).toEqual(['MESSAGE'])
    desk.received[0]!.answer(respond(desk.received[0]!.req, 200, 'OK'))
    await settle()
    expect(statuses(f.got)).toEqual([200])
  })

  it('deliverLocally resolves with the final status of a local delivery', async () => {
    const h = harness()
    const desk = await h.registerUa('sip:desk@127.0.0.1:5070')
    const status = h.router.deliverLocally(request('MESSAGE', 'sip:alice@kaiwa'))
    await settle()
    desk.received[0]!.answer(respond(desk.received[0]!.req, 202, 'Accepted'))
    expect(await status).toBe(202)
  })
})
