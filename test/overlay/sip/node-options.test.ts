/**
 * OPTIONS with Max-Forwards 0 answered by the node itself (node-options.ts,
 * RFC 3261 §16.3 step 3 and §11), after the sender is verified like any
 * request from a link; and the probe a caller's node sends through its router.
 * Real nodes and forged probes: hostile-sip.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { respond } from '../../../src/shared/sip/responses.js'
import { probeUser } from '../../../src/overlay/sip/node-options.js'
import type { RouterIdentity } from '../../../src/overlay/sip/sip-router-types.js'
import { B1, B2, settle, harness, request, statuses } from './sip-router-harness.js'

const options = (maxForwards: string, uri = 'sip:alice@kaiwa') =>
  request('OPTIONS', uri, [['Max-Forwards', maxForwards]])

describe('SipRouter: OPTIONS the node answers itself', () => {
  it('answers an OPTIONS with Max-Forwards 0 with 200, Allow and Accept, and rings no UA', async () => {
    const h = harness()
    const ui = await h.registerUa('sip:ui@127.0.0.1:5080')
    const link = h.link('PEER_CALLER')
    await h.router.fromLink(options('0'), link)
    expect(statuses(link.responses())).toEqual([200])
    const res = link.responses()[0]!
    expect(res.headers.get('allow')).toContain('INVITE')
    expect(res.headers.get('allow')).toContain('OPTIONS')
    expect(res.headers.get('accept')).toBe('application/sdp')
    expect(ui.received).toEqual([])
    expect(h.router.pendingTransactions()).toBe(0)
  })

  it('delivers an OPTIONS that may still be forwarded to the UAs, as before', async () => {
    const h = harness()
    const ui = await h.registerUa('sip:ui@127.0.0.1:5080')
    await h.router.fromLink(options('70'), h.link('PEER_CALLER'))
    expect(ui.received.map((r) => r.req.method)).toEqual(['OPTIONS'])
  })

  it('answers 404, not 200, for a user this node does not serve', async () => {
    const h = harness()
    const link = h.link('PEER_CALLER')
    await h.router.fromLink(options('0', 'sip:carol@kaiwa'), link)
    expect(statuses(link.responses())).toEqual([404])
  })

  it('verifies the sender first: a refused OPTIONS gets the refusal, never the 200', async () => {
    const verified: string[] = []
    const identity: RouterIdentity = {
      sign: async () => undefined,
      signOwn: async () => undefined,
      verify: async (req) => {
        verified.push(req.method)
        return { status: 428, reason: 'Use Identity Header', detail: 'no Identity' }
      },
    }
    const h = harness({ identity })
    const link = h.link('PEER_STRANGER')
    await h.router.fromLink(options('0'), link)
    expect(verified).toEqual(['OPTIONS'])
    expect(statuses(link.responses())).toEqual([428])
  })
})

describe('probeUser', () => {
  it("forks one signed OPTIONS to the user's devices with Max-Forwards 0 and resolves with the 200", async () => {
    const signed: string[] = []
    const h = harness({
      identity: {
        sign: async (req) => {
          signed.push(req.method)
          return undefined
        },
        signOwn: async () => undefined,
        verify: async () => ({ state: 'new', fingerprint: 'f', conflict: false }),
      },
    })
    h.resolutions.set('bob', { kind: 'found', devices: [B1, B2] })
    const probe = probeUser(h.router, { fromUser: 'alice', toUser: 'bob', domain: 'kaiwa' }, 'P')
    await settle()
    await settle()
    expect(signed).toEqual(['OPTIONS'])
    const sent = h.links.get(B1.peer)!.requests('OPTIONS')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.headers.get('max-forwards')).toBe('0')
    expect(sent[0]!.uri).toBe('sip:bob@kaiwa')
    expect(h.links.get(B2.peer)!.requests('OPTIONS')).toHaveLength(1)
    await h.router.fromLink(respond(sent[0]!, 200, 'OK'), h.links.get(B1.peer)!)
    expect((await probe)?.status).toBe(200)
  })

  it('resolves with the final failure, or undefined at its timeout, and never throws', async () => {
    const h = harness()
    const unknown = await probeUser(
      h.router,
      { fromUser: 'alice', toUser: 'nobody', domain: 'kaiwa' },
      'P',
    )
    expect(unknown?.status).toBe(404)
    h.resolutions.set('bob', { kind: 'found', devices: [B1] })
    const silent = await probeUser(
      h.router,
      { fromUser: 'alice', toUser: 'bob', domain: 'kaiwa', timeoutMs: 20 },
      'P',
    )
    expect(silent).toBeUndefined()
  })
})
