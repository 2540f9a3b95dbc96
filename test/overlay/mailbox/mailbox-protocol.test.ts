/**
 * `/kaiwa/mailbox/1.0.0` between real Kaiwa nodes on loopback: a supernode
 * serving a MailboxStore, sender A, recipient B and an eavesdropper C.
 */
import type { Startable } from '@libp2p/interface'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { lpStream } from '@libp2p/utils'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import {
  MAILBOX_PROTOCOL,
  MailboxRequestError,
  MailboxServer,
  deleteMail,
  deleteSignedBytes,
  encodeMailCursor,
  fetchMail,
  fetchSignedBytes,
  mailboxKey,
  mailboxRequest,
  storeMail,
} from '../../../src/overlay/mailbox/mailbox-protocol.js'
import { MailboxStore } from '../../../src/overlay/mailbox/mailbox-store.js'
import {
  decodeMail,
  encodeMail,
  openVerifiedMail,
  sealMail,
} from '../../../src/shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../../src/shared/mail/sealed-mail.js'
import { startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'

let sn: KaiwaNode
let a: KaiwaNode
let b: KaiwaNode
let c: KaiwaNode
let store: MailboxStore
let server: MailboxServer
let serving = true
/** What the supernode's user directory would say: alice's verified key. */
const senderKey = async (name: string): Promise<Uint8Array | null> =>
  name === 'alice' ? a.identity.accountKey.publicKey.raw : null

const enc = new TextEncoder()
const dec = new TextDecoder()

async function mailFromAToB(text: string): Promise<MailEnvelope> {
  return sealMail({
    to: 'bob',
    recipientKey: b.identity.accountKey.publicKey.raw,
    senderPrivateKey: a.identity.accountKey,
    plaintext: {
      from: 'alice',
      fromUri: 'sip:alice@kaiwa.invalid',
      date: new Date().toUTCString(),
      contentType: 'text/plain',
      body: enc.encode(text),
    },
  })
}

/** Open a raw protocol stream from `from` to the supernode. */
async function rawStream(from: KaiwaNode) {
  return from.libp2p().dialProtocol(sn.libp2p().peerId, MAILBOX_PROTOCOL)
}

describe('mailbox protocol', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    const bootstrap = [tcpAddr(sn)]
    ;[a, b, c] = await Promise.all([
      startTestNode({ bootstrap }),
      startTestNode({ bootstrap }),
      startTestNode({ bootstrap }),
    ])
    await waitFor(
      () => [a, b, c].every((n) => n.libp2p().getConnections(sn.libp2p().peerId).length > 0),
      20_000,
      'the clients to connect to the supernode',
    )
    // A supernode's libp2p runs the mailbox as a service; this test mounts its
    // own (to switch serving off and to tighten limits), so it stops the node's.
    await (sn.libp2p().services as unknown as { mailbox: Startable }).mailbox.stop()
    store = new MailboxStore(sn.datastore)
    await store.start()
    server = new MailboxServer({
      registrar: sn.libp2p(),
      store,
      isServing: () => serving,
      senderKey,
    })
    await server.start()
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
    store?.stop()
    const nodes = [sn, a, b, c].filter((n) => n !== undefined)
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await Promise.allSettled(nodes.map((n) => rm(n.dataDir, { recursive: true, force: true })))
  })

  it('derives the mailbox DHT key from the recipient key', () => {
    const key = new Uint8Array(32).fill(0xab)
    expect(dec.decode(mailboxKey(key))).toBe(`/kaiwa-mbox/${'ab'.repeat(32)}`)
  })

  it('stores from A, fetches and opens as B, deletes, then B finds it empty', async () => {
    const snId = sn.libp2p().peerId
    const env = await mailFromAToB('see you at 8')
    expect(await storeMail(a.libp2p(), snId, env, { from: 'alice' })).toBe('stored')
    expect(await storeMail(a.libp2p(), snId, env, { from: 'alice' })).toBe('duplicate')

    const got = await fetchMail(b.libp2p(), snId, b.identity.accountKey)
    expect(got.more).toBe(false)
    expect(got.envelopes).toHaveLength(1)
    expect(encodeMail(got.envelopes[0]!)).toEqual(encodeMail(env))
    const pt = await openVerifiedMail(got.envelopes[0]!, b.identity.accountKey)
    expect(dec.decode(pt.body)).toBe('see you at 8')
    expect(pt.from).toBe('alice')

    // A does not get B's mail by fetching its own mailbox.
    expect((await fetchMail(a.libp2p(), snId, a.identity.accountKey)).envelopes).toEqual([])

    expect(await deleteMail(b.libp2p(), snId, b.identity.accountKey, [env.id])).toBe(1)
    expect(await fetchMail(b.libp2p(), snId, b.identity.accountKey)).toEqual({
      envelopes: [],
      more: false,
    })
  })

  it('refuses a fetch signed by the wrong key or with a stale timestamp', async () => {
    const snId = sn.libp2p().peerId
    await storeMail(a.libp2p(), snId, await mailFromAToB('private'), { from: 'alice' })
    const bKey = b.identity.accountKey.publicKey.raw
    const cPeer = c.libp2p().peerId.toString()
    const now = Date.now()
    const forged = await c.identity.accountKey.sign(fetchSignedBytes(bKey, now, cPeer))
    expect(
      await mailboxRequest(c.libp2p(), snId, {
        t: 'fetch',
        recipientKey: bKey,
        now,
        sig: new Uint8Array(forged),
      }),
    ).toEqual({ error: 'unauthorized' })

    await expect(
      fetchMail(b.libp2p(), snId, b.identity.accountKey, { now: now - 10 * 60_000 }),
    ).rejects.toMatchObject({ name: 'MailboxRequestError', reason: 'unauthorized' })
    // B's own, fresh request still works.
    expect((await fetchMail(b.libp2p(), snId, b.identity.accountKey)).envelopes).toHaveLength(1)
  })

  it('refuses a captured fetch or delete replayed from another peer', async () => {
    const snId = sn.libp2p().peerId
    const bKey = b.identity.accountKey.publicKey.raw
    const bPeer = b.libp2p().peerId.toString()
    const now = Date.now()
    // B's genuine requests, as an eavesdropper on B's side could capture them.
    const fetchReq = {
      t: 'fetch' as const,
      recipientKey: bKey,
      now,
      sig: new Uint8Array(await b.identity.accountKey.sign(fetchSignedBytes(bKey, now, bPeer))),
    }
    const stored = await store.list(bKey, now)
    const ids = stored.map((e) => e.id)
    const deleteReq = {
      t: 'delete' as const,
      recipientKey: bKey,
      ids,
      now,
      sig: new Uint8Array(
        await b.identity.accountKey.sign(deleteSignedBytes(bKey, now, bPeer, ids)),
      ),
    }
    expect(await mailboxRequest(c.libp2p(), snId, fetchReq)).toEqual({ error: 'unauthorized' })
    expect(await mailboxRequest(c.libp2p(), snId, deleteReq)).toEqual({ error: 'unauthorized' })
    expect(await store.list(bKey, Date.now())).toHaveLength(ids.length)
    // The same bytes from B itself are accepted.
    const res = (await mailboxRequest(b.libp2p(), snId, fetchReq)) as { envelopes: Uint8Array[] }
    expect(res.envelopes.map((e) => decodeMail(e).id)).toEqual(ids)
    expect(await mailboxRequest(b.libp2p(), snId, deleteReq)).toEqual({ deleted: ids.length })
  })

  it('answers garbage with an error and keeps serving', async () => {
    const snId = sn.libp2p().peerId
    // 1. Random bytes, then end of stream.
    {
      const stream = await rawStream(a)
      stream.send(crypto.getRandomValues(new Uint8Array(300)))
      await stream.close()
      const reply = await lpStream(stream).read({ signal: AbortSignal.timeout(5000) })
      // Whatever the random length prefix says, the server answers rather than hangs.
      expect(cborDecode(reply.subarray())).toEqual({ error: 'bad_request' })
    }
    // 2. A length prefix far over the 128 KiB limit.
    {
      const stream = await rawStream(a)
      stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x08])) // varint 16 MiB
      const lp = lpStream(stream)
      const reply = cborDecode((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
      expect(reply).toEqual({ error: 'bad_request' })
      stream.abort(new Error('done'))
    }
    // 3. Well-framed but wrong CBOR shapes.
    for (const bad of [
      new Uint8Array([0xff]),
      cborEncode({ t: 'fetch' }),
      cborEncode({ t: 'store', envelope: 'x' }),
      cborEncode({ t: 'nope' }),
      cborEncode([1, 2, 3]),
    ]) {
      const stream = await rawStream(a)
      const lp = lpStream(stream)
      await lp.write(bad)
      const reply = cborDecode((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
      expect(reply).toEqual({ error: 'bad_request' })
      await stream.close()
    }
    // 4. A syntactically fine envelope that fails validation.
    const env = await mailFromAToB('tampered')
    const sig = new Uint8Array(env.sig)
    sig[3]! ^= 1
    expect(
      await mailboxRequest(a.libp2p(), snId, {
        t: 'store',
        envelope: encodeMail({ ...env, sig }),
        from: 'alice',
      }),
    ).toEqual({ error: 'bad_signature' })
    // The server still serves.
    expect(
      await storeMail(a.libp2p(), snId, await mailFromAToB('still here'), { from: 'alice' }),
    ).toBe('stored')
    const got = await fetchMail(b.libp2p(), snId, b.identity.accountKey)
    expect(got.envelopes).toHaveLength(1)
    await deleteMail(
      b.libp2p(),
      snId,
      b.identity.accountKey,
      got.envelopes.map((e) => e.id),
    )
  })

  it('refuses to store while not serving, but still lets recipients collect', async () => {
    const snId = sn.libp2p().peerId
    await storeMail(a.libp2p(), snId, await mailFromAToB('before'), { from: 'alice' })
    serving = false
    try {
      await expect(
        storeMail(a.libp2p(), snId, await mailFromAToB('after'), { from: 'alice' }),
      ).rejects.toThrow(MailboxRequestError)
      const got = await fetchMail(b.libp2p(), snId, b.identity.accountKey)
      expect(got.envelopes).toHaveLength(1)
      const ids = got.envelopes.map((e) => e.id)
      expect(await deleteMail(b.libp2p(), snId, b.identity.accountKey, ids)).toBe(1)
    } finally {
      serving = true
    }
  })

  it('pages fetch responses under the 128 KiB frame limit', async () => {
    const snId = sn.libp2p().peerId
    const big = 'x'.repeat(50_000)
    for (let i = 0; i < 3; i++)
      await storeMail(a.libp2p(), snId, await mailFromAToB(big), { from: 'alice' })
    const first = await fetchMail(b.libp2p(), snId, b.identity.accountKey)
    expect(first.envelopes).toHaveLength(2)
    expect(first.more).toBe(true)
    const ids = first.envelopes.map((e) => e.id)
    await deleteMail(b.libp2p(), snId, b.identity.accountKey, ids)
    const second = await fetchMail(b.libp2p(), snId, b.identity.accountKey)
    expect(second).toMatchObject({ more: false })
    expect(second.envelopes).toHaveLength(1)
    await deleteMail(b.libp2p(), snId, b.identity.accountKey, [second.envelopes[0]!.id])
  })

  it('pages after a cursor without deleting, so a second reader still finds every mail', async () => {
    const snId = sn.libp2p().peerId
    const big = 'y'.repeat(50_000)
    const sent: MailEnvelope[] = []
    for (let i = 0; i < 5; i++) {
      const env = await mailFromAToB(`${i}${big}`)
      sent.push(env)
      await storeMail(a.libp2p(), snId, env, { from: 'alice' })
    }
    // Two readers of one account (two devices): each pages through it all.
    const readAll = async (): Promise<string[]> => {
      const ids: string[] = []
      let after: MailEnvelope | undefined
      for (let page = 0; page < 10; page++) {
        const res = await fetchMail(b.libp2p(), snId, b.identity.accountKey, after ? { after } : {})
        ids.push(...res.envelopes.map((e) => Buffer.from(e.id).toString('hex')))
        if (!res.more) break
        after = res.envelopes.at(-1)
      }
      return ids
    }
    const want = [...sent]
      .sort((x, y) => x.createdAt - y.createdAt || Buffer.compare(x.id, y.id))
      .map((e) => Buffer.from(e.id).toString('hex'))
    expect(await readAll()).toEqual(want)
    expect(await readAll()).toEqual(want)
    // The cursor is signed: a request whose cursor was changed after signing is refused.
    const now = Date.now()
    const cursor = encodeMailCursor(sent[0]!)
    const sig = await b.identity.accountKey.sign(
      fetchSignedBytes(b.identity.accountKey.publicKey.raw, now, b.peerId, cursor),
    )
    const moved = new Uint8Array(cursor)
    moved[7] = moved[7]! ^ 1
    const forged = await mailboxRequest(b.libp2p(), snId, {
      t: 'fetch',
      recipientKey: b.identity.accountKey.publicKey.raw,
      now,
      sig: new Uint8Array(sig),
      after: moved,
    })
    expect(forged).toEqual({ error: 'unauthorized' })
    // A cursor of the wrong size is a bad request.
    const short = await mailboxRequest(b.libp2p(), snId, {
      t: 'fetch',
      recipientKey: b.identity.accountKey.publicKey.raw,
      now,
      sig: new Uint8Array(sig),
      after: cursor.subarray(0, 20),
    })
    expect(short).toEqual({ error: 'bad_request' })
    expect(
      await deleteMail(
        b.libp2p(),
        snId,
        b.identity.accountKey,
        sent.map((e) => e.id),
      ),
    ).toBe(5)
  })

  it('rate-limits requests per peer and times out idle streams', async () => {
    const snId = sn.libp2p().peerId
    await server.stop()
    const strict = new MailboxServer({
      registrar: sn.libp2p(),
      store,
      isServing: () => true,
      senderKey,
      requestsPerMinute: 3,
      timeoutMs: 500,
    })
    await strict.start()
    try {
      for (let i = 0; i < 3; i++) await fetchMail(c.libp2p(), snId, c.identity.accountKey)
      await expect(fetchMail(c.libp2p(), snId, c.identity.accountKey)).rejects.toMatchObject({
        reason: 'rate_limited',
      })
      // Other peers are not affected.
      await fetchMail(b.libp2p(), snId, b.identity.accountKey)

      // A stream that never sends a request is aborted by the server.
      const stream = await rawStream(a)
      const started = Date.now()
      const outcome = await lpStream(stream)
        .read({ signal: AbortSignal.timeout(5000) })
        .then(() => 'reply')
        .catch(() => 'closed')
      expect(outcome).toBe('closed')
      expect(Date.now() - started).toBeLessThan(4000)
    } finally {
      await strict.stop()
      await server.start()
    }
  })
})
