/**
 * The phones on this machine (issue 12): the local SIP gateway, with the state
 * that lets phones ride through a node restart and get their offline mail.
 *
 * - The gateway's nonce key comes from the datastore (store/sip-nonce-key.ts),
 *   so a phone holding a nonce from before a restart is told `stale=true`.
 * - Phones' UDP registrations are kept and restored (phone-registrations.ts).
 * - Contacts bound through the gateway are phones; collected offline mail is
 *   handed to them (phone-mail.ts). The UI's sip.js is not a phone: it reads
 *   the node's inbox.
 *
 * It outlives role changes: the gateway talks to the router, not to libp2p.
 */
import type { GatewayMedia } from './gateway/gateway-media.js'
import type { Datastore } from 'interface-datastore'
import type { Logger } from '../../shared/logger.js'
import type { SipGatewayStatus } from '../../shared/api/contract.js'
import { SipGateway } from './gateway/sip-gateway.js'
import type { GatewayRouter, SipGatewayInit, SipGatewayTuning } from './gateway/sip-gateway.js'
import { restoredDeliveryOf } from './gateway/restart-hooks.js'
import type { GatewayRestartInit } from './gateway/restart-hooks.js'
import { loadOrCreateNonceKey } from '../store/sip-nonce-key.js'
import { PhoneBindingStore, bindingKey } from '../store/phone-bindings.js'
import { PhoneMailStore } from '../store/phone-mail.js'
import { extractUri } from './local-registrar.js'
import { PhoneRegistrations } from './phone-registrations.js'
import { PhoneMail } from './phone-mail.js'
import type { PhoneMailItem } from './phone-mail.js'
import type { SipRouter } from './sip-router.js'

export interface GatewayOptions {
  /** UDP and TCP port on 127.0.0.1 (0: any free port). */
  port: number
  password: string
  tuning?: Partial<SipGatewayTuning>
  /** Every SDP body between phones and the overlay (the media anchor). */
  media?: GatewayMedia
}

export interface PhonesInit {
  router: SipRouter
  datastore: Datastore
  ownName: () => Promise<string | null>
  domain: string
  log: Logger
}

export class Phones {
  readonly registrations: PhoneRegistrations
  readonly mail: PhoneMail
  private gateway: SipGateway | undefined
  /** Contacts bound through the gateway, as opposed to the UI's sip.js. */
  private readonly contacts = new Set<string>()

  constructor(private readonly init: PhonesInit) {
    const registrar = init.router.registrar
    registrar.subscribe((ev) => {
      if (ev.kind === 'removed') this.contacts.delete(bindingKey(ev.contact))
    })
    this.registrations = new PhoneRegistrations({
      registrar,
      store: new PhoneBindingStore(init.datastore, { log: init.log }),
      log: init.log.child('gateway'),
    })
    this.registrations.start()
    this.mail = new PhoneMail({
      registrar,
      store: new PhoneMailStore(init.datastore, { log: init.log }),
      ownName: init.ownName,
      domain: init.domain,
      isPhone: (contact) => this.contacts.has(bindingKey(contact)),
      log: init.log.child('phone-mail'),
    })
    this.mail.start()
  }

  /**
   * Start the gateway and restore the phones registered before a restart.
   * Throws SipGatewayError when the port is taken.
   */
  async startGateway(opts: GatewayOptions): Promise<SipGateway> {
    if (this.gateway != null) return this.gateway
    const init: SipGatewayInit & GatewayRestartInit = {
      router: this.phoneRouter(),
      domain: this.init.domain,
      username: this.init.ownName,
      password: opts.password,
      log: this.init.log.child('gateway'),
      nonceKey: await loadOrCreateNonceKey(this.init.datastore, { log: this.init.log }),
      ...(opts.tuning != null ? { tuning: opts.tuning } : {}),
      ...(opts.media != null ? { media: opts.media } : {}),
    }
    const gateway = new SipGateway(init)
    await gateway.start(opts.port)
    this.gateway = gateway
    await this.restore(gateway)
    return gateway
  }

  async stopGateway(): Promise<void> {
    const g = this.gateway
    this.gateway = undefined
    await g?.stop()
    await this.registrations.settled()
  }

  /** Where phones register and with which credentials; null when the gateway is off. */
  async status(): Promise<SipGatewayStatus | null> {
    const g = this.gateway
    if (g == null) return null
    return {
      address: g.address,
      domain: g.domain,
      username: await this.init.ownName(),
      password: g.password,
    }
  }

  /** The running gateway's address (127.0.0.1:PORT), if any. */
  address(): string | undefined {
    return this.gateway?.address
  }

  /** Keep collected offline mail for the phones (on disk when this resolves). */
  keepMail(items: readonly PhoneMailItem[]): Promise<void> {
    return this.mail.add(items)
  }

  /** The router as the gateway sees it: contacts a REGISTER binds there are phones. */
  private phoneRouter(): GatewayRouter {
    return {
      fromLocal: (msg, flow) => {
        if (msg.kind === 'request' && msg.method === 'REGISTER')
          for (const c of msg.headers.getAll('contact'))
            if (c.trim() !== '*') this.contacts.add(bindingKey(extractUri(c)))
        return this.init.router.fromLocal(msg, flow)
      },
    }
  }

  /** Put back the phones' UDP bindings kept from before the restart. */
  private async restore(gateway: SipGateway): Promise<void> {
    const deliver = restoredDeliveryOf(gateway)
    if (deliver == null) {
      this.init.log.warn(
        'this gateway cannot reach restored phones; they are reachable again when they register',
      )
      return
    }
    try {
      // Marked as phones first: a restored binding is offered waiting mail at once.
      await this.registrations.restore(deliver, (contact) => this.contacts.add(bindingKey(contact)))
    } catch (err) {
      this.init.log.warn(`could not restore phone registrations: ${String(err)}`)
    }
  }
}
