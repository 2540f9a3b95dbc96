/**
 * Mailbox admission between real libp2p nodes on 127.0.0.1: a supernode runs
 * mailboxService with a user directory (a map of claimed names to their
 * verified keys), and throwaway identities (own peer id, own key, own claimed
 * name each) flood bob's mailbox. A real contact's mail must still get in and
 * stay; mail signed by another key than its From name's is refused; signed
 * fetches and deletes are accepted once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import {
  MailboxRequestError,
  deleteMail,
  deleteSignedBytes,
  fetchMail,
  fetchSignedBytes,
  mailboxRequest,
  storeMail,
} from '../../../src/overlay/mailbox/mailbox-protocol.js'
import type { MailboxRequest } from '../../../src/overlay/mailbox/mailbox-protocol.js'
import { mailboxService } from '../../../src/overlay/mailbox/mailbox-service.js'
import type { MailboxService } from '../../../src/overlay/mailbox/mailbox-service.js'
import { MailboxStore } from '../../../src/overlay/mailbox/mailbox-store.js'
import { openVerifiedMail } from '../../../src/shared/mail/sealed-mail.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'
import { account, levelDatastore, mail } from './mail-fixtures.js'
import type { Account } from './mail-fixtures.js'

/** A peer of its own with an account and a claimed name: a throwaway or a real user. */
interface Identity extends Account {
  node: Libp2p
}

/** The supernode's view of the user directory: live claimed names → verified keys. */
const directory = new Map<string, Uint8Array>()
let lookupFails = false
let supernode: Libp2p<{ mailbox: MailboxService }>
let store: MailboxStore
let disposeDs: () => Promise<void>
const nodes: Libp2p[] = []
let alice: Identity
let bob: Identity

/** A fresh peer id and account key, with `name` claimed in the directory. */
async function identity(name: string, claim = true): Promise<Identity> {
  const [acct, node] = await Promise.all([account(name), plainNode()])
  nodes.push(node)
  await connect(node, supernode)
  if (claim) directory.set(name, acct.key.publicKey.raw)
  return { ...acct, node }
}

const refusal = (err: unknown): string | undefined =>
  err instanceof MailboxRequestError ? err.reason : undefined

/** Sends mail from `who` to bob until the supernode refuses; returns how many it kept. */
async function floodBob(who: Identity, max: number): Promise<number> {
  let stored = 0
  for (let i = 0; i < max; i++) {
    try {
      await storeMail(who.node, supernode.peerId, await mail(who, bob, `spam ${i}`), {
        from: who.name,
      })
      stored++
    } catch (err) {
      expect(refusal(err)).toBe('mailbox_full')
      break
    }
  }
  return stored
}

