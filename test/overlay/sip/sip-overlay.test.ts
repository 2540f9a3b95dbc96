/**
 * SIP over the overlay, between real nodes on loopback: MESSAGE delivered
 * node to node and kept in history, 404 for unknown users, offline mail stored
 * on supernodes and delivered on the recipient's return, and INVITE forked to
 * two user agents registered at the callee's node (first 2xx wins, the other
 * branch is CANCELled). The user agents here are small scripted UAs that
 * answer like phones do; third-party phones (sipp) come in through the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestNode, waitFor, startClient } from '../../helpers/nodes.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { createResponse } from '../../../src/shared/sip/sip-message.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import type { SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'

let sn: KaiwaNode
let alice: KaiwaNode
let bob: KaiwaNode
const stopped = new Set<KaiwaNode>()

async function client(name: string, dataDir?: string): Promise<KaiwaNode> {
  return startClient(sn, { name, ...(dataDir ? { dataDir } : {}) })
}

function request(
  method: string,
  uri: string,
  fromUser: string,
  extra: Array<[string, string]> = [],
): SipRequest {
  return buildRequest({ method, uri, from: `sip:${fromUser}@kaiwa`, headers: extra })
}

/** Send a request as a local UA of `node`; collect every response. */
function send(
  node: KaiwaNode,
  req: SipRequest,
): { responses: SipResponse[]; final: Promise<SipResponse> } {
  const responses: SipResponse[] = []
  let resolve!: (r: SipResponse) => void
  const final = new Promise<SipResponse>((r) => (resolve = r))
  void node.sip.router.fromLocal(req, {
    send: (res) => {
      responses.push(res)
      if (res.status >= 200) resolve(res)
    },
  })
  return { responses, final }
}

describe('SIP over the overlay', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    alice = await client('alice')
    bob = await client('bob')
  }, 60_000)
  afterAll(async () => {
    await Promise.allSettled([sn, alice, bob].filter((n) => !stopped.has(n)).map((n) => n.stop()))
  })

  it('delivers a MESSAGE node to node and keeps both sides of the history', async () => {
    const res = await alice.api.message({ to: 'bob', text: 'hello bob' })
    expect(res).toMatchObject({ status: 'delivered', code: 200 })
    const inbox = (await bob.api.inbox({})).messages
    expect(inbox.at(-1)).toMatchObject({
      direction: 'in',
      from: 'sip:alice@kaiwa',
      text: 'hello bob',
      status: 'received',
    })
    // The sender's history is written as the final response passes through.
    await waitFor(
      async () => (await alice.sip.history.list({ direction: 'out' })).length > 0,
      5000,
      "the message in alice's history",
    )
    const sent = await alice.sip.history.list({ direction: 'out' })
    expect(sent.at(-1)).toMatchObject({ to: 'sip:bob@kaiwa', status: 'delivered', code: 200 })
  })

  it('answers 404 for a user nobody claimed and 416 for a foreign scheme', async () => {
    const r404 = await send(alice, request('MESSAGE', 'sip:nobody-here@kaiwa', 'alice')).final
    expect(r404.status).toBe(404)
    expect(r404.headers.get('to')).toMatch(/;tag=/)
    const r416 = await send(alice, request('OPTIONS', 'tel:+15550100', 'alice')).final
    expect(r416.status).toBe(416)
  })

  it('forks an INVITE to two registered user agents: first 2xx wins, the other is CANCELled', async () => {
    const seen: Record<string, SipRequest[]> = { ua1: [], ua2: [] }
    const inviteReplies: Record<string, (res: SipResponse) => void> = {}
    for (const ua of ['ua1', 'ua2'] as const) {
      const reg = request('REGISTER', 'sip:kaiwa', 'bob', [
        ['Contact', `<sip:bob@127.0.0.1:${ua === 'ua1' ? 5071 : 5072}>`],
        ['Expires', '600'],
      ])
      reg.headers.set('To', '<sip:bob@kaiwa>')
      const r = await new Promise<SipResponse>((resolve) => {
        void bob.sip.router.fromLocal(reg, {
          send: resolve,
          deliver: (_contact, req, reply) => {
            const port = ua === 'ua1' ? 5071 : 5072
            seen[ua]!.push(req)
            // A phone: ring at once; ua1 answers after 50 ms, ua2 keeps ringing.
            const answer = (status: number, reason: string) =>
              reply(
                createResponse(
                  req,
                  status,
                  reason,
                  [['Contact', `<sip:bob@127.0.0.1:${port}>`]],
                  `${ua}tag`,
                ),
              )
            if (req.method === 'INVITE') {
              inviteReplies[ua] = reply
              answer(180, 'Ringing')
              if (ua === 'ua1') setTimeout(() => answer(200, 'OK'), 50)
            }
            if (req.method === 'CANCEL') {
              answer(200, 'OK')
              const invite = seen[ua]!.find((m) => m.method === 'INVITE')!
              inviteReplies[ua]!(createResponse(invite, 487, 'Request Terminated', [], `${ua}tag`))
            }
          },
        })
      })
      expect(r.status).toBe(200)
    }
    const call = send(
      alice,
      request('INVITE', 'sip:bob@kaiwa', 'alice', [['Contact', '<sip:alice@127.0.0.1:5090>']]),
    )
    const final = await call.final
    expect(final.status).toBe(200)
    expect(call.responses.some((r) => r.status === 180)).toBe(true)
    // The callee's Contact comes back as a GRUU naming bob's device and binding.
    expect(final.headers.get('contact')).toContain(`gr=${bob.peerId}`)
    await waitFor(
      () => seen.ua2!.some((m) => m.method === 'CANCEL'),
      5000,
      'the losing branch to be cancelled',
    )
    expect(seen.ua1!.some((m) => m.method === 'CANCEL')).toBe(false)
    // The caller's Contact reached bob's phones as a GRUU of alice's device.
    expect(seen.ua1![0]!.headers.get('contact')).toContain(`gr=${alice.peerId}`)
  })

  it('stores a MESSAGE for an offline user and delivers it when that user returns', async () => {
    const bobDir = bob.dataDir
    await bob.stop()
    stopped.add(bob)
    const res = await alice.api.message({ to: 'bob', text: 'while you were out' })
    expect(res.status).toBe('stored')
    expect(res.code).toBe(202)
    expect((await sn.sip.mailboxStore.stats()).messages).toBe(1)
    bob = await client('bob', bobDir)
    stopped.delete(bob)
    await waitFor(
      async () => (await bob.api.inbox({})).messages.some((m) => m.text === 'while you were out'),
      15_000,
      'the offline message to reach bob',
    )
    const got = (await bob.api.inbox({})).messages.find((m) => m.text === 'while you were out')!
    expect(got.from).toBe('sip:alice@kaiwa')
    await waitFor(
      async () => (await sn.sip.mailboxStore.stats()).messages === 0,
      5000,
      'the mailbox to be emptied',
    )
  })
})
