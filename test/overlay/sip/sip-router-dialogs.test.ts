/**
 * SipRouter on its own (harness: sip-router-harness.ts): in-dialog requests,
 * CANCEL from a local UA, and requests from the overlay to local user agents.
 */
import { describe, expect, it } from 'vitest'
import { respond } from '../../../src/shared/sip/responses.js'
import { SELF, B1, B2, settle, harness, request, ackFor, statuses } from './sip-router-harness.js'

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
