/**
 * Phones' registrations across a node restart (issue 12 §4), on a real level
 * datastore closed and reopened as a restart does:
 *
 * - LocalRegistrar tells listeners of bindings made, refreshed, restored and
 *   removed (Expires: 0, wildcard, expiry), and `restore` refuses expired or
 *   already-bound contacts;
 * - PhoneRegistrations keeps UDP bindings only (TCP, WS and sips: die with
 *   their connection), restores the live ones after the reopen, reached
 *   through the given Deliver, and drops the expired ones;
 * - the stored forms (phone-bindings, sip-nonce-key, phone-mail): migration
 *   1 → 2, refusal of a newer version, quarantine of a damaged entry; the
 *   nonce key is the same after a reopen.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalRegistrar } from '../../../src/overlay/sip/local-registrar.js'
import type { BindingEvent, Deliver } from '../../../src/overlay/sip/local-registrar.js'
import { PhoneRegistrations, isUdpContact } from '../../../src/overlay/sip/phone-registrations.js'
import { PhoneBindingStore } from '../../../src/overlay/store/phone-bindings.js'
import { loadOrCreateNonceKey } from '../../../src/overlay/store/sip-nonce-key.js'
import {
  phoneBindingsCollection,
  phoneMailCollection,
  sipNonceKeyCollection,
} from '../../../src/overlay/store/migrations/sip-gateway.js'
import { openCollection } from '../../../src/overlay/store/versioned-collection.js'
import { migrateAll } from '../../../src/overlay/store/migrate-all.js'
import { StorageVersionError } from '../../../src/overlay/store/storage-errors.js'
import { writeSchemaRecord } from '../../../src/overlay/store/schema-version.js'
import { storageHealth } from '../../../src/overlay/store/quarantine.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'
import { getJson, keysUnder, openTempStore, putRaw } from '../store/level-store.js'
import type { TempStore } from '../store/level-store.js'

const UDP_PHONE = 'sip:alice-0x1@127.0.0.1:5071'
const TCP_PHONE = 'sip:alice-0x2@127.0.0.1:5072;transport=tcp'
const UI = 'sip:x7h2@k3j4.invalid;transport=tcp'

const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

function registerReq(contacts: string[], expires?: number): SipRequest {
  return buildRequest({
    method: 'REGISTER',
    uri: 'sip:kaiwa',
    from: 'sip:alice@kaiwa',
    to: 'sip:alice@kaiwa',
    headers: [
      ...contacts.map((c): [string, string] => ['Contact', c === '*' ? c : `<${c}>`]),
      ...(expires != null ? [['Expires', String(expires)] as [string, string]] : []),
    ],
  })
}

let store: TempStore
let clock: { t: number }
beforeEach(async () => {
  store = await openTempStore()
  clock = { t: 1_800_000_000_000 }
})
afterEach(async () => {
  await store.dispose()
})

function registrarWithEvents(): { reg: LocalRegistrar; events: BindingEvent[] } {
  const reg = new LocalRegistrar(() => clock.t)
  const events: BindingEvent[] = []
  reg.subscribe((e) => events.push(e))
  return { reg, events }
}

const noDeliver: Deliver = () => {}

describe('LocalRegistrar listeners and restore', () => {
  it('reports bound (fresh, then refreshed), after the 200, and removed', async () => {
    const { reg, events } = registrarWithEvents()
    expect(reg.register(registerReq([UDP_PHONE], 600), 'alice', 'kaiwa', noDeliver).status).toBe(
      200,
    )
    expect(events).toEqual([]) // not before the 200 has gone out
    await settle()
    reg.register(registerReq([UDP_PHONE], 600), 'alice', 'kaiwa', noDeliver)
    reg.register(registerReq([UDP_PHONE], 0), 'alice', 'kaiwa', noDeliver)
    await settle()
    expect(events.map((e) => (e.kind === 'bound' ? `bound ${e.fresh}` : 'removed'))).toEqual([
      'bound true',
      'bound false',
      'removed',
    ])
  })

  it('reports wildcard removals and expiry', async () => {
    const { reg, events } = registrarWithEvents()
    reg.register(registerReq([UDP_PHONE, TCP_PHONE], 60), 'alice', 'kaiwa', noDeliver)
    await settle()
    expect(reg.register(registerReq(['*'], 0), 'alice', 'kaiwa', noDeliver).status).toBe(200)
    await settle()
    expect(events.slice(2)).toEqual([
      { kind: 'removed', contact: UDP_PHONE },
      { kind: 'removed', contact: TCP_PHONE },
    ])
    reg.register(registerReq([UDP_PHONE], 60), 'alice', 'kaiwa', noDeliver)
    await settle()
    events.length = 0
    clock.t += 61_000
    expect(reg.active()).toEqual([])
    expect(events).toEqual([{ kind: 'removed', contact: UDP_PHONE }])
  })

  it('restores a live binding reached through the given Deliver; refuses expired or bound ones', async () => {
    const { reg, events } = registrarWithEvents()
    const sent: string[] = []
    const deliver: Deliver = (contact, req, onResponse) => {
      sent.push(`${req.method} ${contact}`)
      onResponse(respond(req, 180, 'Ringing'))
    }
    expect(reg.restore(UDP_PHONE, clock.t - 1, deliver)).toBeUndefined()
    const b = reg.restore(UDP_PHONE, clock.t + 60_000, deliver)!
    expect(events).toEqual([{ kind: 'bound', binding: b, fresh: true, cause: 'restore' }])
    expect(reg.restore(UDP_PHONE.toUpperCase(), clock.t + 60_000, deliver)).toBeUndefined()
    const invite = buildRequest({ method: 'INVITE', uri: UDP_PHONE, from: 'sip:bob@kaiwa' })
    const statuses: number[] = []
    reg.active()[0]!.sendRequest(invite, (r) => statuses.push(r.status))
    expect(sent).toEqual([`INVITE ${UDP_PHONE}`])
    expect(statuses).toEqual([180])
  })
})

describe('PhoneRegistrations across a restart', () => {
  it('keeps UDP bindings only, restores the live ones after a reopen, drops the expired', async () => {
    const reg = new LocalRegistrar(() => clock.t)
    const keep = new PhoneRegistrations({
      registrar: reg,
      store: new PhoneBindingStore(store.ds),
      log: silentLogger,
      now: () => clock.t,
    })
    keep.start()
    const short = 'sip:alice-0x3@127.0.0.1:5073'
    reg.register(registerReq([UDP_PHONE, TCP_PHONE, UI], 3600), 'alice', 'kaiwa', noDeliver)
    reg.register(registerReq([short], 60), 'alice', 'kaiwa', noDeliver)
    await settle()
    await keep.settled()
    expect(await keysUnder(store.ds, '/kaiwa/sip/bindings/')).toHaveLength(2)
    expect(await getJson(store.ds, `/kaiwa/sip/bindings/${encodeURIComponent(UDP_PHONE)}`)).toEqual(
      {
        $v: 2,
        data: { contact: UDP_PHONE, expiresAt: clock.t + 3600_000, transport: 'UDP' },
      },
    )

    // The restart: a new process 2 minutes later (the short binding has expired).
    const ds = await store.reopen()
    clock.t += 120_000
    const after = new LocalRegistrar(() => clock.t)
    const restored = new PhoneRegistrations({
      registrar: after,
      store: new PhoneBindingStore(ds),
      log: silentLogger,
      now: () => clock.t,
    })
    restored.start()
    const reached: string[] = []
    const marked: string[] = []
    const n = await restored.restore(
      (contact, req) => reached.push(`${req.method} ${contact}`),
      (c) => marked.push(c),
    )
    expect(n).toBe(1)
    expect(marked).toEqual([UDP_PHONE])
    expect(after.active().map((b) => [b.contact, b.expiresAt])).toEqual([
      [UDP_PHONE, clock.t - 120_000 + 3600_000],
    ])
    after
      .active()[0]!
      .sendRequest(
        buildRequest({ method: 'INVITE', uri: UDP_PHONE, from: 'sip:bob@kaiwa' }),
        () => {},
      )
    expect(reached).toEqual([`INVITE ${UDP_PHONE}`])
    // The expired one is gone from disk; a restored binding is not written again.
    await restored.settled()
    expect(await keysUnder(ds, '/kaiwa/sip/bindings/')).toEqual([
      `/kaiwa/sip/bindings/${encodeURIComponent(UDP_PHONE)}`,
    ])

    // The phone unregisters: the kept binding goes too.
    after.register(registerReq([UDP_PHONE], 0), 'alice', 'kaiwa', noDeliver)
    await settle()
    await restored.settled()
    expect(await keysUnder(ds, '/kaiwa/sip/bindings/')).toEqual([])
  })

  it('tells UDP contacts from others (RFC 3263 §4.1: no transport= is UDP)', () => {
    expect(isUdpContact(UDP_PHONE)).toBe(true)
    expect(isUdpContact('SIP:a@127.0.0.1;Transport=UDP;ob')).toBe(true)
    expect(isUdpContact(TCP_PHONE)).toBe(false)
    expect(isUdpContact(UI)).toBe(false)
    expect(isUdpContact('sips:a@127.0.0.1:5061')).toBe(false)
    expect(isUdpContact('sip:a@127.0.0.1;transport=ws')).toBe(false)
  })
})

describe('stored forms of the gateway state', () => {
  it('phone-bindings 1 -> 2: a bare entry is wrapped; a damaged one is quarantined', async () => {
    const v1 = { contact: UDP_PHONE, expiresAt: clock.t + 60_000, transport: 'UDP' }
    await putRaw(store.ds, '/kaiwa/sip/bindings/a', JSON.stringify(v1))
    await putRaw(store.ds, '/kaiwa/sip/bindings/b', JSON.stringify({ contact: 'mailto:x' }))
    const report = await openCollection(store.ds, phoneBindingsCollection)
    expect(report).toMatchObject({ from: 1, to: 2, migrated: 1, quarantined: 1 })
    expect(await getJson(store.ds, '/kaiwa/sip/bindings/a')).toEqual({ $v: 2, data: v1 })
    expect((await storageHealth(store.ds)).quarantined).toEqual([
      expect.objectContaining({ collection: 'phone-bindings', key: '/kaiwa/sip/bindings/b' }),
    ])
    expect(await new PhoneBindingStore(store.ds).live(clock.t)).toEqual([v1])
  })

  for (const spec of [phoneBindingsCollection, sipNonceKeyCollection, phoneMailCollection]) {
    it(`refuses ${spec.name} written by a newer Kaiwa, changing nothing`, async () => {
      await writeSchemaRecord(store.ds, spec.name, { version: 3, complete: true })
      await expect(migrateAll(store.ds)).rejects.toBeInstanceOf(StorageVersionError)
      await expect(openCollection(store.ds, spec)).rejects.toThrow(/format version 3/)
    })
  }

  it('keeps one nonce key across a reopen and replaces a damaged one', async () => {
    const key = await loadOrCreateNonceKey(store.ds)
    expect(key).toHaveLength(32)
    const ds = await store.reopen()
    expect(await loadOrCreateNonceKey(ds)).toEqual(key)
    await putRaw(ds, '/kaiwa/sip/nonce-key', '{"$v":2,"data":{"key":"short"}}')
    const fresh = await loadOrCreateNonceKey(ds)
    expect(fresh).toHaveLength(32)
    expect(fresh).not.toEqual(key)
    expect((await storageHealth(ds)).quarantined).toEqual([
      expect.objectContaining({ collection: 'sip-nonce-key' }),
    ])
    expect(await loadOrCreateNonceKey(ds)).toEqual(fresh)
  })
})
