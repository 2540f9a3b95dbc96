/**
 * The node's registrar for its *local* user agents (RFC 3261 §10.3): phones on
 * the loopback gateway and the UI's sip.js. A REGISTER for the node's own user
 * ID binds a contact; other AORs get 403. The overlay-wide "registration" is the
 * node's contact record in the DHT, which the node keeps published while it
 * runs; local bindings decide where an incoming request is delivered.
 *
 * Listeners (`subscribe`) hear of every binding made, refreshed, restored or
 * removed: phone-registrations.ts keeps UDP bindings in the datastore so they
 * outlive a restart, and phone-mail.ts hands waiting mail to a phone when it
 * registers.
 */
import { sameSipUri } from '../../shared/sip/uri-equal.js'
import type { SipRequest, SipResponse } from '../../shared/sip/sip-message.js'
import { respond } from '../../shared/sip/responses.js'
import { parseOverlayTarget } from '../../shared/sip/overlay-uri.js'

/** RFC 3261 §10.2.1.1: the registrar may shorten the expiry; we cap it. */
export const MAX_BINDING_EXPIRES_S = 3600
export const MIN_BINDING_EXPIRES_S = 30
export const DEFAULT_BINDING_EXPIRES_S = 3600

export interface LocalBinding {
  readonly id: string
  /** The contact URI the UA registered (where it wants requests). */
  readonly contact: string
  readonly expiresAt: number
  /**
   * Deliver a request to this UA (the gateway or the bridge carries it); the
   * transport hands that UA's responses to `onResponse`, which is how a
   * response is tied to its branch when a request is forked locally.
   */
  sendRequest(req: SipRequest, onResponse: (res: SipResponse) => void): void
}

/** How a transport (gateway, bridge) delivers to a UA it registered. */
export type Deliver = (
  contact: string,
  req: SipRequest,
  onResponse: (res: SipResponse) => void,
) => void

/** What happened to a binding, for listeners. */
export type BindingEvent =
  /** A REGISTER added (`fresh`) or refreshed the binding, or it was restored after a restart. */
  | { kind: 'bound'; binding: LocalBinding; fresh: boolean; cause: 'register' | 'restore' }
  /** Removed by `Expires: 0`, a wildcard, or its expiry passing. */
  | { kind: 'removed'; contact: string }

export type BindingListener = (event: BindingEvent) => void

