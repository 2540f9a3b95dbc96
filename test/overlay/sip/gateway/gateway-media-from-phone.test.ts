/**
 * The gateway's edge for requests from a phone (issue 12 §1 and §3), on real
 * loopback sockets with a scripted router and a recording GatewayMedia:
 *
 * - the phone's dialog-creating responses carry our Record-Route (and only
 *   ours), the overlay leg none, and our Route is popped from the phone's
 *   in-dialog ACK, BYE, UPDATE, INFO and REFER (§16.4);
 * - its offer crosses phone-to-overlay and the answer back (an offerless
 *   INVITE: the 2xx's offer, then the ACK's answer); `end` on BYE;
 * - a refused offer is a 488 with an RFC 3326 Reason to the phone; a refused
 *   answer in the overlay's 2xx is a 488 to the phone, and the overlay's 2xx
 *   is ACKed and BYE'd; a refused answer in the phone's ACK (offerless
 *   INVITE) lets the ACK on without its body and BYEs both legs.
 */
import { describe, expect, it } from 'vitest'
import { respond } from '../../../../src/shared/sip/responses.js'
import type { SipRequest, SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { buildRequest, isRequest, isResponse, withCredentials } from '../../../helpers/sip-wire.js'
import {
  ANSWER,
  GRUU,
  OFFER,
  body,
  callIdOf,
  gw,
  inDialog,
  invite,
  media,
  phone,
  routedReq,
  router,
  signed,
  until,
  withSdp,
  nextId,
  useGateway,
} from './media-edge-fixture.js'

describe('the gateway between a phone and the overlay: requests from the phone', () => {
  useGateway()

  it('phone calls out: offer and answer cross, the 200 Record-Routes the gateway, ACK and BYE come back through it', async () => {
    router.handler = (m, flow) => {
      if (m.kind !== 'request' || m.method !== 'INVITE') return
      flow.send(respond(m, 180, 'Ringing', [['Contact', `<${GRUU}>`]]))
      flow.send(withSdp(respond(m, 200, 'OK', [['Contact', `<${GRUU}>`]]), ANSWER))
    }
    const inv = await signed(invite(OFFER))
    const id = callIdOf(inv)
    const routed = await until(() => routedReq('INVITE', id), 'the INVITE at the router')
    expect(body(routed)).toBe(`${OFFER}a=x-crossed:offer phone-to-overlay\r\n`)
    expect(routed.headers.has('record-route')).toBe(false) // no loopback hop into the overlay
    const ok = (await phone.next((m) => isResponse(200)(m) && callIdOf(m) === id)) as SipResponse
    expect(body(ok)).toBe(`${ANSWER}a=x-crossed:answer overlay-to-phone\r\n`)
    const ownRoute = `<sip:127.0.0.1:${gw.port};transport=udp;lr>`
    expect(ok.headers.getAll('record-route')).toEqual([ownRoute])
    expect(
      (await phone.next((m) => isResponse(180)(m) && callIdOf(m) === id)).headers.getAll(
        'record-route',
      ),
    ).toEqual([ownRoute])

    const seq = Number(/^\d+/.exec(inv.headers.get('cseq')!)![0])
    phone.send(gw.port, inDialog('ACK', inv, ok, seq))
    const ack = await until(() => routedReq('ACK', id), 'the ACK at the router')
    expect(ack.uri).toBe(GRUU)
    expect(ack.headers.has('route')).toBe(false) // §16.4: our own Route is consumed
    expect(media.ended).toEqual([])

    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'BYE') flow.send(respond(m, 200, 'OK'))
    }
    const bye = inDialog('BYE', inv, ok, seq + 1)
    const fromNow = phone.received.length
    phone.send(gw.port, bye)
    const challenge = (await phone.next(isResponse(407), 2000, fromNow)) as SipResponse
    phone.send(gw.port, withCredentials(bye, challenge, 'alice', 'pw'))
    const routedBye = await until(() => routedReq('BYE', id), 'the BYE at the router')
    expect(routedBye.headers.has('route')).toBe(false)
    expect(media.ended).toEqual([id])
    expect(media.crossings.map((c) => `${c.kind} ${c.direction}`)).toEqual([
      'offer phone-to-overlay',
      'answer overlay-to-phone',
    ])
  })

  /**
   * The phone's offerless INVITE, answered by the overlay with a 2xx that
   * carries the offer; the phone's ACK carries the answer. Returns the 2xx as
   * the phone got it and the ACK as the router got it.
   */
  async function offerlessCall(): Promise<{ id: string; ok: SipResponse; ack: SipRequest }> {
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'INVITE')
        flow.send(withSdp(respond(m, 200, 'OK', [['Contact', `<${GRUU}>`]]), OFFER))
    }
    const inv = await signed(invite())
    const id = callIdOf(inv)
    const ok = (await phone.next((m) => isResponse(200)(m) && callIdOf(m) === id)) as SipResponse
    const seq = Number(/^\d+/.exec(inv.headers.get('cseq')!)![0])
    phone.send(gw.port, withSdp(inDialog('ACK', inv, ok, seq), ANSWER))
    const ack = await until(() => routedReq('ACK', id), 'the ACK at the router')
    return { id, ok, ack }
  }

  it('phone sends an offerless INVITE: the 2xx carries the offer, the ACK the answer', async () => {
    const { ok, ack } = await offerlessCall()
    expect(body(ok)).toBe(`${OFFER}a=x-crossed:offer overlay-to-phone\r\n`)
    expect(body(ack)).toBe(`${ANSWER}a=x-crossed:answer phone-to-overlay\r\n`)
  })

  it('when the phone’s answer in an ACK is refused, the ACK goes on bare and both legs get a BYE', async () => {
    media.refuse = (c) => c.kind === 'answer'
    const { id, ok, ack } = await offerlessCall()
    expect(ack.body.length).toBe(0)
    const bye = await until(() => routedReq('BYE', id), 'the BYE toward the overlay')
    expect(bye.uri).toBe(GRUU)
    const toPhone = (await phone.next(
      (m) => isRequest('BYE')(m) && callIdOf(m) === id,
    )) as SipRequest
    expect(toPhone.uri).toBe(`sip:alice@127.0.0.1:${phone.port}`)
    expect(toPhone.headers.get('from')).toBe(ok.headers.get('to'))
    expect(media.ended).toEqual([id])
  })

  it('pops our Route from the phone’s in-dialog UPDATE, INFO and REFER; an UPDATE’s offer and answer cross', async () => {
    router.handler = (m, flow) => {
      if (m.kind !== 'request') return
      const res = respond(m, 200, 'OK')
      flow.send(m.method === 'UPDATE' ? withSdp(res, ANSWER) : res)
    }
    const route = `<sip:127.0.0.1:${gw.port};transport=udp;lr>`
    for (const method of ['UPDATE', 'INFO', 'REFER']) {
      const req = buildRequest({
        method,
        uri: GRUU,
        from: 'sip:alice@kaiwa',
        extra: [
          ['Route', route],
          ['Contact', `<sip:alice@127.0.0.1:${phone.port}>`],
        ],
      })
      req.headers.set('To', '<sip:bob@kaiwa>;tag=far')
      req.headers.set('Call-ID', `indialog-${method}-${nextId()}`)
      const sent = await signed(method === 'UPDATE' ? withSdp(req, OFFER) : req)
      const id = callIdOf(sent)
      const routed = await until(() => routedReq(method, id), `the ${method} at the router`)
      expect(routed.uri).toBe(GRUU)
      expect(routed.headers.has('route')).toBe(false)
      const ok = (await phone.next((m) => isResponse(200)(m) && callIdOf(m) === id)) as SipResponse
      expect(ok.headers.has('record-route')).toBe(false) // in-dialog: the route set is fixed (§12.2.1.2)
      if (method === 'UPDATE') {
        expect(body(routed)).toBe(`${OFFER}a=x-crossed:offer phone-to-overlay\r\n`)
        expect(body(ok)).toBe(`${ANSWER}a=x-crossed:answer overlay-to-phone\r\n`)
      }
    }
  })

  it('answers 488 with an RFC 3326 Reason when the phone’s offer is refused; the overlay sees nothing', async () => {
    media.refuse = () => true
    const inv = await signed(invite(OFFER))
    const id = callIdOf(inv)
    const res = (await phone.next((m) => isResponse(488)(m) && callIdOf(m) === id)) as SipResponse
    expect(res.headers.get('reason')).toBe('SIP ;cause=488 ;text="No common \\"codec\\""')
    expect(routedReq('INVITE', id)).toBeUndefined()
    expect(media.ended).toEqual([id])
  })

  it('answers 488 to the phone when the overlay’s answer is refused, and ACKs and BYEs the overlay’s 2xx', async () => {
    media.refuse = (c) => c.kind === 'answer'
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'INVITE')
        flow.send(withSdp(respond(m, 200, 'OK', [['Contact', `<${GRUU}>`]]), ANSWER))
    }
    const inv = await signed(invite(OFFER))
    const id = callIdOf(inv)
    const res = (await phone.next(
      (m) => m.kind === 'response' && m.status >= 200 && m.status !== 407 && callIdOf(m) === id,
    )) as SipResponse
    expect(res.status).toBe(488)
    expect(res.headers.get('reason')).toMatch(/^SIP ;cause=488 ;text=/)
    const ack = await until(() => routedReq('ACK', id), 'the gateway’s ACK')
    const bye = await until(() => routedReq('BYE', id), 'the gateway’s BYE')
    expect(ack.uri).toBe(GRUU)
    expect(bye.uri).toBe(GRUU)
    expect(bye.headers.get('from')).toBe(inv.headers.get('from'))
    expect(media.ended).toContain(id)
  })
})
