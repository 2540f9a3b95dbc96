/**
 * When the media anchor frees a call on its own (no media for its idle
 * timeout), the gateway ends the confirmed dialog at both ends: a BYE to the
 * phone speaking for the overlay party and a BYE into the overlay speaking for
 * the phone, each with the dialog's tags, the remote target as Request-URI, a
 * CSeq above every one that party sent (RFC 3261 §12.2.1.1, §12.2.2) and the
 * anchor's RFC 3326 Reason. Real loopback sockets, a scripted router and a
 * recording GatewayMedia (media-edge-fixture.ts).
 */
import { describe, expect, it } from 'vitest'
import { respond } from '../../../../src/shared/sip/responses.js'
import { createResponse, cseq } from '../../../../src/shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { isRequest, isResponse } from '../../../helpers/sip-wire.js'
import {
  ANSWER,
  GRUU,
  OFFER,
  callIdOf,
  collect,
  deliver,
  gw,
  inDialog,
  invite,
  media,
  overlayInvite,
  phone,
  routedReq,
  router,
  signed,
  sleep,
  until,
  withSdp,
  useGateway,
} from './media-edge-fixture.js'

const REASON = 'Q.850 ;cause=102 ;text="No media for 60 s"'

describe('the gateway ends a call whose media went idle', () => {
  useGateway()

  it('phone called out: BYE to the phone as the overlay party, BYE into the overlay as the phone', async () => {
    router.handler = (m, flow) => {
      if (m.kind !== 'request' || m.method !== 'INVITE') return
      flow.send(withSdp(createResponse(m, 200, 'OK', [['Contact', `<${GRUU}>`]], 'b7'), ANSWER))
    }
    const inv = await signed(invite(OFFER))
    const id = callIdOf(inv)
    const ok = (await phone.next((m) => isResponse(200)(m) && callIdOf(m) === id)) as SipResponse
    const seq = cseq(inv).seq
    phone.send(gw.port, inDialog('ACK', inv, ok, seq))
    await until(() => routedReq('ACK', id), 'the ACK at the router')

    // The overlay party sent an in-dialog request with a high CSeq: our BYE to the phone must exceed it.
    const info = inDialog('INFO', inv, ok, 41)
    info.headers.set('From', ok.headers.get('to')!)
    info.headers.set('To', inv.headers.get('from')!)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, info, () => {})
    const gotInfo = (await phone.next(
      (m) => isRequest('INFO')(m) && callIdOf(m) === id,
    )) as SipRequest
    phone.send(gw.port, respond(gotInfo, 200, 'OK'))

    media.idle!(id, REASON)
    const bye = (await phone.next((m) => isRequest('BYE')(m) && callIdOf(m) === id)) as SipRequest
    expect(bye.uri).toBe(`sip:alice@127.0.0.1:${phone.port}`)
    expect(bye.headers.get('from')).toBe(ok.headers.get('to'))
    expect(bye.headers.get('to')).toBe(inv.headers.get('from'))
    expect(cseq(bye)).toEqual({ seq: 42, method: 'BYE' })
    expect(bye.headers.get('reason')).toBe(REASON)
    phone.send(gw.port, respond(bye, 200, 'OK'))

    const up = await until(() => routedReq('BYE', id), 'the BYE into the overlay')
    expect(up.uri).toBe(GRUU)
    expect(up.headers.get('from')).toBe(inv.headers.get('from'))
    expect(up.headers.get('to')).toBe(ok.headers.get('to'))
    expect(cseq(up)).toEqual({ seq: seq + 1, method: 'BYE' })
    expect(up.headers.get('reason')).toBe(REASON)
    expect(media.ended).toContain(id)

    // Ended once: a second report finds no dialog.
    const before = router.calls.length
    media.idle!(id, REASON)
    await sleep(100)
    expect(router.calls.length).toBe(before)
  })

  it('overlay called the phone: the same, with the CSeqs the other way round', async () => {
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    const id = callIdOf(inv)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, inv, on)
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === id,
    )) as SipRequest
    const contact: [string, string] = ['Contact', `<sip:alice@127.0.0.1:${phone.port}>`]
    phone.send(gw.port, withSdp(createResponse(atPhone, 200, 'OK', [contact], 'a1'), ANSWER))
    const ok = await until(() => got.find((r) => r.status === 200), 'the 200 upstream')

    media.idle!(id, REASON)
    const bye = (await phone.next((m) => isRequest('BYE')(m) && callIdOf(m) === id)) as SipRequest
    expect(bye.headers.get('from')).toBe(inv.headers.get('from'))
    expect(bye.headers.get('to')).toBe(ok.headers.get('to'))
    expect(cseq(bye)).toEqual({ seq: cseq(inv).seq + 1, method: 'BYE' })
    phone.send(gw.port, respond(bye, 200, 'OK'))

    const up = await until(() => routedReq('BYE', id), 'the BYE into the overlay')
    expect(up.uri).toBe(GRUU)
    expect(up.headers.get('from')).toBe(ok.headers.get('to'))
    expect(up.headers.get('to')).toBe(inv.headers.get('from'))
    expect(cseq(up).seq).toBe(1)
  })

  it('a call already ended by BYE is not ended again', async () => {
    const { got, on } = collect()
    const inv = overlayInvite(OFFER)
    const id = callIdOf(inv)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, inv, on)
    const atPhone = (await phone.next(
      (m) => isRequest('INVITE')(m) && callIdOf(m) === id,
    )) as SipRequest
    const contact: [string, string] = ['Contact', `<sip:alice@127.0.0.1:${phone.port}>`]
    phone.send(gw.port, withSdp(createResponse(atPhone, 200, 'OK', [contact], 'a2'), ANSWER))
    const ok = await until(() => got.find((r) => r.status === 200), 'the 200 upstream')
    const bye = inDialog('BYE', atPhone, ok, cseq(inv).seq + 1)
    bye.headers.set('From', inv.headers.get('from')!)
    deliver(`sip:alice@127.0.0.1:${phone.port}`, bye, () => {})
    const atPhoneBye = (await phone.next(
      (m) => isRequest('BYE')(m) && callIdOf(m) === id,
    )) as SipRequest
    phone.send(gw.port, respond(atPhoneBye, 200, 'OK'))

    const seen = phone.received.length
    media.idle!(id, REASON)
    await sleep(150)
    expect(phone.received.slice(seen).some((m) => isRequest('BYE')(m))).toBe(false)
    expect(routedReq('BYE', id)).toBeUndefined()
  })
})