export class LocalRegistrar {
  private readonly bindings = new Map<string, LocalBinding>()
  private readonly listeners = new Set<BindingListener>()
  private seq = 0

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onChange: () => void = () => {},
  ) {}

  active(): LocalBinding[] {
    const now = this.now()
    for (const [id, b] of this.bindings) {
      if (b.expiresAt > now) continue
      this.bindings.delete(id)
      this.emit({ kind: 'removed', contact: b.contact })
    }
    return [...this.bindings.values()]
  }

  /** Hear of bindings made and removed; returns the unsubscribe function. */
  subscribe(listener: BindingListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Bring back a binding kept across a restart (no REGISTER in this process):
   * its phone is reached through `deliver`. Refused (undefined) when it has
   * expired or the contact is bound already (a REGISTER since start wins).
   */
  restore(contact: string, expiresAt: number, deliver: Deliver): LocalBinding | undefined {
    if (expiresAt <= this.now() || this.byContact(contact) != null) return undefined
    const binding = this.bind(`b${++this.seq}`, contact, expiresAt, deliver)
    this.emit({ kind: 'bound', binding, fresh: true, cause: 'restore' })
    return binding
  }

  get(id: string): LocalBinding | undefined {
    const b = this.bindings.get(id)
    return b != null && b.expiresAt > this.now() ? b : undefined
  }

  /**
   * The binding whose contact is `contact` (a UA identifies itself by its
   * Contact), compared as RFC 3261 §19.1.4 compares URIs: sip.js adds `;ob`
   * to its INVITE's Contact, and without this the caller's Contact named no
   * binding, so the callee's in-dialog requests (BYE, re-INVITE) got 480.
   */
  byContact(contact: string): LocalBinding | undefined {
    const key = contact.trim().toLowerCase()
    return this.active().find(
      (b) => b.contact.trim().toLowerCase() === key || sameSipUri(b.contact, contact),
    )
  }

  /**
   * Handle a REGISTER from a local UA. `ownName` is the node's user ID (null
   * before one is claimed); `deliver` is how that UA's transport reaches it.
   */
  register(req: SipRequest, ownName: string | null, domain: string, deliver: Deliver): SipResponse {
    const to = parseOverlayTarget(extractUri(req.headers.get('to') ?? ''))
    if (to == null) return respond(req, 400, 'Bad To')
    if (ownName == null) return respond(req, 403, 'Claim a user ID first (kaiwa claim NAME)')
    if (to.user !== ownName || to.domain !== domain) {
      return respond(req, 403, `This node registers only sip:${ownName}@${domain}`)
    }
    const contacts = req.headers.getAll('contact')
    const headerExpires = parseExpires(req.headers.get('expires'))
    if (contacts.some((c) => c.trim() === '*')) {
      // RFC 3261 §10.3 step 6: "*" with Expires 0 removes every binding; with other
      // Contacts or another expiry the request is invalid (400).
      if (contacts.length !== 1 || headerExpires !== 0)
        return respond(req, 400, 'Wildcard Contact needs Expires: 0 and no other Contact')
      const gone = [...this.bindings.values()]
      this.bindings.clear()
      this.onChange()
      return this.thenEmit(
        respond(req, 200, 'OK'),
        gone.map((b) => ({ kind: 'removed', contact: b.contact })),
      )
    }
    const updates = contacts.map((c) => ({
      uri: extractUri(c),
      expires:
        parseExpires(/;\s*expires\s*=\s*(\d+)/i.exec(c)?.[1]) ??
        headerExpires ??
        DEFAULT_BINDING_EXPIRES_S,
    }))
    // RFC 3261 §10.3 step 7: the updates are committed all or none, so every
    // expiry is checked before any binding changes.
    if (updates.some((u) => u.expires !== 0 && u.expires < MIN_BINDING_EXPIRES_S)) {
      return respond(req, 423, 'Interval Too Brief', [
        ['Min-Expires', String(MIN_BINDING_EXPIRES_S)],
      ])
    }
    let changed = false
    const events: BindingEvent[] = []
    for (const { uri, expires } of updates) {
      const existing = this.byContact(uri)
      if (expires === 0) {
        if (existing != null) {
          this.bindings.delete(existing.id)
          events.push({ kind: 'removed', contact: existing.contact })
        }
        changed = true
        continue
      }
      const expiresAt = this.now() + Math.min(expires, MAX_BINDING_EXPIRES_S) * 1000
      const binding = this.bind(existing?.id ?? `b${++this.seq}`, uri, expiresAt, deliver)
      events.push({ kind: 'bound', binding, fresh: existing == null, cause: 'register' })
      changed ||= existing == null
    }
    if (changed) this.onChange()
    // RFC 3261 §10.3 step 8: the 200 lists every current binding with its expiry.
    const now = this.now()
    const list = this.active().map(
      (b) =>
        [
          'Contact',
          `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
        ] as [string, string],
    )
    return this.thenEmit(respond(req, 200, 'OK', list), events)
  }

  /**
   * `events` go to listeners once the caller has sent `res` (the router sends
   * it synchronously): a listener may send to the phone at once (waiting
   * mail), and that request must not overtake the phone's 200.
   */
  private thenEmit(res: SipResponse, events: BindingEvent[]): SipResponse {
    if (events.length > 0)
      queueMicrotask(() => {
        for (const ev of events) this.emit(ev)
      })
    return res
  }

  private bind(id: string, contact: string, expiresAt: number, deliver: Deliver): LocalBinding {
    const binding: LocalBinding = {
      id,
      contact,
      expiresAt,
      sendRequest: (r, onResponse) => deliver(contact, r, onResponse),
    }
    this.bindings.set(id, binding)
    return binding
  }

  private emit(event: BindingEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // A listener's failure is its own (each logs what it does); the registrar goes on.
      }
    }
  }
}

/** The URI of a name-addr or addr-spec header value (To, From, Contact: RFC 3261 §20.10). */
export function extractUri(headerValue: string): string {
  const lt = indexOutsideQuotes(headerValue, '<')
  if (lt >= 0) {
    const gt = headerValue.indexOf('>', lt)
    return headerValue.slice(lt + 1, gt < 0 ? undefined : gt).trim()
  }
  return headerValue.split(';')[0]!.trim()
}

/** RFC 3261 §25.1: a quoted display name may contain '<', '>' and escaped quotes. */
function indexOutsideQuotes(s: string, ch: string): number {
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if (c === ch) return i
  }
  return -1
}

function parseExpires(v: string | undefined | null): number | undefined {
  if (v == null || !/^\s*\d+\s*$/.test(v)) return undefined
  return Math.min(Number(v), 2 ** 31 - 1)
}
