/**
 * mailboxService as a real libp2p service: mounted through `services` on a
 * supernode-like node, used by a sender and a recipient over TCP/Noise/Yamux
 * on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import {
  MAILBOX_PROTOCOL,
  deleteMail,
  fetchMail,
  storeMail,
} from '../../../src/overlay/mailbox/mailbox-protocol.js'
import { mailboxService } from '../../../src/overlay/mailbox/mailbox-service.js'
import type { MailboxService } from '../../../src/overlay/mailbox/mailbox-service.js'
import { MailboxStore } from '../../../src/overlay/mailbox/mailbox-store.js'
import { openVerifiedMail } from '../../../src/shared/mail/sealed-mail.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'
import { account, levelDatastore, mail } from './mail-fixtures.js'

const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
})

describe('mailboxService', () => {
  it('stores and hands out mail while started, and unregisters on node.stop()', async () => {
    const [alice, bob] = await Promise.all([account('alice'), account('bob')])
    const ds = await levelDatastore()
    const store = new MailboxStore(ds.datastore)
    await store.start()
    const supernode = await plainNode<{ mailbox: MailboxService }>({
      mailbox: mailboxService({
        store,
        isServing: () => true,
        senderKey: async (name) => (name === 'alice' ? alice.key.publicKey.raw : null),
        log: testLog,
      }),
    })
    const [sender, recipient] = await Promise.all([plainNode(), plainNode()])
    nodes.push(supernode, sender, recipient)
    expect(supernode.getProtocols()).toContain(MAILBOX_PROTOCOL)
    await Promise.all([connect(sender, supernode), connect(recipient, supernode)])

    const env = await mail(alice, bob)
    const bobKey = bob.key
    expect(await storeMail(sender, supernode.peerId, env, { from: 'alice' })).toBe('stored')
    const got = await fetchMail(recipient, supernode.peerId, bobKey)
    expect(got.envelopes).toHaveLength(1)
    expect((await openVerifiedMail(got.envelopes[0]!, bobKey)).from).toBe('alice')
    expect(await deleteMail(recipient, supernode.peerId, bobKey, [env.id])).toBe(1)

    await supernode.stop()
    expect(supernode.services.mailbox.isStarted()).toBe(false)
    expect(supernode.getProtocols()).not.toContain(MAILBOX_PROTOCOL)
    store.stop()
    await ds.dispose()
  })
})
