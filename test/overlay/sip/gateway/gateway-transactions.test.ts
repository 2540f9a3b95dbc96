/**
 * The gateway's transaction layer and authentication, on real loopback sockets
 * with a scripted router in place of the overlay and short timers (T1 = 40 ms):
 * retransmissions absorbed, Timer G and 2xx retransmission until the ACK,
 * Timer E and the synthetic 408, ACK of non-2xx finals, CANCEL held until a
 * provisional response, delivery over the phone's TCP connection, and digest
 * challenges (stale nonces, repeated failures, ACK/CANCEL never challenged).
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { SipGateway } from '../../../../src/overlay/sip/gateway/sip-gateway.js'
import type { Deliver } from '../../../../src/overlay/sip/local-registrar.js'
import type { SipFlow } from '../../../../src/overlay/sip/sip-router-types.js'
import {
  SipHeaders,
  createResponse,
  serializeSipMessage,
  topVia,
} from '../../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { respond } from '../../../../src/shared/sip/responses.js'
import { SipStreamFramer } from '../../../../src/shared/sip/stream-framer.js'
import { aliceGateway } from './alice-gateway.js'
import {
  UdpPeer,
  buildRequest,
  isRequest,
  isResponse,
  withCredentials,
} from '../../../helpers/sip-wire.js'

/** The router stand-in: records what reaches it and answers as each test scripts. */
const router = {
  calls: [] as SipMessage[],
  handler: (_msg: SipMessage, _flow: SipFlow): void => {},
  async fromLocal(msg: SipMessage, flow: SipFlow): Promise<void> {
    this.calls.push(msg)
    this.handler(msg, flow)
  },
}

let gw: SipGateway
let phone: UdpPeer
const T1 = 40

const callIdOf = (m: SipMessage): string => m.headers.get('call-id') ?? ''
const routed = (method: string, callId: string): number =>
  router.calls.filter((m) => m.kind === 'request' && m.method === method && callIdOf(m) === callId)
    .length
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Send `req`, answer the challenge; returns the request as finally sent. */
async function signed(req: SipRequest, password = 'pw'): Promise<SipRequest> {
  const from = phone.received.length
  phone.send(gw.port, req)
  const ch = (await phone.next(
    (m) => m.kind === 'response' && m.status >= 401 && callIdOf(m) === callIdOf(req),
    2000,
    from,
  )) as SipResponse
  const again = withCredentials(req, ch, 'alice', password)
  phone.send(gw.port, again)
  return again
}

function request(method: string, extra: Array<[string, string]> = []): SipRequest {
  // A REGISTER is for the gateway's own user (any other gets 403 before a challenge).
  const to = method === 'REGISTER' ? { to: 'sip:alice@kaiwa' } : {}
  return buildRequest({ method, uri: 'sip:bob@kaiwa', from: 'sip:alice@kaiwa', ...to, extra })
}

function ackFor(invite: SipRequest, res: SipResponse, newBranch: boolean): SipRequest {
  const via = invite.headers.get('via')!
  const headers = new SipHeaders([
    ['Via', newBranch ? via.replace(/branch=[^;]+/, 'branch=z9hG4bKack2xx') : via],
    ['Max-Forwards', '70'],
    ['From', invite.headers.get('from')!],
    ['To', res.headers.get('to')!],
    ['Call-ID', callIdOf(invite)],
    ['CSeq', `${/^\d+/.exec(invite.headers.get('cseq')!)![0]} ACK`],
  ])
  return { ...invite, method: 'ACK', headers, body: new Uint8Array(0) }
}

