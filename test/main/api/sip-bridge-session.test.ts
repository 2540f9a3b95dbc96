/**
 * The node's end of the SIP bridge against a scripted router: responses find
 * the request they answer by transaction, strays go to the router, the
 * pending table is capped, and a closing socket takes its bindings and its
 * waiting requests with it.
 */
import { describe, expect, it } from 'vitest'
import { createSipBridge } from '../../../src/main/api/sip-bridge.js'
import type { SipBridgeTarget } from '../../../src/main/api/sip-bridge.js'
import type { SipFlow } from '../../../src/overlay/sip/sip-router-types.js'
import { respond } from '../../../src/shared/sip/responses.js'
import {
  SipHeaders,
  createResponse,
  serializeSipMessage,
} from '../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'

let n = 0
function request(method: string, uri: string, extra: Array<[string, string]> = []): SipRequest {
  n++
  return {
    kind: 'request',
    method,
    uri,
    version: 'SIP/2.0',
    headers: new SipHeaders([
      ['Via', `SIP/2.0/TCP peer.invalid;branch=z9hG4bKtest${n}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:alice@kaiwa>;tag=f${n}`],
      ['To', '<sip:bob@kaiwa>'],
      ['Call-ID', `call-${n}`],
      ['CSeq', `1 ${method}`],
      ...extra,
    ]),
    body: new Uint8Array(0),
  }
}

const frame = (msg: SipMessage) => ({ sip: new TextDecoder().decode(serializeSipMessage(msg)) })

function parseFrame(text: string): SipMessage {
  const raw = (JSON.parse(text) as { sip: string }).sip
  const r = parseSipMessage(new TextEncoder().encode(raw), { transport: 'stream' })
  if (!r.ok) throw r.error
  return r.message
}

function harness(maxPending?: number) {
  const calls: Array<{ msg: SipMessage; flow: SipFlow }> = []
  const router: SipBridgeTarget = {
    async fromLocal(msg, flow) {
      calls.push({ msg, flow })
      // A registrar: 200 to every REGISTER.
      if (msg.kind === 'request' && msg.method === 'REGISTER') flow.send(respond(msg, 200, 'OK'))
    },
  }
  const logs: string[] = []
  const bridge = createSipBridge({ router, log: (m) => logs.push(m), maxPending })
  const socket = () => {
    const out: SipMessage[] = []
    const session = bridge.open((f) => out.push(parseFrame(f)))
    return { out, session }
  }
  return { calls, logs, socket }
}

const REGISTER = (contact: string, expires = '600') =>
  request('REGISTER', 'sip:kaiwa', [
    ['Contact', `<${contact}>`],
    ['Expires', expires],
  ])

