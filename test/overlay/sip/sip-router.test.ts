/**
 * SipRouter on its own (harness: sip-router-harness.ts): requests from local
 * user agents into the overlay, and the requests it refuses. Dialogs, CANCEL
 * and requests from the overlay: sip-router-dialogs.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { respond } from '../../../src/shared/sip/responses.js'
import { SipHeaderError, SipHeaders } from '../../../src/shared/sip/sip-message.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { B1, B2, settle, harness, request, ackFor, statuses } from './sip-router-harness.js'

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
