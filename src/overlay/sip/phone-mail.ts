/**
 * Offline mail handed to the account's phones (issue 12 §6). Mail the node
 * collects from the supernodes' mailboxes is filed in the node's inbox (by
 * sip-service.ts) and kept here for phones: each is sent as a SIP MESSAGE
 * (RFC 3428) to the Contact of every phone on the gateway, through the
 * binding's own way to it (the registrar's `deliver`), when the mail arrives
 * and whenever a phone registers.
 *
 * Who gets what, per message:
 * - every phone registered when it arrives is owed it (`owedTo`), as a live
 *   MESSAGE would be forked to all of them (RFC 3261 §16.6);
 * - a phone that answers 2xx has it (`deliveredTo`) and is never sent it again;
 * - a phone that answers an error, or nothing within Timer F, stays owed and
 *   gets it at its next registration; nothing is lost;
 * - while no phone has taken it yet, the next phone to register gets it;
 * - once some phone has it and no phone is owed it, it is done and forgotten.
 * The store keeps at most 7 days and 500 messages (store/phone-mail.ts).
 *
 * Each message keeps its Call-ID (`<mailbox id>@<domain>`), original From
 * and Date, and the node's X-Kaiwa-Identity verdict, so a phone sees the
 * same message each time it is offered and can recognise a repeat.
 */
import type { Logger } from '../../shared/logger.js'
import { buildRequest } from '../../shared/sip/request-builder.js'
import type { SipResponse } from '../../shared/sip/sip-message.js'
import { IDENTITY_STATE_HEADER } from '../../shared/identity/verification-state.js'
import { bindingKey } from '../store/phone-bindings.js'
import type { PhoneMailStore, StoredPhoneMail } from '../store/phone-mail.js'
import type { LocalBinding, LocalRegistrar } from './local-registrar.js'

/** One collected message, as sip-service.ts hands it over. */
export interface PhoneMailItem {
  id: string
  fromUri: string
  date: string
  contentType: string
  body: Uint8Array
  /** The X-Kaiwa-Identity value the node set after verifying the sender. */
  identity: string
}

const VIA_HOST = 'phone-mail.invalid'

export interface PhoneMailInit {
  registrar: LocalRegistrar
  store: PhoneMailStore
  ownName: () => Promise<string | null>
  domain: string
  /** Whether a bound contact is a phone on the gateway (the UI reads the inbox instead). */
  isPhone: (contact: string) => boolean
  log: Logger
  now?: () => number
  /**
   * Longest wait for a phone's final answer; the gateway answers 408 itself
   * after Timer F (32 s), this only guards against a way that never answers.
   *
   * @default 40_000
   */
  answerTimeoutMs?: number
}

export class PhoneMail {
  private unsubscribe: (() => void) | undefined
  /** Phones (normalized contacts) being offered mail now: one offer loop each. */
  private readonly offering = new Set<string>()
  /** Phones that registered again while their loop ran: it runs once more. */
  private readonly again = new Set<string>()
  /** Read-modify-write of entries, one at a time. */
  private updates: Promise<void> = Promise.resolve()
  private readonly now: () => number

  constructor(private readonly init: PhoneMailInit) {
    this.now = init.now ?? Date.now
  }

  /** Offer waiting mail to each phone as it registers (or is restored). */
  start(): void {
    this.unsubscribe ??= this.init.registrar.subscribe((ev) => {
      if (ev.kind === 'bound' && this.init.isPhone(ev.binding.contact)) this.offer(ev.binding)
    })
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }

  /**
   * Keep newly collected mail for phones (on disk before this resolves, so the
   * caller may then delete it from the mailbox) and offer it to the phones
   * registered now.
   */
  async add(items: readonly PhoneMailItem[]): Promise<void> {
    if (items.length === 0) return
    const phones = this.phones()
    const owedTo = phones.map((b) => bindingKey(b.contact))
    for (const m of items) {
      if ((await this.init.store.get(m.id)) != null) continue // collected twice: already kept
      await this.init.store.put({
        id: m.id,
        fromUri: m.fromUri,
        date: m.date,
        contentType: m.contentType,
        body: Buffer.from(m.body).toString('base64'),
        identity: m.identity,
        receivedAt: this.now(),
        deliveredTo: [],
        owedTo,
      })
    }
    // The phones registered now, not at the start: one that registered while
    // the entries were being written may have looked before they were there.
    for (const b of this.phones()) this.offer(b)
  }