describe('mailbox admission', () => {
  beforeAll(async () => {
    const ds = await levelDatastore()
    disposeDs = ds.dispose
    // 40 slots per mailbox (about 50 KiB each), generous rates: the flood is
    // limited by fairness here, not by the per-name rate.
    store = new MailboxStore(ds.datastore, {
      maxMessagesPerMailbox: 40,
      maxBytesPerMailbox: 2 * 1024 * 1024,
      ratePerWindow: 1000,
    })
    await store.start()
    supernode = await plainNode<{ mailbox: MailboxService }>({
      mailbox: mailboxService({
        store,
        isServing: () => true,
        senderKey: async (name) => {
          if (lookupFails) throw new Error('lookup timed out')
          return directory.get(name) ?? null
        },
        log: testLog,
        requestsPerMinute: 1000,
      }),
    })
    nodes.push(supernode)
    ;[alice, bob] = await Promise.all([identity('alice'), identity('bob')])
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
    store?.stop()
    await disposeDs?.()
  })

  it('keeps a real contact in after a flood by 12 throwaway names, and keeps it there', async () => {
    // 12 throwaway identities, each its own peer id, key and claimed name,
    // fill bob's mailbox as far as the supernode lets them.
    const flooders = await Promise.all(Array.from({ length: 12 }, (_, i) => identity(`spam-${i}`)))
    let flooded = 0
    for (const f of flooders) flooded += await floodBob(f, 60)
    expect(flooded).toBeGreaterThanOrEqual(40)
    expect((await store.list(bob.key.publicKey.raw)).length).toBe(40)

    // Alice, whom bob knows, writes while the mailbox is full: she gets in.
    const hers = await mail(alice, bob, 'are you there?')
    expect(await storeMail(alice.node, supernode.peerId, hers, { from: 'alice' })).toBe('stored')

    // A second wave of fresh names cannot push her mail out again.
    const wave = await Promise.all(Array.from({ length: 6 }, (_, i) => identity(`wave-${i}`)))
    for (const f of wave) await floodBob(f, 10)

    // Bob collects: alice's mail is there and opens as hers.
    const got: string[] = []
    for (let page = 0; page < 10; page++) {
      const res = await fetchMail(bob.node, supernode.peerId, bob.key)
      for (const env of res.envelopes) {
        const pt = await openVerifiedMail(env, bob.key)
        got.push(`${pt.from}: ${new TextDecoder().decode(pt.body)}`)
      }
      await deleteMail(
        bob.node,
        supernode.peerId,
        bob.key,
        res.envelopes.map((e) => e.id),
      )
      if (!res.more) break
    }
    expect(got).toContain('alice: are you there?')
    expect(await store.list(bob.key.publicKey.raw)).toEqual([])
  })

  it('refuses mail whose signing key is not the key of its From name', async () => {
    const mallory = await identity('mallory')
    const send = (env: Parameters<typeof storeMail>[2], from: string) =>
      storeMail(mallory.node, supernode.peerId, env, { from }).catch(refusal)
    // Mallory's own key, claiming to be alice.
    expect(await send(await mail(mallory, bob), 'alice')).toBe('sender_key_mismatch')
    // Signed by a fresh key under mallory's own name.
    const stranger = await account('mallory')
    expect(await send(await mail(stranger, bob), 'mallory')).toBe('sender_key_mismatch')
    // A name nobody claimed.
    const ghost = await account('ghost')
    expect(await send(await mail(ghost, bob), 'ghost')).toBe('unknown_sender')
    // The directory cannot answer now: refused, and the sender may retry.
    lookupFails = true
    try {
      expect(await send(await mail(mallory, bob), 'mallory')).toBe('sender_unverified')
    } finally {
      lookupFails = false
    }
    // Mallory's own mail under her own name is fine.
    expect(await send(await mail(mallory, bob), 'mallory')).toBe('stored')
    expect(await store.list(bob.key.publicKey.raw)).toHaveLength(1)
  })

  it('accepts a signed fetch and a signed delete once, and refuses their replays', async () => {
    const bobKey = bob.key.publicKey.raw
    const bobPeer = bob.node.peerId.toString()
    const now = Date.now()
    const fetchReq: MailboxRequest = {
      t: 'fetch',
      recipientKey: bobKey,
      now,
      sig: new Uint8Array(await bob.key.sign(fetchSignedBytes(bobKey, now, bobPeer))),
    }
    const first = (await mailboxRequest(bob.node, supernode.peerId, fetchReq)) as {
      envelopes: Uint8Array[]
    }
    expect(first.envelopes.length).toBeGreaterThan(0)
    expect(await mailboxRequest(bob.node, supernode.peerId, fetchReq)).toEqual({
      error: 'replayed',
    })

    const ids = (await store.list(bobKey)).map((e) => e.id)
    const deleteReq: MailboxRequest = {
      t: 'delete',
      recipientKey: bobKey,
      ids,
      now,
      sig: new Uint8Array(await bob.key.sign(deleteSignedBytes(bobKey, now, bobPeer, ids))),
    }
    expect(await mailboxRequest(bob.node, supernode.peerId, deleteReq)).toEqual({
      deleted: ids.length,
    })
    // Alice writes again; the old delete, replayed, must not touch anything.
    await storeMail(alice.node, supernode.peerId, await mail(alice, bob, 'again'), {
      from: 'alice',
    })
    expect(await mailboxRequest(bob.node, supernode.peerId, deleteReq)).toEqual({
      error: 'replayed',
    })
    expect(await store.list(bobKey)).toHaveLength(1)
  })

  it('lets legitimate traffic flow: back-to-back fetches, stores and deletes', async () => {
    const bobKey = bob.key.publicKey.raw
    for (const text of ['one', 'two', 'three']) {
      await storeMail(alice.node, supernode.peerId, await mail(alice, bob, text), {
        from: 'alice',
      })
    }
    // Fetches right after one another sign distinct bytes, so none is a "replay".
    const [a, b] = [
      await fetchMail(bob.node, supernode.peerId, bob.key),
      await fetchMail(bob.node, supernode.peerId, bob.key),
    ]
    expect(a.envelopes).toHaveLength(4)
    expect(b.envelopes).toHaveLength(4)
    const deleted = await deleteMail(
      bob.node,
      supernode.peerId,
      bob.key,
      a.envelopes.map((e) => e.id),
    )
    expect(deleted).toBe(4)
    expect((await fetchMail(bob.node, supernode.peerId, bob.key)).envelopes).toEqual([])
    expect(await store.list(bobKey)).toEqual([])
  })
})
