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
import type { Startable } from '@libp2p/interface'
import type { RegistrarSlice } from '../rpc/cbor-rpc.js'
import { MAILBOX_PROTOCOL, MailboxServer } from './mailbox-protocol.js'
import type { MailboxServerInit } from './mailbox-protocol.js'

/** The components this service uses: only the registrar. */
export interface MailboxServiceComponents {
  registrar: RegistrarSlice
}

/** The long-lived parts: the store, whether to accept mail now, limits, logger. */
export type MailboxServiceInit = Omit<MailboxServerInit, 'registrar'>

export interface MailboxService extends Startable {
  readonly protocol: string
  /** True between start and stop. */
  isStarted(): boolean
}

class DefaultMailboxService implements MailboxService {
  readonly [Symbol.toStringTag] = '@kaiwa/mailbox'
  readonly protocol = MAILBOX_PROTOCOL
  private readonly server: MailboxServer
  private started = false

  constructor(components: MailboxServiceComponents, init: MailboxServiceInit) {
    this.server = new MailboxServer({ ...init, registrar: components.registrar })
  }

  isStarted(): boolean {
    return this.started
  }

  async start(): Promise<void> {
    await this.server.start()
    this.started = true
  }

  async stop(): Promise<void> {
    this.started = false
    await this.server.stop()
  }
}

export function mailboxService(
  init: MailboxServiceInit,
): (components: MailboxServiceComponents) => MailboxService {
  return (components) => new DefaultMailboxService(components, init)
}
