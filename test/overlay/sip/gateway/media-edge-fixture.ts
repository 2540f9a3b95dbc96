/**
 * The fixture of the gateway edge tests (gateway-media-*.test.ts): a real
 * gateway on loopback with a scripted router in place of the overlay, a
 * recording GatewayMedia, one UDP phone registered as alice, and builders for
 * the requests and responses phones and the overlay send.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { MediaNegotiationError } from '../../../../src/overlay/sip/gateway/gateway-media.js'
import type {
  GatewayMedia,
  SdpCrossing,
} from '../../../../src/overlay/sip/gateway/gateway-media.js'
import type { SipGateway } from '../../../../src/overlay/sip/gateway/sip-gateway.js'
import type { Deliver } from '../../../../src/overlay/sip/local-registrar.js'
import type { SipFlow } from '../../../../src/overlay/sip/sip-router-types.js'
import { SipHeaders } from '../../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { respond } from '../../../../src/shared/sip/responses.js'
import { aliceGateway } from './alice-gateway.js'
import { UdpPeer, buildRequest, isResponse, withCredentials } from '../../../helpers/sip-wire.js'

export const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
export const ANSWER = OFFER.replace('o=- 1 1', 'o=- 2 2')
export const GRUU = 'sip:bob@kaiwa;gr=peerB~1'
const enc = new TextEncoder()
const dec = new TextDecoder()

/** Records every crossing; marks each body it returns; refuses what `refuse` says. */
export class RecordingMedia implements GatewayMedia {
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
  /** The gateway's listener for calls the media freed on its own (idle). */
  idle: ((callId: string, reason: string) => void) | undefined
  whenIdle(listener: (callId: string, reason: string) => void): void {
    this.idle = listener
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

export const router = {
  calls: [] as SipMessage[],
  handler: (_msg: SipMessage, _flow: SipFlow): void => {},
  async fromLocal(msg: SipMessage, flow: SipFlow): Promise<void> {
    this.calls.push(msg)
    this.handler(msg, flow)
  },
}

export const media = new RecordingMedia()
export let gw: SipGateway
export let phone: UdpPeer
export let deliver: Deliver
let n = 0

/** A fresh number for Call-IDs. */
export function nextId(): number {
  return ++n
}

export const callIdOf = (m: SipMessage): string => m.headers.get('call-id') ?? ''
export const body = (m: SipMessage): string => dec.decode(m.body)
export const routedReq = (method: string, id: string): SipRequest | undefined =>
  router.calls.find(
    (m): m is SipRequest => m.kind === 'request' && m.method === method && callIdOf(m) === id,
  )
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
export async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = get()
    if (v !== undefined) return v
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export function withSdp<M extends SipMessage>(m: M, sdp: string): M {
  const headers = m.headers.clone()
  headers.set('Content-Type', 'application/sdp')
  return { ...m, headers, body: enc.encode(sdp) }
}

export function invite(sdp?: string, extra: Array<[string, string]> = []): SipRequest {
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
export async function signed(req: SipRequest): Promise<SipRequest> {
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
export function inDialog(
  method: string,
  inv: SipRequest,
  ok: SipResponse,
  seq: number,
): SipRequest {
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
export function overlayInvite(sdp?: string): SipRequest {
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

export function collect(): { got: SipResponse[]; on: (r: SipResponse) => void } {
  const got: SipResponse[] = []
  return { got, on: (r) => got.push(r) }
}

/** One gateway, one registered UDP phone (alice), a clean router and media before each test. */
export function useGateway(): void {
  beforeAll(async () => {
    gw = aliceGateway({
      router,
      password: 'pw',
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
}
