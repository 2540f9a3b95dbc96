/**
 * Group messages against hostile senders, between real nodes on loopback
 * (a supernode; ann, ben and dan in ann's group; mallory outside it). Each
 * request goes over a raw /kaiwa/sip/1.0.0 stream from the sender's own
 * libp2p peer with a valid Identity token (RFC 8224), so the sender is
 * authenticated and only group membership decides, at ben's node:
 *
 * - mallory, not a member: 403 Not a group member, nothing stored;
 * - a log with an entry mallory signed adding herself, and one where ben (a
 *   member, not an admin) adds her: 400, nothing applied;
 * - dan after ann removed him: 403;
 * - one message sent twice (two requests): 200 both times, stored once;
 * - a garbled group body: 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { fromString } from 'uint8arrays'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { addIdentityHeader } from '../../../src/shared/identity/sip-identity.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { serializeSipMessage } from '../../../src/shared/sip/sip-message.js'
import type { SipResponse } from '../../../src/shared/sip/sip-message.js'
import { SipStreamFramer } from '../../../src/shared/sip/stream-framer.js'
import { SIP_PROTOCOL } from '../../../src/overlay/sip/sip-links.js'
import { signGroupEntry } from '../../../src/shared/groups/group-log.js'
import { GROUP_CONTENT_TYPE, encodeGroupWire } from '../../../src/shared/groups/group-wire.js'
import type { GroupWire } from '../../../src/shared/groups/group-wire.js'
import { encodeLog } from '../../../src/overlay/groups/group-store.js'
import { startClient, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'

let sn: KaiwaNode
let ann: KaiwaNode
let ben: KaiwaNode
let dan: KaiwaNode
let mallory: KaiwaNode
let group = ''

/** Send one group body from `from`'s own peer to `to`, signed as `name`; the final response. */
async function sendRaw(
  from: KaiwaNode,
  name: string,
  body: string,
  to: [KaiwaNode, string] = [ben, 'ben'],
): Promise<SipResponse> {
  const stream: Stream = await from.libp2p().dialProtocol(multiaddr(tcpAddr(to[0])), SIP_PROTOCOL)
  const req = buildRequest({
    method: 'MESSAGE',
    uri: `sip:${to[1]}@kaiwa`,
    from: `sip:${name}@kaiwa`,
    headers: [['Content-Type', GROUP_CONTENT_TYPE]],
    body: new TextEncoder().encode(body),
  })
  await addIdentityHeader(req, { accountKey: from.identity.accountKey, name, now: Date.now() })
  const callId = req.headers.get('call-id')
  const framer = new SipStreamFramer({ maxBytes: 64 * 1024 })
  stream.send(serializeSipMessage(req))
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      for (const r of framer.push(bytes)) {
        if ('keepalive' in r || !r.ok) continue
        const m = r.message
        if (m.kind === 'response' && m.status >= 200 && m.headers.get('call-id') === callId)
          return m
      }
    }
  } finally {
    stream.abort(new Error('done'))
  }
  throw new Error('no final response')
}

const message = (id: string, text: string, seq = 1): GroupWire => ({
  kaiwaGroup: 1,
  type: 'message',
  group,
  id,
  seq,
  lamport: 50 + seq,
  sentAt: new Date().toISOString(),
  text,
  version: 1,
})

const benTexts = async (): Promise<string[]> =>
  (await ben.api.groupMessages({ group })).messages.map((m) => m.text)

describe('hostile group senders', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    ;[ann, ben, dan, mallory] = await Promise.all([
      startClient(sn, { name: 'ann' }),
      startClient(sn, { name: 'ben' }),
      startClient(sn, { name: 'dan' }),
      startClient(sn, { name: 'mallory' }),
    ])
    group = (await ann.api.groupCreate({ name: 'Team', members: ['ben', 'dan'] })).group.id
    for (const n of [ben, dan])
      await waitFor(
        async () => (await n.api.groups({})).groups.length === 1,
        20_000,
        'ben and dan to know the group',
      )
  }, 120_000)
  afterAll(async () => {
    await Promise.allSettled([sn, ann, ben, dan, mallory].map((n) => n?.stop()))
  })

  it("refuses a non-member's group message with 403 and stores nothing", async () => {
    const res = await sendRaw(
      mallory,
      'mallory',
      encodeGroupWire(message('a'.repeat(32), 'let me in')),
    )
    expect([res.status, res.reason]).toEqual([403, 'Not a group member'])
    expect(await benTexts()).not.toContain('let me in')
    // Not filed as a one-to-one message either.
    const inbox = (await ben.api.inbox({})).messages.map((m) => m.text)
    expect(inbox).not.toContain('let me in')
  })

  it('applies no change signed by an outsider or by a member who is not an admin', async () => {
    const [g] = await ann.groups.list()
    const s = g!.state
    const forge = async (author: KaiwaNode, name: string): Promise<string> => {
      const entry = await signGroupEntry(
        {
          index: s.version,
          group: fromString(s.id, 'base16'),
          prev: s.head,
          author: name,
          time: Date.now(),
          op: 'add',
          members: [{ name: 'mallory', key: mallory.identity.accountKey.publicKey.raw }],
        },
        author.identity.accountKey,
      )
      return encodeGroupWire({
        kaiwaGroup: 1,
        type: 'log',
        group,
        entries: encodeLog([...g!.log, entry]),
      })
    }
    const byMallory = await sendRaw(mallory, 'mallory', await forge(mallory, 'mallory'))
    expect([byMallory.status, byMallory.reason]).toEqual([400, 'Invalid group log'])
    const byBen = await sendRaw(ben, 'ben', await forge(ben, 'ben'), [dan, 'dan'])
    expect([byBen.status, byBen.reason]).toEqual([400, 'Invalid group log'])
    for (const n of [ben, dan]) {
      const seen = (await n.api.groups({})).groups[0]!
      expect(seen.members).toEqual(['ann', 'ben', 'dan'])
      expect(seen.version).toBe(1)
    }
    const after = await sendRaw(
      mallory,
      'mallory',
      encodeGroupWire(message('b'.repeat(32), 'now?')),
    )
    expect(after.status).toBe(403)
  })

  it('stores a message that arrives twice once', async () => {
    const body = encodeGroupWire(message('c'.repeat(32), 'said twice'))
    expect((await sendRaw(ann, 'ann', body)).status).toBe(200)
    expect((await sendRaw(ann, 'ann', body)).status).toBe(200)
    expect((await benTexts()).filter((t) => t === 'said twice')).toHaveLength(1)
  })

  it('refuses a removed member with 403 and a garbled body with 400', async () => {
    await ann.api.groupRemove({ group, member: 'dan' })
    await waitFor(
      async () => (await ben.api.groups({})).groups[0]!.members.join() === 'ann,ben',
      20_000,
      'ben to apply the removal',
    )
    const res = await sendRaw(dan, 'dan', encodeGroupWire(message('d'.repeat(32), 'I am back')))
    expect([res.status, res.reason]).toEqual([403, 'Not a group member'])
    expect(await benTexts()).not.toContain('I am back')
    const garbled = await sendRaw(ann, 'ann', '{"kaiwaGroup":1,"type":"message"')
    expect(garbled.status).toBe(400)
  })
})
