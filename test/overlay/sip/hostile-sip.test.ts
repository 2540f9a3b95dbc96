/**
 * Sender authentication against hostile peers, between real nodes on
 * loopback (a supernode, alice, bob and mallory):
 *
 * - a bare libp2p peer speaking /kaiwa/sip/1.0.0 with From alice: no Identity
 *   → 428, a token signed by mallory's key → 438, alice's own token from a
 *   peer that is not her device → 403; nothing reaches bob's history;
 * - mallory's phone at mallory's own gateway: From alice → 403 (the node only
 *   signs for its own name), From mallory → delivered to bob as `new`;
 * - a valid signed request played twice over alice's own node → 403 the second time;
 * - a probe OPTIONS (Max-Forwards 0, node-options.ts) gets the same 428 / 438 / 403,
 *   and bob's node answers alice's own probe itself;
 * - offline mail sealed by mallory's key but claiming to be from alice, slipped
 *   into the supernode's mailbox past admission: refused at delivery and acked;
 * - the legit path: verified / new / mismatch against bob's pinned key, a
 *   mismatch filed apart from the pinned contact's thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { addIdentityHeader } from '../../../src/shared/identity/sip-identity.js'
import { fingerprint } from '../../../src/shared/records/contact-record.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { serializeSipMessage } from '../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { SipStreamFramer } from '../../../src/shared/sip/stream-framer.js'
import { sealMail } from '../../../src/shared/mail/sealed-mail.js'
import { SIP_PROTOCOL } from '../../../src/overlay/sip/sip-links.js'
import { freePort, startClient, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'
import { UdpPeer, buildRequest as wireRequest, withCredentials } from '../../helpers/sip-wire.js'
import { plainNode } from '../rpc/plain-libp2p.js'

let sn: KaiwaNode
let alice: KaiwaNode
let bob: KaiwaNode
let mallory: KaiwaNode
let bare: Libp2p
let malloryGw: number
const MALLORY_PW = 'mallory-pw'

/** A raw SIP stream: write requests as bytes, read every message that comes back. */
class RawSip {
  readonly received: SipMessage[] = []
  private constructor(private readonly stream: Stream) {}

  static async open(from: Libp2p, to: KaiwaNode): Promise<RawSip> {
    const stream = await from.dialProtocol(multiaddr(tcpAddr(to)), SIP_PROTOCOL)
    const raw = new RawSip(stream)
    void raw.read()
    return raw
  }

  private async read(): Promise<void> {
    const framer = new SipStreamFramer({ maxBytes: 64 * 1024 })
    try {
      for await (const chunk of this.stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        for (const r of framer.push(bytes)) {
          if ('keepalive' in r || !r.ok) continue
          this.received.push(r.message)
        }
      }
    } catch {
      // the stream closed with the test
    }
  }

  send(bytes: Uint8Array): void {
    this.stream.send(bytes)
  }

  /** The n-th (0-based) final response to Call-ID `callId`. */
  async final(callId: string, n = 0): Promise<SipResponse> {
    let found: SipResponse | undefined
    await waitFor(
      () => {
        const finals = this.received.filter(
          (m): m is SipResponse =>
            m.kind === 'response' && m.status >= 200 && m.headers.get('call-id') === callId,
        )
        found = finals[n]
        return found != null
      },
      10_000,
      `final response ${n} to ${callId}`,
    )
    return found!
  }

  close(): void {
    this.stream.abort(new Error('test done'))
  }
}

function message(fromUser: string, text: string): SipRequest {
  return buildRequest({
    method: 'MESSAGE',
    uri: 'sip:bob@kaiwa',
    from: `sip:${fromUser}@kaiwa`,
    headers: [['Content-Type', 'text/plain']],
    body: new TextEncoder().encode(text),
  })
}

const callIdOf = (m: SipMessage): string => m.headers.get('call-id') ?? ''

