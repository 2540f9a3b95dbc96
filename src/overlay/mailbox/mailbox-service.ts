/**
 * `/kaiwa/mailbox/1.0.0` as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { mailbox: mailboxService({ store, isServing, log, ... }) } })
 *
 * `start` registers the protocol handler, `stop` unregisters it. The store is
 * long-lived (it outlives a role change, which rebuilds the libp2p node), so
 * the service neither starts nor stops it: its owner does. The protocol itself
 * is MailboxServer in mailbox-protocol.ts.
 */
import { protocolService } from '../rpc/handler-service.js'
import type { ProtocolService, ProtocolServiceComponents } from '../rpc/handler-service.js'
import { MAILBOX_PROTOCOL, MailboxServer } from './mailbox-protocol.js'
import type { MailboxServerInit } from './mailbox-protocol.js'

/** The long-lived parts: the store, whether to accept mail now, limits, logger. */
export type MailboxServiceInit = Omit<MailboxServerInit, 'registrar'>

export type MailboxService = ProtocolService

export function mailboxService(
  init: MailboxServiceInit,
): (components: ProtocolServiceComponents) => MailboxService {
  return protocolService('mailbox', MAILBOX_PROTOCOL, async (registrar) => {
    const server = new MailboxServer({ ...init, registrar })
    await server.start()
    return () => server.stop()
  })
}