describe('SIP gateway transactions and authentication', () => {
  beforeAll(async () => {
    gw = aliceGateway({
      router,
      password: 'pw',
      tuning: { timers: { t1: T1, t2: 8 * T1, t4: 10 * T1 }, nonceTtlMs: 1000, maxAuthFailures: 3 },
    })
    await gw.start(0)
  })
  afterAll(async () => {
    await gw.stop()
  })
  beforeEach(async () => {
    phone?.close()
    phone = await UdpPeer.open()
    router.calls.length = 0
    router.handler = () => {}
  })

  it('absorbs a retransmitted request and re-sends the last response (§17.2.2)', async () => {
    router.handler = (m, flow) => {
      if (m.kind === 'request') flow.send(respond(m, 200, 'OK'))
    }
    const req = await signed(request('MESSAGE'))
    await phone.next(isResponse(200))
    phone.send(gw.port, req) // the same bytes again: a retransmission
    await phone.next(() => phone.count(isResponse(200)) === 2)
    expect(routed('MESSAGE', callIdOf(req))).toBe(1)
  })

  it('sends 100 at once and repeats an INVITE 486 per Timer G until the ACK, which it absorbs', async () => {
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'INVITE')
        setTimeout(() => flow.send(respond(m, 486, 'Busy Here')), 10)
    }
    const from = phone.received.length
    const invite = await signed(request('INVITE'))
    await phone.next(isResponse(100), 2000, from)
    const busy = (await phone.next(isResponse(486))) as SipResponse
    await phone.next(() => phone.count(isResponse(486)) >= 3, 2000) // T1, 2*T1, 4*T1
    phone.send(gw.port, ackFor(invite, busy, false))
    await sleep(10 * T1)
    const n = phone.count(isResponse(486))
    await sleep(10 * T1)
    expect(phone.count(isResponse(486))).toBe(n) // stopped by the ACK
    expect(routed('ACK', callIdOf(invite))).toBe(0) // hop-by-hop: absorbed (§17.2.1)
  })

  it('repeats an INVITE 2xx to a UDP phone until its ACK, which goes on to the router (§13.3.1.4)', async () => {
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'INVITE')
        flow.send(createResponse(m, 200, 'OK', [['Contact', '<sip:bob@kaiwa;gr=x;ua=b1>']], 'uas'))
    }
    const invite = await signed(request('INVITE'))
    const ok = (await phone.next(isResponse(200))) as SipResponse
    await phone.next(() => phone.count(isResponse(200)) >= 3)
    phone.send(gw.port, ackFor(invite, ok, true))
    await sleep(10 * T1)
    const n = phone.count(isResponse(200))
    await sleep(10 * T1)
    expect(phone.count(isResponse(200))).toBe(n)
    expect(routed('ACK', callIdOf(invite))).toBe(1)
  })

  it('never challenges ACK or CANCEL (§22.1)', async () => {
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'CANCEL') flow.send(respond(m, 481, 'No such call'))
    }
    const cancel = request('CANCEL')
    phone.send(gw.port, cancel)
    expect(((await phone.next(isResponse(481))) as SipResponse).status).toBe(481)
    expect(phone.count((m) => m.kind === 'response' && m.status === 407)).toBe(0)
    phone.send(gw.port, request('ACK'))
    await sleep(100)
    expect(router.calls.filter((m) => m.kind === 'request' && m.method === 'ACK')).toHaveLength(1)
  })

  it('challenges again with stale=true once a nonce is too old (RFC 2617 §3.2.1)', async () => {
    const reg = request('REGISTER')
    phone.send(gw.port, reg)
    const ch = (await phone.next(isResponse(401))) as SipResponse
    expect(ch.headers.getAll('www-authenticate').join()).not.toMatch(/stale/)
    await sleep(1100) // nonceTtlMs is 1000
    phone.send(gw.port, withCredentials(reg, ch, 'alice', 'pw'))
    await phone.next(() => phone.count(isResponse(401)) === 2)
    const again = phone.received.filter(isResponse(401))[1] as SipResponse
    expect(again.headers.getAll('www-authenticate').join()).toMatch(/stale=true/)
    expect(router.calls).toEqual([])
  })

  it('answers 403 after repeated wrong passwords from one source', async () => {
    const reg = request('REGISTER')
    phone.send(gw.port, reg)
    let ch = (await phone.next(isResponse(401))) as SipResponse
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const from = phone.received.length
      phone.send(gw.port, withCredentials(reg, ch, 'alice', i < 3 ? 'guess' : 'pw'))
      const r = (await phone.next((m) => m.kind === 'response', 2000, from)) as SipResponse
      statuses.push(r.status)
      if (r.status === 401) ch = r
    }
    // Two more challenges, then 403 - even for the right password, within the window.
    expect(statuses).toEqual([401, 401, 403, 403])
    expect(router.calls).toEqual([])
  })

  describe('requests to a registered phone', () => {
    let deliver: Deliver

    beforeEach(async () => {
      router.handler = (m, flow) => {
        if (m.kind === 'request' && m.method === 'REGISTER') {
          deliver = flow.deliver!
          flow.send(respond(m, 200, 'OK'))
        }
      }
      await signed(request('REGISTER', [['Contact', `<sip:alice@127.0.0.1:${phone.port}>`]]))
      await phone.next(isResponse(200))
    })

    const contact = (): string => `sip:alice@127.0.0.1:${phone.port}`

    it('retransmits per Timer E and gives the router a 408 after Timer F (64*T1)', async () => {
      const got: SipResponse[] = []
      const msg = request('MESSAGE')
      deliver(contact(), msg, (r) => got.push(r))
      const sent = (await phone.next(isRequest('MESSAGE'))) as SipRequest
      const via = topVia(sent)
      expect(`${via.host}:${via.port}`).toBe(`127.0.0.1:${gw.port}`) // our Via on top (§16.6 step 8)
      await sleep(64 * T1 + 200)
      expect(phone.count(isRequest('MESSAGE'))).toBeGreaterThanOrEqual(4)
      expect(got.map((r) => r.status)).toEqual([408])
      expect(topVia(got[0]!).branch).toBe(topVia(msg).branch) // the router's Via, not ours
    })

    it('passes one final up, pops its Via, absorbs retransmissions; ACKs a non-2xx itself', async () => {
      const got: SipResponse[] = []
      const msg = request('MESSAGE')
      deliver(contact(), msg, (r) => got.push(r))
      const sent = (await phone.next(isRequest('MESSAGE'))) as SipRequest
      const ok = createResponse(sent, 200, 'OK', [], 'ph')
      phone.send(gw.port, ok)
      phone.send(gw.port, ok)
      await sleep(100)
      expect(got.map((r) => r.status)).toEqual([200])
      expect(got[0]!.headers.getAll('via')).toEqual(msg.headers.getAll('via'))

      const calls: number[] = []
      deliver(contact(), request('INVITE'), (r) => calls.push(r.status))
      const inv = (await phone.next(isRequest('INVITE'))) as SipRequest
      const busy = createResponse(inv, 486, 'Busy Here', [], 'ph')
      phone.send(gw.port, busy)
      const ack = (await phone.next(isRequest('ACK'))) as SipRequest
      expect(topVia(ack).branch).toBe(topVia(inv).branch) // §17.1.1.3
      expect(ack.headers.get('to')).toContain('tag=ph')
      phone.send(gw.port, busy) // retransmitted final: ACKed again, not passed up
      await phone.next(() => phone.count(isRequest('ACK')) === 2)
      expect(calls).toEqual([486])
    })

    it('holds a CANCEL until the phone has sent a provisional response (§9.1)', async () => {
      const invite = request('INVITE')
      deliver(contact(), invite, () => {})
      const inv = (await phone.next(isRequest('INVITE'))) as SipRequest
      deliver(
        contact(),
        { ...invite, method: 'CANCEL', headers: invite.headers.clone().set('CSeq', '1 CANCEL') },
        () => {},
      )
      await sleep(5 * T1)
      expect(phone.count(isRequest('CANCEL'))).toBe(0)
      phone.send(gw.port, createResponse(inv, 180, 'Ringing', [], 'ph'))
      const cancel = (await phone.next(isRequest('CANCEL'))) as SipRequest
      expect(topVia(cancel).branch).toBe(topVia(inv).branch)
    })
  })

  it('reaches a phone that registered over TCP on that same connection', async () => {
    let deliver: Deliver | undefined
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'REGISTER') {
        deliver ??= flow.deliver
        flow.send(respond(m, 200, 'OK'))
      }
    }
    const sock = connect({ port: gw.port, host: '127.0.0.1' })
    const framer = new SipStreamFramer()
    const got: SipMessage[] = []
    sock.on('data', (c) => {
      for (const r of framer.push(new Uint8Array(c)))
        if (r.ok && r.message != null) got.push(r.message)
    })
    await new Promise((r) => sock.once('connect', r))
    const wait = async (pred: (m: SipMessage) => boolean): Promise<SipMessage> => {
      for (let i = 0; i < 100; i++) {
        const m = got.find(pred)
        if (m != null) return m
        await sleep(20)
      }
      throw new Error('nothing arrived over TCP')
    }
    const reg = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:alice@kaiwa',
      transport: 'TCP',
      extra: [['Contact', '<sip:alice@192.0.2.1:5999;transport=tcp>']],
    })
    sock.write(serializeSipMessage(reg))
    const ch = (await wait(isResponse(401))) as SipResponse
    sock.write(serializeSipMessage(withCredentials(reg, ch, 'alice', 'pw')))
    await wait(isResponse(200))
    const statuses: number[] = []
    deliver!('sip:alice@192.0.2.1:5999;transport=tcp', request('MESSAGE'), (r) =>
      statuses.push(r.status),
    )
    const msg = (await wait(isRequest('MESSAGE'))) as SipRequest
    expect(topVia(msg).transport).toBe('TCP')
    sock.write(serializeSipMessage(createResponse(msg, 200, 'OK', [], 'tcp')))
    await sleep(100)
    expect(statuses).toEqual([200])
    sock.destroy()
    await sleep(50)
    deliver!('sip:alice@192.0.2.1:5999;transport=tcp', request('MESSAGE'), (r) =>
      statuses.push(r.status),
    )
    expect(statuses).toEqual([200, 503]) // the flow is gone: a transport error (§8.1.3.1)
    // ...and the binding made over it is removed from the registrar.
    const unregister = router.calls.at(-1) as SipRequest
    expect(unregister.method).toBe('REGISTER')
    expect(unregister.headers.get('contact')).toBe(
      '<sip:alice@192.0.2.1:5999;transport=tcp>;expires=0',
    )
  })
})