  /** Resolves when no offer is running and every update is on disk (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.offering.size > 0) await new Promise((r) => setTimeout(r, 10))
    await this.updates
  }

  private phones(): LocalBinding[] {
    return this.init.registrar.active().filter((b) => this.init.isPhone(b.contact))
  }

  private offer(binding: LocalBinding): void {
    const key = bindingKey(binding.contact)
    if (this.offering.has(key)) {
      this.again.add(key)
      return
    }
    this.offering.add(key)
    void (async () => {
      do {
        this.again.delete(key)
        await this.offerAll(binding, key)
      } while (this.again.has(key))
    })()
      .catch((err: unknown) => this.init.log.warn(`offline mail to ${key}: ${String(err)}`))
      .finally(() => this.offering.delete(key))
  }

  /** Send `binding` what it is owed, oldest first; stop at its first failure (it is away). */
  private async offerAll(binding: LocalBinding, key: string): Promise<void> {
    const name = await this.init.ownName()
    if (name == null) return
    let sent = 0
    for (const kept of await this.init.store.kept(this.now())) {
      const m = await this.init.store.get(kept.id) // another phone may have changed it since
      if (m == null || !owes(m, key)) continue
      const status = await this.send(binding, m, name)
      const ok = status >= 200 && status < 300
      await this.record(m.id, key, ok)
      if (!ok) {
        this.init.log.info(`a phone answered offline mail ${m.id} with ${status}; kept for later`)
        return
      }
      sent++
    }
    if (sent > 0) this.init.log.info(`handed ${sent} offline message(s) to a phone`)
  }

  private send(binding: LocalBinding, m: StoredPhoneMail, name: string): Promise<number> {
    const req = buildRequest({
      method: 'MESSAGE',
      uri: `sip:${name}@${this.init.domain}`,
      from: m.fromUri,
      // Never dialled back: the gateway pushes its own Via above this one, and
      // a fixed host needs no libp2p instance (restored phones are offered
      // mail before libp2p starts).
      viaHost: VIA_HOST,
      headers: [
        ['Call-ID', `${m.id}@${this.init.domain}`],
        ['Date', m.date],
        ['Content-Type', m.contentType],
        [IDENTITY_STATE_HEADER, m.identity],
      ],
      body: new Uint8Array(Buffer.from(m.body, 'base64')),
    })
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(408), this.init.answerTimeoutMs ?? 40_000)
      const onResponse = (res: SipResponse): void => {
        if (res.status < 200) return
        clearTimeout(timer)
        resolve(res.status)
      }
      try {
        binding.sendRequest({ ...req, uri: binding.contact }, onResponse)
      } catch (err) {
        clearTimeout(timer)
        this.init.log.debug(`cannot reach ${binding.contact}: ${String(err)}`)
        resolve(503)
      }
    })
  }

  /** Note the phone's answer; forget the message once a phone has it and none is owed it. */
  private record(id: string, key: string, ok: boolean): Promise<void> {
    const run = this.updates.then(async () => {
      const m = await this.init.store.get(id)
      if (m == null) return
      const owedTo = m.owedTo.filter((c) => c !== key)
      const deliveredTo = ok ? [...new Set([...m.deliveredTo, key])].slice(-64) : m.deliveredTo
      if (!ok) owedTo.push(key)
      if (deliveredTo.length > 0 && owedTo.length === 0) await this.init.store.delete(id)
      else await this.init.store.put({ ...m, deliveredTo, owedTo: owedTo.slice(-64) })
    })
    this.updates = run.catch(() => {})
    return run
  }
}

/** Is `key` to be sent `m`: owed it, or nobody has it yet (and `key` has not). */
function owes(m: StoredPhoneMail, key: string): boolean {
  if (m.deliveredTo.includes(key)) return false
  return m.owedTo.includes(key) || m.deliveredTo.length === 0
}
