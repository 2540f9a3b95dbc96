/**
 * Reaching devices the overlay way: a callee with no listening address (only
 * relay reservations, as behind a NAT) gets its signalling through the relay,
 * and a link cut by the relay is reopened unnoticed; an account on two devices
 * (two nodes, one account key) is forked to both, first 2xx wins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestNode, tempDir, waitFor, startClient } from '../../helpers/nodes.js'
import { seedIdentity } from '../../helpers/identity.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { createResponse } from '../../../src/shared/sip/sip-message.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import type { SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'

const nodes: KaiwaNode[] = []
let sn: KaiwaNode
let alice: KaiwaNode

async function client(opts: Parameters<typeof startTestNode>[0]): Promise<KaiwaNode> {
  const n = await startClient(sn, opts)
  nodes.push(n)
  return n
}

function invite(to: string): SipRequest {
  return buildRequest({
    method: 'INVITE',
    uri: `sip:${to}@kaiwa`,
    from: 'sip:alice@kaiwa',
    headers: [['Contact', '<sip:alice@127.0.0.1:5090>']],
  })
}

/** A user agent registered at `node` that rings and, if `answer`, picks up after 50 ms. */
async function phone(node: KaiwaNode, user: string, answer: boolean): Promise<SipRequest[]> {
  const seen: SipRequest[] = []
  let inviteReply: ((r: SipResponse) => void) | undefined
  const reg = invite(user)
  reg.method = 'REGISTER'
  reg.uri = 'sip:kaiwa'
  reg.headers
    .set('CSeq', '1 REGISTER')
    .set('Contact', `<sip:${user}@127.0.0.1:${answer ? 5071 : 5072}>`)
  const res = await new Promise<SipResponse>(
    (resolve) =>
      void node.sip.router.fromLocal(reg, {
        send: resolve,
        deliver: (_c, req, reply) => {
          seen.push(req)
          const contact: Array<[string, string]> = [['Contact', `<sip:${user}@127.0.0.1:5071>`]]
          if (req.method === 'INVITE') {
            inviteReply = reply
            reply(createResponse(req, 180, 'Ringing', contact, 'ua'))
            if (answer) setTimeout(() => reply(createResponse(req, 200, 'OK', contact, 'ua')), 50)
          }
          if (req.method === 'CANCEL') {
            reply(createResponse(req, 200, 'OK', [], 'ua'))
            const inv = seen.find((m) => m.method === 'INVITE')!
            inviteReply?.(createResponse(inv, 487, 'Request Terminated', [], 'ua'))
          }
        },
      }),
  )
  expect(res.status).toBe(200)
  return seen
}

function call(from: KaiwaNode, to: string): Promise<SipResponse> {
  return new Promise(
    (resolve) =>
      void from.sip.router.fromLocal(invite(to), { send: (r) => r.status >= 200 && resolve(r) }),
  )
}

describe('reaching devices through the overlay', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    nodes.push(sn)
    alice = await client({ name: 'alice' })
  }, 60_000)
  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
  })

  it('signals a callee reachable only through a relay, and redials when the relay cuts it', async () => {
    // No listen address at all: like a node behind a NAT, it is reachable only
    // through its reservation on the supernode.
    const bob = await client({ listen: [] })
    await waitFor(
      () => bob.addrs().some((a) => a.toString().includes('/p2p-circuit')),
      15_000,
      'a relay reservation',
    )
    const { record } = await bob.claim('bob')
    expect(record.devices[0]!.addrs.length).toBeGreaterThan(0)
    const r1 = await alice.api.message({ to: 'bob', text: 'through the relay' })
    expect(r1.status).toBe('delivered')
    const conns = alice.libp2p().getConnections(bob.libp2p().peerId)
    expect(conns.length).toBeGreaterThan(0)
    // The first message had to use the relay (bob has no address of his own).
    // The node then tries to punch a direct WebRTC link over that relay; where
    // the host has a non-loopback interface ICE can succeed, so both are fine.
    expect(conns.some((c) => c.limits != null)).toBe(true)
    // The relay ends the circuit (a limit reached): the next message redials.
    await Promise.all(conns.map((c) => c.close()))
    const r2 = await alice.api.message({ to: 'bob', text: 'after the relay cut us off' })
    expect(r2.status).toBe('delivered')
    // Bob's node answers 200 and writes its history right after: wait for the write.
    await waitFor(
      async () => (await bob.api.inbox({})).messages.length >= 2,
      5000,
      "bob's history to hold both messages",
    )
    const texts = (await bob.api.inbox({})).messages.map((m) => m.text)
    expect(texts).toEqual(
      expect.arrayContaining(['through the relay', 'after the relay cut us off']),
    )
  })

  it('forks to every device of an account: the first 2xx wins, the other is cancelled', async () => {
    const carol1 = await client({})
    const dir2 = await tempDir()
    await seedIdentity(dir2, carol1.identity.accountKey)
    const carol2 = await client({ dataDir: dir2 })
    await carol1.claim('carol')
    await carol2.claim('carol') // same account key: a second device, merged into one record
    const found = await alice.directory.lookup('carol', { fresh: true })
    expect(found!.record.devices.length).toBe(2)
    // carol1's own refresh must keep carol2's entry.
    await carol1.directory.publish('carol')
    expect((await alice.directory.lookup('carol', { fresh: true }))!.record.devices.length).toBe(2)

    const picksUp = await phone(carol1, 'carol', true)
    const ringsOnly = await phone(carol2, 'carol', false)
    const final = await call(alice, 'carol')
    expect(final.status).toBe(200)
    expect(final.headers.get('contact')).toContain(`gr=${carol1.peerId}`)
    await waitFor(
      () => ringsOnly.some((m) => m.method === 'CANCEL'),
      5000,
      'the other device to be cancelled',
    )
    expect(picksUp.some((m) => m.method === 'CANCEL')).toBe(false)
  })
})
