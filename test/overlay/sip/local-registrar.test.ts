/**
 * LocalRegistrar on its own, with a controllable clock: REGISTER handling
 * (RFC 3261 §10.3), binding expiry, refreshes keeping a binding's id (the `ua=`
 * of the GRUU the router builds, RFC 5627 §3.1), several contacts, lookups,
 * and extractUri.
 */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_BINDING_EXPIRES_S,
  LocalRegistrar,
  MAX_BINDING_EXPIRES_S,
  MIN_BINDING_EXPIRES_S,
  extractUri,
} from '../../../src/overlay/sip/local-registrar.js'
import type { Deliver } from '../../../src/overlay/sip/local-registrar.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'

const DOMAIN = 'kaiwa'

interface Harness {
  reg: LocalRegistrar
  clock: { t: number }
  changes: () => number
  /** Requests each contact was handed, through the Deliver of its REGISTER. */
  delivered: Array<{ contact: string; req: SipRequest }>
  deliver: Deliver
  register: (contacts: string[], headers?: Array<[string, string]>, to?: string) => SipResponse
}

function harness(): Harness {
  const clock = { t: 1_000_000 }
  let changes = 0
  const reg = new LocalRegistrar(
    () => clock.t,
    () => changes++,
  )
  const delivered: Harness['delivered'] = []
  const deliver: Deliver = (contact, req, onResponse) => {
    delivered.push({ contact, req })
    onResponse(respond(req, 200, 'OK'))
  }
  const register: Harness['register'] = (contacts, headers = [], to = 'sip:alice@kaiwa') =>
    reg.register(
      buildRequest({
        method: 'REGISTER',
        uri: 'sip:kaiwa',
        from: to,
        to,
        headers: [...contacts.map((c): [string, string] => ['Contact', c]), ...headers],
      }),
      'alice',
      DOMAIN,
      deliver,
    )
  return { reg, clock, changes: () => changes, delivered, deliver, register }
}

const contactsOf = (res: SipResponse): string[] => res.headers.getAll('contact')

describe('LocalRegistrar: who may register (RFC 3261 §10.3 steps 3-5)', () => {
  it('binds a contact for the node’s own AOR', () => {
    const h = harness()
    const res = h.register(['<sip:phone@127.0.0.1:5070>'])
    expect(res.status).toBe(200)
    expect(h.reg.active().map((b) => b.contact)).toEqual(['sip:phone@127.0.0.1:5070'])
    expect(h.changes()).toBe(1)
  })

  it('answers 403 for another user’s AOR or another domain', () => {
    const h = harness()
    expect(h.register(['<sip:p@127.0.0.1>'], [], 'sip:bob@kaiwa').status).toBe(403)
    expect(h.register(['<sip:p@127.0.0.1>'], [], 'sip:alice@example.com').status).toBe(403)
    expect(h.reg.active()).toEqual([])
  })

  it('answers 403 before the node has claimed a user ID', () => {
    const h = harness()
    const req = buildRequest({ method: 'REGISTER', uri: 'sip:kaiwa', from: 'sip:alice@kaiwa' })
    expect(h.reg.register(req, null, DOMAIN, h.deliver).status).toBe(403)
  })

  it('answers 400 when the To is not a SIP URI', () => {
    const h = harness()
    expect(h.register(['<sip:p@127.0.0.1>'], [], 'tel:+15551234').status).toBe(400)
  })
})