describe('SIP bridge session', () => {
  it('routes requests with a flow that reaches this socket, and answers on it', async () => {
    const { calls, socket } = harness()
    const { out, session } = socket()
    expect(session.receive(frame(REGISTER('sip:ua1@x.invalid')))).toBeUndefined()
    await Promise.resolve()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.msg).toMatchObject({ kind: 'request', method: 'REGISTER' })
    expect(calls[0]!.flow.deliver).toBeTypeOf('function')
    expect(out.map((m) => (m.kind === 'response' ? m.status : m.method))).toEqual([200])
  })

  it('ties the responses of a delivered request to its onResponse, until the final one', async () => {
    const { calls, socket } = harness()
    const { out, session } = socket()
    session.receive(frame(REGISTER('sip:ua1@x.invalid')))
    await Promise.resolve()
    const deliver = calls[0]!.flow.deliver!
    const got: number[] = []
    const invite = request('INVITE', 'sip:ua1@x.invalid')
    deliver('sip:ua1@x.invalid', invite, (res) => got.push(res.status))
    expect(out.at(-1)).toMatchObject({ kind: 'request', method: 'INVITE' })
    expect(session.pending).toBe(1)
    session.receive(frame(createResponse(invite, 180, 'Ringing', [], 'totag')))
    expect(got).toEqual([180])
    expect(session.pending).toBe(1)
    session.receive(frame(createResponse(invite, 200, 'OK', [], 'totag')))
    expect(got).toEqual([180, 200])
    expect(session.pending).toBe(0)
    // A retransmitted 2xx matches nothing waiting: the router gets it as a stray.
    session.receive(frame(createResponse(invite, 200, 'OK', [], 'totag')))
    await Promise.resolve()
    expect(got).toEqual([180, 200])
    expect(calls.at(-1)!.msg).toMatchObject({ kind: 'response', status: 200 })
    // ACK shares the INVITE's key, has no answer, and is not kept.
    deliver('sip:ua1@x.invalid', { ...request('ACK', 'sip:ua1@x.invalid') }, () => {})
    expect(session.pending).toBe(0)
  })

  it('caps what waits for one socket: beyond it, 503 at once', () => {
    const { socket, calls } = harness(2)
    const { session } = socket()
    session.receive(frame(REGISTER('sip:ua1@x.invalid')))
    return Promise.resolve().then(() => {
      const deliver = calls[0]!.flow.deliver!
      const got: number[] = []
      for (let i = 0; i < 3; i++)
        deliver('sip:ua1@x.invalid', request('MESSAGE', 'sip:ua1@x.invalid'), (r) =>
          got.push(r.status),
        )
      expect(session.pending).toBe(2)
      expect(got).toEqual([503])
    })
  })

  it('answers malformed requests with 400, drops what cannot be answered, rejects bad frames', () => {
    const { socket, calls } = harness()
    const { out, session } = socket()
    expect(session.receive({ sip: 42 })).toMatch(/expected \{sip: string\}/)
    expect(session.receive({ sip: 'x'.repeat(70_000) })).toMatch(/64 KiB/)
    expect(session.receive({ sip: 'garbage' })).toBeUndefined()
    expect(session.receive({ sip: '\r\n\r\n' })).toBeUndefined() // keep-alive
    // Content-Length says more than the frame holds: truncated, still answerable.
    const truncated =
      'MESSAGE sip:bob@kaiwa SIP/2.0\r\nVia: SIP/2.0/TCP a.invalid;branch=z9hG4bKtr1\r\n' +
      'From: <sip:a@kaiwa>;tag=1\r\nTo: <sip:bob@kaiwa>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n' +
      'Content-Length: 50\r\n\r\nshort'
    session.receive({ sip: truncated })
    const mismatch = request('OPTIONS', 'sip:bob@kaiwa')
    mismatch.headers.set('CSeq', '1 INVITE') // CSeq method must be the request's
    session.receive(frame(mismatch))
    const two = frame(request('OPTIONS', 'sip:bob@kaiwa')).sip
    session.receive({ sip: two + two })
    expect(out.map((m) => (m.kind === 'response' ? m.status : m.method))).toEqual([400, 400, 400])
    expect(out.map((m) => m.headers.get('call-id'))).toEqual([
      'c1',
      expect.stringMatching(/^call-/),
      expect.stringMatching(/^call-/),
    ])
    expect(calls).toHaveLength(0)
  })

  it('on close: unregisters its contacts, fails what waits with 480, and refuses new deliveries', async () => {
    const { calls, socket } = harness()
    const { session } = socket()
    session.receive(frame(REGISTER('sip:ua1@x.invalid')))
    await Promise.resolve()
    const deliver = calls[0]!.flow.deliver!
    const got: SipResponse[] = []
    deliver('sip:ua1@x.invalid', request('MESSAGE', 'sip:ua1@x.invalid'), (r) => got.push(r))
    session.close()
    session.close()
    expect(got.map((r) => r.status)).toEqual([480])
    expect(session.pending).toBe(0)
    const unregister = calls.at(-1)!.msg as SipRequest
    expect(unregister.method).toBe('REGISTER')
    expect(unregister.headers.get('contact')).toBe('<sip:ua1@x.invalid>')
    expect(unregister.headers.get('expires')).toBe('0')
    expect(unregister.headers.get('call-id')).toBe(calls[0]!.msg.headers.get('call-id'))
    expect(unregister.headers.get('cseq')).toBe('2 REGISTER')
    deliver('sip:ua1@x.invalid', request('MESSAGE', 'sip:ua1@x.invalid'), (r) => got.push(r))
    expect(got.map((r) => r.status)).toEqual([480, 480])
  })

  it('leaves a contact alone that another socket registered since, or that was unregistered', async () => {
    const { calls, socket } = harness()
    const a = socket()
    const b = socket()
    a.session.receive(frame(REGISTER('sip:ua1@x.invalid')))
    a.session.receive(frame(REGISTER('sip:ua2@x.invalid')))
    a.session.receive(frame(REGISTER('sip:ua2@x.invalid', '0')))
    b.session.receive(frame(REGISTER('sip:UA1@x.invalid')))
    await Promise.resolve()
    const before = calls.length
    a.session.close()
    expect(calls.length).toBe(before)
    b.session.close()
    expect(calls.length).toBe(before + 1)
    expect(calls.at(-1)!.msg.headers.get('contact')).toBe('<sip:UA1@x.invalid>')
  })
})
