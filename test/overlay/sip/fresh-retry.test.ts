/**
 * The router's second look (issue 13): when no device of a resolved record
 * can be linked, the user is resolved once more past the cache and the
 * request is forked to what the fresh record names; a fresh record that
 * changes nothing ends in 480 without a second fork.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { SipRouter } from '../../../src/overlay/sip/sip-router.js'
import { sameDevices } from '../../../src/overlay/sip/fresh-retry.js'
import type { MessageEvent, Resolution } from '../../../src/overlay/sip/sip-router-types.js'
import type { SipLink } from '../../../src/overlay/sip/sip-links.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'
import { waitFor } from '../../helpers/nodes.js'

const STALE = { peer: 'PEER_BOB', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001/p2p-circuit')] }
const MOVED = { peer: 'PEER_BOB', addrs: [multiaddr('/ip4/127.0.0.1/tcp/4002/p2p-circuit')] }

function harness(cached: Resolution, fresh: Resolution) {
  const sent: Array<{ peer: string; addrs: string; msg: SipMessage }> = []
  const fresher: string[] = []
  const messages: MessageEvent[] = []
  const router = new SipRouter({
    selfPeer: () => 'PEER_SELF',
    domain: 'kaiwa',
    ownName: async () => 'alice',
    resolve: async () => cached,
    resolveFresh: async (user) => {
      fresher.push(user)
      return fresh
    },
    linkTo: async (peer, addrs) => {
      const where = addrs.map((a) => a.toString()).join(' ')
      // Only the moved address works: the stale one went through a dead relay.
      if (where !== MOVED.addrs[0]!.toString()) throw new Error(`cannot dial ${peer}`)
      const link: SipLink = {
        peer,
        relayed: true,
        send: (msg: SipMessage) => (sent.push({ peer, addrs: where, msg }), true),
      } as unknown as SipLink
      return link
    },
    onMessage: (ev) => void messages.push(ev),
    log: silentLogger,
  })
  const got: SipResponse[] = []
  return { router, sent, fresher, messages, got, flow: { send: (r: SipResponse) => got.push(r) } }
}

function request(method: string): SipRequest {
  return buildRequest({
    method,
    uri: 'sip:bob@kaiwa',
    from: 'sip:alice@kaiwa',
    to: 'sip:bob@kaiwa',
  })
}

describe('SipRouter: a second look when every device failed to link', () => {
  it('forks a MESSAGE again to the fresh record and relays its answer once', async () => {
    const h = harness({ kind: 'found', devices: [STALE] }, { kind: 'found', devices: [MOVED] })
    const msg = request('MESSAGE')
    await h.router.fromLocal(msg, h.flow)
    await waitFor(() => h.sent.length > 0, 2000, 'the request on the fresh address')
    expect(h.fresher).toEqual(['bob'])
    const link = { peer: 'PEER_BOB' } as SipLink
    await h.router.fromLink(respond(msg, 200, 'OK'), link)
    await waitFor(() => h.got.length > 0, 2000, 'the final response')
    expect(h.got.map((r) => r.status)).toEqual([200])
    expect(h.messages.map((m) => m.status)).toEqual([200])
    expect(h.router.pendingTransactions()).toBe(0)
  })

  it('relays an INVITE’s provisional and 2xx from the second fork', async () => {
    const h = harness({ kind: 'found', devices: [STALE] }, { kind: 'found', devices: [MOVED] })
    const inv = request('INVITE')
    await h.router.fromLocal(inv, h.flow)
    await waitFor(() => h.sent.length > 0, 2000, 'the INVITE on the fresh address')
    const link = { peer: 'PEER_BOB' } as SipLink
    await h.router.fromLink(respond(inv, 180, 'Ringing'), link)
    await h.router.fromLink(respond(inv, 200, 'OK'), link)
    await waitFor(() => h.got.length >= 2, 2000, 'both responses')
    expect(h.got.map((r) => r.status)).toEqual([180, 200])
  })

  it('answers 480 without a second fork when the fresh record changes nothing', async () => {
    const h = harness({ kind: 'found', devices: [STALE] }, { kind: 'found', devices: [STALE] })
    await h.router.fromLocal(request('MESSAGE'), h.flow)
    await waitFor(() => h.got.length > 0, 2000, 'the final response')
    expect(h.got.map((r) => r.status)).toEqual([480])
    expect(h.fresher).toEqual(['bob'])
    expect(h.sent).toHaveLength(0)
  })

  it('answers 480 when the second look fails', async () => {
    const h = harness({ kind: 'found', devices: [STALE] }, { kind: 'timeout' })
    await h.router.fromLocal(request('MESSAGE'), h.flow)
    await waitFor(() => h.got.length > 0, 2000, 'the final response')
    expect(h.got.map((r) => r.status)).toEqual([480])
  })
})

describe('sameDevices', () => {
  it('compares peers and addresses regardless of order', () => {
    const a = {
      peer: 'A',
      addrs: [multiaddr('/ip4/1.2.3.4/tcp/1'), multiaddr('/ip4/1.2.3.4/tcp/2')],
    }
    const a2 = { peer: 'A', addrs: [...a.addrs].reverse() }
    expect(sameDevices([a, STALE], [STALE, a2])).toBe(true)
    expect(sameDevices([STALE], [MOVED])).toBe(false)
    expect(sameDevices([STALE], [])).toBe(false)
  })
})
