/**
 * Phones' registrations outlive a node restart (issue 12 §4): every UDP
 * binding a REGISTER makes or refreshes is written to the datastore, every
 * removal deletes it, and at the gateway's start the live ones are put back
 * into the registrar, so an INVITE for the phone reaches it before its next
 * REGISTER (RFC 3261 §10.2.1: a UA re-registers when its binding nears expiry,
 * not when its registrar restarts; §10.3 lets the registrar keep bindings in
 * any store). Expired ones are dropped on the way.
 *
 * Only UDP bindings are kept. A binding made over TCP is reached only over
 * its connection (RFC 5626 §5.3), which a restart closes, so it is not
 * written, and the phone registers again when it reconnects. Which transport
 * is read from the Contact: a sip: URI without `transport=` is UDP (RFC 3263
 * §4.1), which is also how the gateway reaches it; `transport=tcp|tls|ws|…`
 * and sips: are not kept (the UI's sip.js registers `transport=tcp`).
 */
import type { Logger } from '../../shared/logger.js'
import type { PhoneBindingStore } from '../store/phone-bindings.js'
import type { BindingEvent, Deliver, LocalRegistrar } from './local-registrar.js'

export interface PhoneRegistrationsInit {
  registrar: LocalRegistrar
  store: PhoneBindingStore
  log: Logger
  now?: () => number
}

export class PhoneRegistrations {
  private unsubscribe: (() => void) | undefined
  /** Writes run in order, so a refresh and a removal of one contact never swap. */
  private writes: Promise<void> = Promise.resolve()
  private readonly now: () => number

  constructor(private readonly init: PhoneRegistrationsInit) {
    this.now = init.now ?? Date.now
  }

  /** Keep the registrar's UDP bindings in the store from now on. */
  start(): void {
    this.unsubscribe ??= this.init.registrar.subscribe((ev) => this.onEvent(ev))
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }

  /**
   * Put the stored live bindings back into the registrar, each reached through
   * `deliver` (the gateway's way to a UDP phone); `before` hears of each
   * contact just before it is bound again. Returns how many came back.
   */
  async restore(deliver: Deliver, before?: (contact: string) => void): Promise<number> {
    let n = 0
    for (const b of await this.init.store.live(this.now())) {
      before?.(b.contact)
      if (this.init.registrar.restore(b.contact, b.expiresAt, deliver) != null) n++
    }
    if (n > 0) this.init.log.info(`restored ${n} phone registration(s) kept across the restart`)
    return n
  }

  /** Resolves when every write so far is on disk (tests, shutdown). */
  settled(): Promise<void> {
    return this.writes
  }

  private onEvent(ev: BindingEvent): void {
    if (ev.kind === 'bound') {
      if (ev.cause !== 'register' || !isUdpContact(ev.binding.contact)) return
      const { contact, expiresAt } = ev.binding
      this.write(() => this.init.store.put({ contact, expiresAt, transport: 'UDP' }))
    } else {
      this.write(() => this.init.store.delete(ev.contact))
    }
  }

  private write(op: () => Promise<void>): void {
    this.writes = this.writes
      .then(op)
      .catch((err: unknown) =>
        this.init.log.warn(`could not keep a phone registration: ${String(err)}`),
      )
  }
}

/** A sip: contact with no transport parameter, or transport=udp (RFC 3263 §4.1). */
export function isUdpContact(contact: string): boolean {
  const uri = contact.trim()
  if (!/^sip:/i.test(uri)) return false
  const params = uri.split('?')[0]!.split(';').slice(1)
  const transport = params
    .map((p) => p.split('='))
    .find(([k]) => k!.trim().toLowerCase() === 'transport')?.[1]
  return transport == null || transport.trim().toLowerCase() === 'udp'
}