async function bobReceived(text: string): Promise<boolean> {
  return (await bob.sip.history.list({ direction: 'in' })).some((m) => m.text === text)
}

const fpOf = (node: KaiwaNode): string => fingerprint(node.identity.accountKey.publicKey.raw)

describe('hostile SIP senders', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    malloryGw = await freePort()
    ;[alice, bob, mallory] = await Promise.all([
      startClient(sn, { name: 'alice' }),
      startClient(sn, { name: 'bob' }),
      startClient(sn, { name: 'mallory', sipPort: malloryGw, sipPassword: MALLORY_PW }),
    ])
    bare = await plainNode()
  }, 90_000)
  afterAll(async () => {
    await bare?.stop()
    await Promise.allSettled([sn, alice, bob, mallory].map((n) => n?.stop()))
  })

  it('delivers legit alice → bob as new, then verified once pinned, and files a mismatch apart', async () => {
    expect(await alice.api.message({ to: 'bob', text: 'first contact' })).toMatchObject({
      status: 'delivered',
    })
    let last = (await bob.sip.history.list({ direction: 'in' })).at(-1)
    expect(last).toMatchObject({
      text: 'first contact',
      peer: 'sip:alice@kaiwa',
      verification: 'new',
      fingerprint: fpOf(alice),
    })

    const book = bob.contacts
    await book.pin('alice', fpOf(alice))
    await alice.api.message({ to: 'bob', text: 'pinned now' })
    last = (await bob.sip.history.list({ direction: 'in' })).at(-1)
    expect(last).toMatchObject({ text: 'pinned now', verification: 'verified' })

    // Bob pinned another key for alice: this sender is not the alice he knows.
    await book.pin('alice', 'aaaa-aaaa-aaaa-aaaa')
    await alice.api.message({ to: 'bob', text: 'another key' })
    last = (await bob.sip.history.list({ direction: 'in' })).at(-1)
    expect(last).toMatchObject({ text: 'another key', verification: 'mismatch' })
    // Filed apart: not a SIP URI, so no conversation view maps it to alice.
    expect(last!.peer).toBe(`alice (unverified key ${fpOf(alice)})`)
    const threads = (await bob.api.conversations({})).conversations.map((c) => c.peer)
    expect(threads).toContain('alice')
    expect(threads).toContain(`alice (unverified key ${fpOf(alice)})`)
    const aliceThread = (await bob.api.conversation({ peer: 'alice' })).messages
    expect(aliceThread.map((m) => m.text)).not.toContain('another key')
    await book.remove('alice')
  })

  it('answers 428 to a bare peer with no Identity and 438 to a token signed by another key', async () => {
    const raw = await RawSip.open(bare, bob)
    try {
      const unsigned = message('alice', 'spoof without identity')
      raw.send(serializeSipMessage(unsigned))
      const r1 = await raw.final(callIdOf(unsigned))
      expect([r1.status, r1.reason]).toEqual([428, 'Use Identity Header'])

      const forged = message('alice', 'spoof signed by mallory')
      await addIdentityHeader(forged, {
        accountKey: mallory.identity.accountKey,
        name: 'alice',
        now: Date.now(),
      })
      raw.send(serializeSipMessage(forged))
      const r2 = await raw.final(callIdOf(forged))
      expect([r2.status, r2.reason]).toEqual([438, 'Invalid Identity Header'])

      // Even alice's genuine token does not make a stranger's peer her device.
      const stolen = message('alice', 'genuine token, wrong device')
      await addIdentityHeader(stolen, {
        accountKey: alice.identity.accountKey,
        name: 'alice',
        now: Date.now(),
      })
      raw.send(serializeSipMessage(stolen))
      const r3 = await raw.final(callIdOf(stolen))
      expect([r3.status, r3.reason]).toEqual([403, 'Sender device not in record'])

      const invite = buildRequest({
        method: 'INVITE',
        uri: 'sip:bob@kaiwa',
        from: 'sip:alice@kaiwa',
        headers: [['Contact', '<sip:alice@127.0.0.1>']],
      })
      raw.send(serializeSipMessage(invite))
      expect((await raw.final(callIdOf(invite))).status).toBe(428)
    } finally {
      raw.close()
    }
    for (const text of ['spoof without identity', 'spoof signed by mallory']) {
      expect(await bobReceived(text)).toBe(false)
    }
    expect(await bobReceived('genuine token, wrong device')).toBe(false)
  })

  it("refuses From alice from mallory's phone (403) and delivers From mallory to bob as new", async () => {
    const phone = await UdpPeer.open()
    try {
      const send = async (fromUser: string, text: string): Promise<SipResponse> => {
        const req = wireRequest({
          method: 'MESSAGE',
          uri: 'sip:bob@kaiwa',
          from: `sip:${fromUser}@kaiwa`,
          extra: [['Content-Type', 'text/plain']],
          body: text,
        })
        const start = phone.received.length
        phone.send(malloryGw, req)
        const challenge = (await phone.next(
          (m) => m.kind === 'response' && m.status >= 401 && callIdOf(m) === callIdOf(req),
          5000,
          start,
        )) as SipResponse
        phone.send(malloryGw, withCredentials(req, challenge, 'mallory', MALLORY_PW))
        return (await phone.next(
          (m) =>
            m.kind === 'response' &&
            m.status >= 200 &&
            m.status !== 401 &&
            m.status !== 407 &&
            callIdOf(m) === callIdOf(req),
          15_000,
          start,
        )) as SipResponse
      }
      const refused = await send('alice', 'mallory posing as alice')
      expect([refused.status, refused.reason]).toEqual([403, 'Forbidden'])
      expect(await bobReceived('mallory posing as alice')).toBe(false)

      expect((await send('mallory', 'hello from mallory')).status).toBe(200)
      const got = (await bob.sip.history.list({ direction: 'in' })).find(
        (m) => m.text === 'hello from mallory',
      )
      expect(got).toMatchObject({
        from: 'sip:mallory@kaiwa',
        verification: 'new',
        fingerprint: fpOf(mallory),
      })

      // An INVITE from the phone is signed too: bob's node verifies it and,
      // with no UA of bob's registered, answers 480 (not 428/438/403).
      const invite = wireRequest({
        method: 'INVITE',
        uri: 'sip:bob@kaiwa',
        from: 'sip:mallory@kaiwa',
        extra: [['Contact', `<sip:mallory@127.0.0.1:${phone.port}>`]],
      })
      const start = phone.received.length
      phone.send(malloryGw, invite)
      const ch = (await phone.next(
        (m) => m.kind === 'response' && m.status >= 401 && callIdOf(m) === callIdOf(invite),
        5000,
        start,
      )) as SipResponse
      phone.send(malloryGw, withCredentials(invite, ch, 'mallory', MALLORY_PW))
      const answer = (await phone.next(
        (m) =>
          m.kind === 'response' &&
          m.status >= 300 &&
          m.status !== 401 &&
          m.status !== 407 &&
          callIdOf(m) === callIdOf(invite),
        15_000,
        start,
      )) as SipResponse
      expect(answer.status).toBe(480)
    } finally {
      phone.close()
    }
  })

  it('answers a probe OPTIONS (Max-Forwards 0) itself, only once its sender is verified', async () => {
    const raw = await RawSip.open(bare, bob)
    try {
      // Unsigned → 428; signed by mallory's key → 438; alice's token from a stranger's peer → 403.
      for (const [signer, status] of [
        [undefined, 428],
        [mallory, 438],
        [alice, 403],
      ] as const) {
        const probe = buildRequest({
          method: 'OPTIONS',
          uri: 'sip:bob@kaiwa',
          from: 'sip:alice@kaiwa',
          headers: [['Max-Forwards', '0']],
        })
        const now = Date.now()
        if (signer != null)
          await addIdentityHeader(probe, {
            accountKey: signer.identity.accountKey,
            name: 'alice',
            now,
          })
        raw.send(serializeSipMessage(probe))
        expect((await raw.final(callIdOf(probe))).status).toBe(status)
      }
    } finally {
      raw.close()
    }
    // alice's own node, over its own link: bob's node verifies her and answers 200 (RFC 3261 §11).
    const answer = await alice.sip.probe('bob')
    expect(answer?.status).toBe(200)
    expect(answer?.headers.get('allow')).toContain('INVITE')
  })

  it('answers 403 Replayed Identity to a valid request played a second time', async () => {
    const raw = await RawSip.open(alice.libp2p(), bob)
    try {
      const req = message('alice', 'said once')
      await addIdentityHeader(req, {
        accountKey: alice.identity.accountKey,
        name: 'alice',
        now: Date.now(),
      })
      const bytes = serializeSipMessage(req)
      raw.send(bytes)
      expect((await raw.final(callIdOf(req))).status).toBe(200)
      raw.send(bytes)
      const again = await raw.final(callIdOf(req), 1)
      expect([again.status, again.reason]).toEqual([403, 'Replayed Identity'])
    } finally {
      raw.close()
    }
    const copies = (await bob.sip.history.list({ direction: 'in' })).filter(
      (m) => m.text === 'said once',
    )
    expect(copies).toHaveLength(1)
  })

  it("refuses offline mail whose sealing key is not the From user's, and acks it", async () => {
    const bobKey = bob.identity.accountKey.publicKey.raw
    const plain = (from: string, text: string) => ({
      from,
      fromUri: `sip:${from}@kaiwa`,
      date: new Date().toUTCString(),
      contentType: 'text/plain',
      body: new TextEncoder().encode(text),
    })
    // A supernode that skipped admission: mallory's key, alice's name.
    const forged = await sealMail({
      to: 'bob',
      recipientKey: bobKey,
      senderPrivateKey: mallory.identity.accountKey,
      plaintext: plain('alice', 'forged offline mail'),
    })
    const genuine = await sealMail({
      to: 'bob',
      recipientKey: bobKey,
      senderPrivateKey: alice.identity.accountKey,
      plaintext: plain('alice', 'genuine offline mail'),
    })
    expect(await sn.mailbox.put(forged, 'alice')).toBe('stored')
    expect(await sn.mailbox.put(genuine, 'alice')).toBe('stored')
    await bob.sip.collectOfflineMail()
    const inbox = await bob.sip.history.list({ direction: 'in' })
    expect(inbox.some((m) => m.text === 'forged offline mail')).toBe(false)
    expect(inbox.find((m) => m.text === 'genuine offline mail')).toMatchObject({
      from: 'sip:alice@kaiwa',
      verification: 'new',
      fingerprint: fpOf(alice),
    })
    // Both were acked: nothing is fetched again.
    await waitFor(async () => sn.mailbox.usage().messages === 0, 5000, 'the mailbox emptied')
  })

  it('collects mail stored while a collection was already running', async () => {
    // A collection in flight must not make mail stored after its fetch wait for the next one.
    const running = bob.sip.collectOfflineMail()
    const mail = await sealMail({
      to: 'bob',
      recipientKey: bob.identity.accountKey.publicKey.raw,
      senderPrivateKey: alice.identity.accountKey,
      plaintext: {
        from: 'alice',
        fromUri: 'sip:alice@kaiwa',
        date: new Date().toUTCString(),
        contentType: 'text/plain',
        body: new TextEncoder().encode('stored meanwhile'),
      },
    })
    expect(await sn.mailbox.put(mail, 'alice')).toBe('stored')
    await bob.sip.collectOfflineMail()
    await running
    const inbox = await bob.sip.history.list({ direction: 'in' })
    expect(inbox.some((m) => m.text === 'stored meanwhile')).toBe(true)
  })
})
