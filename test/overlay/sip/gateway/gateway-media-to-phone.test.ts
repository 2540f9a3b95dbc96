/**
 * The gateway's edge for requests from the overlay to a phone (issue 12 §1
 * and §3), on real loopback sockets with a scripted router and a recording
 * GatewayMedia: the INVITE carries our Record-Route only; the offer crosses
 * overlay-to-phone and the phone's answer back, without the Record-Route it
 * echoed; a refused offer is a 488 toward the overlay (the phone never
 * rings); a refused answer is a 488 toward the overlay while the phone's 2xx
 * is ACKed and BYE'd; BYE, CANCEL and a decline end the media; a CANCEL never
 * overtakes the INVITE whose offer is still crossing.
 */
import { describe, expect, it } from 'vitest'
import { createResponse } from '../../../../src/shared/sip/sip-message.js'
import type { SipRequest } from '../../../../src/shared/sip/sip-message.js'
import { buildRequest, isRequest } from '../../../helpers/sip-wire.js'
import {
  ANSWER,
  OFFER,
  body,
  callIdOf,
  collect,
  deliver,
  gw,
  media,
  overlayInvite,
  phone,
  sleep,
  until,
  withSdp,
  useGateway,
} from './media-edge-fixture.js'

describe('the gateway between a phone and the overlay: requests from the overlay', () => {
  useGateway()

  it('overlay calls the phone: the INVITE gets our Record-Route only, the answer crosses back without it', async () => {
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, inv, on)
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    expect(body(atPhone)).toBe(`${OFFER}a=x-crossed:offer overlay-to-phone\r\n`)
    expect(atPhone.headers.getAll('record-route')).toEqual([
      `<sip:127.0.0.1:${gw.port};transport=udp;lr>`,
    ])
    const ok = withSdp(
      createResponse(
        atPhone,
        200,
        'OK',
        [['Contact', `<sip:alice@127.0.0.1:${phone.port}>`]],
        'a1',
      ),
      ANSWER,
    )
    phone.send(gw.port, ok)
    const up = await until(() => got.find((r) => r.status === 200), 'the 200 upstream')
    expect(body(up)).toBe(`${ANSWER}a=x-crossed:answer phone-to-overlay\r\n`)
    expect(up.headers.has('record-route')).toBe(false)

    // The overlay hangs up: the dialog's media ends.
    const bye = buildRequest({
      method: 'BYE',
      uri: `sip:alice@127.0.0.1:${phone.port}`,
      from: 'sip:bob@kaiwa',
    })
    bye.headers.set('Call-ID', callIdOf(inv))
    deliver(`sip:alice@127.0.0.1:${phone.port}`, bye, () => {})
    await phone.next((m) => isRequest('BYE')(m) && callIdOf(m) === callIdOf(inv))
    expect(media.ended).toEqual([callIdOf(inv)])
  })

  it('answers 488 toward the overlay when its offer is refused; the phone never rings', async () => {
    media.refuse = () => true
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, inv, on)
    const res = await until(() => got[0], 'the 488 upstream')
    expect(res.status).toBe(488)
    expect(res.headers.get('reason')).toMatch(/^SIP ;cause=488 ;text=/)
    await sleep(100)
    expect(phone.count((m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(inv))).toBe(0)
    expect(media.ended).toEqual([callIdOf(inv)])
  })

  it('answers 488 toward the overlay when the phone’s answer is refused, and ACKs and BYEs the phone', async () => {
    media.refuse = (c) => c.kind === 'answer'
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, inv, on)
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    const contact = `sip:alice@127.0.0.1:${phone.port}`
    phone.send(
      gw.port,
      withSdp(createResponse(atPhone, 200, 'OK', [['Contact', `<${contact}>`]], 'a2'), ANSWER),
    )
    const res = await until(() => got.find((r) => r.status >= 200), 'the final upstream')
    expect(res.status).toBe(488)
    const ack = (await phone.next(
      (m) => isRequest('ACK')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    const bye = (await phone.next(
      (m) => isRequest('BYE')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    expect(ack.uri).toBe(contact)
    expect(bye.headers.get('to')).toMatch(/tag=a2/)
    expect(media.ended).toContain(callIdOf(inv))
  })

  it('ends the media when the overlay CANCELs or the phone declines', async () => {
    const contact = `sip:alice@127.0.0.1:${phone.port}`
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    deliver(contact, inv, on)
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    phone.send(gw.port, createResponse(atPhone, 486, 'Busy Here', [], 'b1'))
    await until(() => got.find((r) => r.status === 486), 'the 486 upstream')
    expect(media.ended).toEqual([callIdOf(inv)])

    const second = overlayInvite(OFFER)
    deliver(contact, second, () => {})
    await phone.next((m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(second))
    const cancel = {
      ...second,
      method: 'CANCEL',
      headers: second.headers.clone(),
      body: new Uint8Array(0),
    }
    cancel.headers.set('CSeq', '1 CANCEL')
    deliver(contact, cancel, () => {})
    expect(media.ended).toEqual([callIdOf(inv), callIdOf(second)])
  })

  it('keeps a CANCEL behind the INVITE whose offer is still crossing (one lane per Call-ID)', async () => {
    const contact = `sip:alice@127.0.0.1:${phone.port}`
    const inv = overlayInvite(OFFER)
    const cancel = {
      ...inv,
      method: 'CANCEL',
      headers: inv.headers.clone(),
      body: new Uint8Array(0),
    }
    cancel.headers.set('CSeq', '1 CANCEL')
    deliver(contact, inv, () => {})
    deliver(contact, cancel, () => {}) // while the anchor still holds the offer
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === callIdOf(inv),
    )) as SipRequest
    phone.send(gw.port, createResponse(atPhone, 180, 'Ringing', [], 'c1'))
    // §9.1: the gateway sends the CANCEL once the phone has answered provisionally.
    await phone.next((m) => isRequest('CANCEL')(m) && callIdOf(m) === callIdOf(inv))
  })
})
