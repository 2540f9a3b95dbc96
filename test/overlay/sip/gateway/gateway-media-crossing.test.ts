/**
 * The gateway's edge toward the overlay (issue 12 §1 and §3), on real loopback
 * sockets with a scripted router and a recording GatewayMedia:
 *
 * - dialogs route back through the gateway: our Record-Route on the phone's
 *   dialog-creating responses and on requests to the phone, none toward the
 *   overlay, and our Route popped from the phone's in-dialog requests (§16.4);
 * - every SDP body crosses the media as the offer/answer role it plays
 *   (INVITE offer / 2xx answer; offerless INVITE: 2xx offer / ACK answer), in
 *   both directions, and `end` is called when the dialog ends;
 * - a MediaNegotiationError becomes 488 with an RFC 3326 Reason toward the
 *   offer's sender, and the other leg is ACKed and BYE'd when it had answered.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MediaNegotiationError } from '../../../../src/overlay/sip/gateway/gateway-media.js'
import type {
  GatewayMedia,
  SdpCrossing,
} from '../../../../src/overlay/sip/gateway/gateway-media.js'
import { SipGateway } from '../../../../src/overlay/sip/gateway/sip-gateway.js'
import type { Deliver } from '../../../../src/overlay/sip/local-registrar.js'
import type { SipFlow } from '../../../../src/overlay/sip/sip-router-types.js'
import { SipHeaders, createResponse } from '../../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { respond } from '../../../../src/shared/sip/responses.js'
import type { Logger } from '../../../../src/shared/logger.js'
import {
  UdpPeer,
  buildRequest,
  isRequest,
  isResponse,
  withCredentials,
} from '../../../helpers/sip-wire.js'

const silent: Logger = {
  debug: (m) => console.log('DBG', m),
  info: (m) => console.log('INF', m),
  warn: (m) => console.log('WRN', m),
  error: () => {},
  child: () => silent,
}

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
const ANSWER = OFFER.replace('o=- 1 1', 'o=- 2 2')
const GRUU = 'sip:bob@kaiwa;gr=peerB~1'
const enc = new TextEncoder()
const dec = new TextDecoder()

/** Records every crossing; marks each body it returns; refuses what `refuse` says. */
class RecordingMedia implements GatewayMedia {
  crossings: SdpCrossing[] = []
  ended: string[] = []
  closed = false
  refuse: (c: SdpCrossing) => boolean = () => false
  async cross(c: SdpCrossing): Promise<string> {
    this.crossings.push(c)
    await new Promise((r) => setTimeout(r, 5)) // an anchor takes a moment
    if (this.refuse(c)) throw new MediaNegotiationError('No common "codec"')
    return `${c.sdp}a=x-crossed:${c.kind} ${c.direction}\r\n`
  }
  end(callId: string): void {
    this.ended.push(callId)
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

const router = {
  calls: [] as SipMessage[],
  handler: (_msg: SipMessage, _flow: SipFlow): void => {},
  async fromLocal(msg: SipMessage, flow: SipFlow): Promise<void> {
    this.calls.push(msg)
    this.handler(msg, flow)
  },
}

const media = new RecordingMedia()
let gw: SipGateway
let phone: UdpPeer
let deliver: Deliver
let n = 0

const callIdOf = (m: SipMessage): string => m.headers.get('call-id') ?? ''
const body = (m: SipMessage): string => dec.decode(m.body)
const routedReq = (method: string, id: string): SipRequest | undefined =>
  router.calls.find(
    (m): m is SipRequest => m.kind === 'request' && m.method === method && callIdOf(m) === id,
  )
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = get()
    if (v !== undefined) return v
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}

function withSdp<M extends SipMessage>(m: M, sdp: string): M {
  const headers = m.headers.clone()
  headers.set('Content-Type', 'application/sdp')
  return { ...m, headers, body: enc.encode(sdp) }
}

function invite(sdp?: string, extra: Array<[string, string]> = []): SipRequest {
  const req = buildRequest({
    method: 'INVITE',
    uri: 'sip:bob@kaiwa',
    from: 'sip:alice@kaiwa',
    extra: [['Contact', `<sip:alice@127.0.0.1:${phone.port}>`], ...extra],
  })
  req.headers.set('Call-ID', `media-${++n}@test`)
  return sdp == null ? req : withSdp(req, sdp)
}

/** Send `req` from the phone, answer the 407 with credentials; returns what was sent. */
async function signed(req: SipRequest): Promise<SipRequest> {
  const from = phone.received.length
  phone.send(gw.port, req)
  const ch = (await phone.next(
    (m) => m.kind === 'response' && m.status === 407 && callIdOf(m) === callIdOf(req),
    2000,
    from,
  )) as SipResponse
  const again = withCredentials(req, ch, 'alice', 'pw')
  phone.send(gw.port, again)
  return again
}

/** A 2xx-answered INVITE's ACK (or BYE) from the phone, as an RFC 3261 phone sends it. */
function inDialog(method: string, inv: SipRequest, ok: SipResponse, seq: number): SipRequest {
  const rr = ok.headers.getAll('record-route')
  const headers = new SipHeaders([
    ['Via', `SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK${method}${n}${seq};rport`],
    ['Max-Forwards', '70'],
    ['From', inv.headers.get('from')!],
    ['To', ok.headers.get('to')!],
    ['Call-ID', callIdOf(inv)],
    ['CSeq', `${seq} ${method}`],
    ...rr.reverse().map((r): [string, string] => ['Route', r]),
  ])
  const uri = /<([^>]+)>/.exec(ok.headers.get('contact')!)![1]!
  return { kind: 'request', method, uri, version: 'SIP/2.0', headers, body: new Uint8Array(0) }
}

/** The overlay's INVITE for the phone (as the router hands it to `deliver`). */
function overlayInvite(sdp?: string): SipRequest {
  const req = buildRequest({
    method: 'INVITE',
    uri: `sip:alice@127.0.0.1:${phone.port}`,
    from: 'sip:bob@kaiwa',
    extra: [
      ['Contact', `<${GRUU}>`],
      ['Record-Route', '<sip:192.0.2.9;lr>'],
    ],
  })
  req.headers.set('Call-ID', `media-${++n}@overlay`)
  return sdp == null ? req : withSdp(req, sdp)
}

function collect(): { got: SipResponse[]; on: (r: SipResponse) => void } {
  const got: SipResponse[] = []
  return { got, on: (r) => got.push(r) }
}

describe('the gateway between a phone and the overlay: dialog routes and SDP crossing', () => {
  beforeAll(async () => {
    gw = new SipGateway({
      router,
      domain: 'kaiwa',
      username: async () => 'alice',
      password: 'pw',
      log: silent,
      media,
      tuning: { timers: { t1: 40, t2: 320, t4: 400 }, algorithms: ['MD5'] },
    })
    await gw.start(0)
    phone = await UdpPeer.open()
    router.handler = (m, flow) => {
      if (m.kind !== 'request' || m.method !== 'REGISTER') return
      deliver = flow.deliver!
      flow.send(respond(m, 200, 'OK'))
    }
    const reg = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:alice@kaiwa',
      extra: [['Contact', `<sip:alice@127.0.0.1:${phone.port}>`]],
    })
    phone.send(gw.port, reg)
    const ch = (await phone.next(isResponse(401))) as SipResponse
    phone.send(gw.port, withCredentials(reg, ch, 'alice', 'pw'))
    await phone.next(isResponse(200))
  })
  afterAll(async () => {
    await gw.stop()
    phone.close()
    expect(media.closed).toBe(true) // the gateway owns its media
  })
  beforeEach(() => {
    router.calls.length = 0
    router.handler = () => {}
    media.crossings = []
    media.ended = []
    media.refuse = () => false
  })

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

  it('phone sends an offerless INVITE: the 2xx carries the offer, the ACK the answer', async () => {
    router.handler = (m, flow) => {
      if (m.kind === 'request' && m.method === 'INVITE')
        flow.send(withSdp(respond(m, 200, 'OK', [['Contact', `<${GRUU}>`]]), OFFER))
    }
    const inv = await signed(invite())
    const id = callIdOf(inv)
    const ok = (await phone.next((m) => isResponse(200)(m) && callIdOf(m) === id)) as SipResponse
    expect(body(ok)).toBe(`${OFFER}a=x-crossed:offer overlay-to-phone\r\n`)
    const seq = Number(/^\d+/.exec(inv.headers.get('cseq')!)![0])
    phone.send(gw.port, withSdp(inDialog('ACK', inv, ok, seq), ANSWER))
    const ack = await until(() => routedReq('ACK', id), 'the ACK at the router')
    expect(body(ack)).toBe(`${ANSWER}a=x-crossed:answer phone-to-overlay\r\n`)
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
      req.headers.set('Call-ID', `indialog-${method}-${++n}`)
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
})