describe('LocalRegistrar: expiry (RFC 3261 §10.2.1.1, §10.3 step 7)', () => {
  it('uses the contact’s expires parameter, then the Expires header, then the default', () => {
    const h = harness()
    const res = h.register(
      ['<sip:a@127.0.0.1>;expires=60', '<sip:b@127.0.0.1>'],
      [['Expires', '120']],
    )
    expect(contactsOf(res)).toEqual([
      '<sip:a@127.0.0.1>;expires=60',
      '<sip:b@127.0.0.1>;expires=120',
    ])
    const h2 = harness()
    expect(contactsOf(h2.register(['<sip:c@127.0.0.1>']))).toEqual([
      `<sip:c@127.0.0.1>;expires=${DEFAULT_BINDING_EXPIRES_S}`,
    ])
  })

  it('caps a long expiry at the maximum', () => {
    const h = harness()
    const res = h.register(['<sip:a@127.0.0.1>;expires=999999'])
    expect(contactsOf(res)).toEqual([`<sip:a@127.0.0.1>;expires=${MAX_BINDING_EXPIRES_S}`])
  })

  it('answers 423 with Min-Expires for too brief an interval (§10.3 step 7)', () => {
    const h = harness()
    const res = h.register(['<sip:a@127.0.0.1>;expires=5'])
    expect(res.status).toBe(423)
    expect(res.headers.get('min-expires')).toBe(String(MIN_BINDING_EXPIRES_S))
    expect(h.reg.active()).toEqual([])
  })

  it('a 423 for one contact commits none of the request’s bindings (§10.3 step 7)', () => {
    const h = harness()
    const res = h.register(['<sip:a@127.0.0.1>;expires=600', '<sip:b@127.0.0.1>;expires=5'])
    expect(res.status).toBe(423)
    expect(h.reg.active()).toEqual([])
    expect(h.changes()).toBe(0)
  })

  it('a binding lapses at its expiry', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>;expires=60'])
    const id = h.reg.active()[0]!.id
    h.clock.t += 59_999
    expect(h.reg.get(id)).toBeDefined()
    h.clock.t += 1
    expect(h.reg.get(id)).toBeUndefined()
    expect(h.reg.active()).toEqual([])
    expect(h.reg.byContact('sip:a@127.0.0.1')).toBeUndefined()
  })

  it('Expires 0 removes that contact’s binding (unregister)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>', '<sip:b@127.0.0.1>'])
    const res = h.register(['<sip:a@127.0.0.1>;expires=0'])
    expect(res.status).toBe(200)
    expect(h.reg.active().map((b) => b.contact)).toEqual(['sip:b@127.0.0.1'])
    expect(contactsOf(res)).toEqual([`<sip:b@127.0.0.1>;expires=${DEFAULT_BINDING_EXPIRES_S}`])
    expect(h.changes()).toBe(2)
  })

  it('"Contact: *" with Expires 0 removes every binding (§10.3 step 6)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>', '<sip:b@127.0.0.1>'])
    const res = h.register(['*'], [['Expires', '0']])
    expect(res.status).toBe(200)
    expect(h.reg.active()).toEqual([])
  })

  it('"Contact: *" without Expires 0, or beside other contacts, is a 400 (§10.3 step 6)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>'])
    expect(h.register(['*']).status).toBe(400)
    expect(h.register(['*'], [['Expires', '3600']]).status).toBe(400)
    expect(h.register(['*', '<sip:b@127.0.0.1>'], [['Expires', '0']]).status).toBe(400)
    expect(h.register(['<sip:b@127.0.0.1>', '*'], [['Expires', '0']]).status).toBe(400)
    expect(h.reg.active().map((b) => b.contact)).toEqual(['sip:a@127.0.0.1'])
  })

  it('a REGISTER without Contact is a query: 200 listing the current bindings (§10.3 step 8)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>;expires=100'])
    h.clock.t += 40_000
    const res = h.register([])
    expect(res.status).toBe(200)
    expect(contactsOf(res)).toEqual(['<sip:a@127.0.0.1>;expires=60'])
    expect(h.changes()).toBe(1)
  })
})

describe('LocalRegistrar: bindings, refreshes and lookups', () => {
  it('several contacts in one REGISTER each get their own binding', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1:5070>, <sip:b@127.0.0.1:5072>', '<sip:c@[::1]:5074>'])
    const ids = h.reg.active().map((b) => b.id)
    expect(h.reg.active().map((b) => b.contact)).toEqual([
      'sip:a@127.0.0.1:5070',
      'sip:b@127.0.0.1:5072',
      'sip:c@[::1]:5074',
    ])
    expect(new Set(ids).size).toBe(3)
  })

  it('a refresh keeps the binding’s id, so the GRUU naming it stays valid (RFC 5627 §3.1)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>;expires=60'])
    const id = h.reg.active()[0]!.id
    h.clock.t += 50_000
    h.register(['<SIP:A@127.0.0.1>;expires=60'])
    expect(h.reg.active().map((b) => b.id)).toEqual([id])
    h.clock.t += 50_000
    expect(h.reg.get(id)).toBeDefined()
    // A refresh is not a change: onChange fires for new bindings only.
    expect(h.changes()).toBe(1)
  })

  it('a binding removed and registered again gets a new id (a stale GRUU no longer matches)', () => {
    const h = harness()
    h.register(['<sip:a@127.0.0.1>'])
    const first = h.reg.active()[0]!.id
    h.register(['<sip:a@127.0.0.1>;expires=0'])
    h.register(['<sip:a@127.0.0.1>'])
    expect(h.reg.active()[0]!.id).not.toBe(first)
    expect(h.reg.get(first)).toBeUndefined()
  })

  it('get() and byContact() find a live binding; unknown ids and contacts find nothing', () => {
    const h = harness()
    h.register(['"Desk phone" <sip:desk@127.0.0.1:5070;transport=udp>'])
    const b = h.reg.byContact('sip:desk@127.0.0.1:5070;transport=udp')!
    expect(b.contact).toBe('sip:desk@127.0.0.1:5070;transport=udp')
    expect(h.reg.get(b.id)).toBe(b)
    expect(h.reg.get('b999')).toBeUndefined()
    expect(h.reg.byContact('sip:other@127.0.0.1')).toBeUndefined()
  })

  it('a binding delivers through the Deliver of the REGISTER that created it, to its contact', () => {
    const h = harness()
    h.register(['<sip:desk@127.0.0.1:5070>'])
    const invite = buildRequest({ method: 'INVITE', uri: 'sip:alice@kaiwa', from: 'sip:bob@kaiwa' })
    const answers: number[] = []
    h.reg.active()[0]!.sendRequest(invite, (res) => answers.push(res.status))
    expect(h.delivered).toEqual([{ contact: 'sip:desk@127.0.0.1:5070', req: invite }])
    expect(answers).toEqual([200])
  })
})

describe('extractUri', () => {
  it('takes the addr-spec from name-addr forms, dropping header parameters', () => {
    expect(extractUri('<sip:a@b>')).toBe('sip:a@b')
    expect(extractUri('"Alice" <sip:a@b;transport=tcp>;tag=123;expires=60')).toBe(
      'sip:a@b;transport=tcp',
    )
    expect(extractUri('  < sip:a@b >  ')).toBe('sip:a@b')
  })

  it('takes a bare addr-spec up to its first ";" (header parameters, RFC 3261 §20.10)', () => {
    expect(extractUri('sip:a@b;tag=1')).toBe('sip:a@b')
    expect(extractUri(' sip:a@b ')).toBe('sip:a@b')
  })

  it('ignores a "<" or ">" inside a quoted display name (RFC 3261 §25.1 quoted-string)', () => {
    expect(extractUri('"a<b" <sip:a@b>')).toBe('sip:a@b')
    expect(extractUri('"x > y" <sip:a@b>;tag=1')).toBe('sip:a@b')
    expect(extractUri('"say \\"<hi>\\"" <sip:a@b>')).toBe('sip:a@b')
  })

  it('returns what it can from an unterminated "<", and "" from an empty value', () => {
    expect(extractUri('<sip:a@b')).toBe('sip:a@b')
    expect(extractUri('')).toBe('')
  })
})
