/**
 * Offline mail handed to the account's phones (issue 12 §6): PhoneMail with a
 * real registrar and a real level datastore, phones played by Delivers that
 * answer as each test scripts, then the real baresip through Phones and a
 * real gateway.
 *
 * - mail that arrives with no phone waits; the phone that registers gets it as
 *   a MESSAGE with its original From, Date, Call-ID and X-Kaiwa-Identity;
 * - a phone that answers an error (or nothing) keeps it for its next
 *   registration, and the rest waits behind it; nothing is sent twice;
 * - phones registered when it arrives each get it once; a phone that comes
 *   later does not get what another phone took; the UI's binding never;
 * - it survives a restart; retention drops what is 7 days old.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalRegistrar } from '../../../src/overlay/sip/local-registrar.js'
import type { Deliver } from '../../../src/overlay/sip/local-registrar.js'
import { PhoneMail } from '../../../src/overlay/sip/phone-mail.js'
import type { PhoneMailItem } from '../../../src/overlay/sip/phone-mail.js'
import {
  MAX_PHONE_MAIL,
  PHONE_MAIL_RETENTION_MS,
  PhoneMailStore,
} from '../../../src/overlay/store/phone-mail.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import { respond } from '../../../src/shared/sip/responses.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { silentLogger } from '../../helpers/logger.js'
import { keysUnder, openTempStore } from '../store/level-store.js'
import type { TempStore } from '../store/level-store.js'
import { hasBaresip, startBaresip } from '../../helpers/baresip.js'
import { required } from '../../helpers/requirements.js'
import { alicePhones, loneRouter } from './lone-node.js'

const PHONE_A = 'sip:alice-a@127.0.0.1:5071'
const PHONE_B = 'sip:alice-b@127.0.0.1:5072'
const UI = 'sip:ui@x.invalid;transport=tcp'

/** A scripted phone: records every MESSAGE and answers with `status` (null: never). */
class FakePhone {
  got: SipRequest[] = []
  status: number | null = 200
  readonly deliver: Deliver = (_contact, req, onResponse) => {
    this.got.push(req)
    const s = this.status
    if (s != null) setTimeout(() => onResponse(respond(req, s, s < 300 ? 'OK' : 'Nope')), 1)
  }
  texts(): string[] {
    return this.got.map((r) => new TextDecoder().decode(r.body))
  }
}

function item(id: string, text = `text ${id}`): PhoneMailItem {
  return {
    id,
    fromUri: 'sip:bob@kaiwa',
    date: 'Tue, 01 Dec 2026 10:00:00 GMT',
    contentType: 'text/plain',
    body: new TextEncoder().encode(text),
    identity: 'verified; fp=abcd',
  }
}

let store: TempStore
let clock: { t: number }
let reg: LocalRegistrar
let mail: PhoneMail
let mailStore: PhoneMailStore

function start(ds = store.ds): void {
  reg = new LocalRegistrar(() => clock.t)
  mailStore = new PhoneMailStore(ds)
  mail = new PhoneMail({
    registrar: reg,
    store: mailStore,
    ownName: async () => 'alice',
    domain: 'kaiwa',
    isPhone: (c) => !c.endsWith('.invalid;transport=tcp'),
    log: silentLogger,
    now: () => clock.t,
    answerTimeoutMs: 200,
  })
  mail.start()
}

async function registerPhone(contact: string, phone: FakePhone, expires = 600): Promise<void> {
  const req = buildRequest({
    method: 'REGISTER',
    uri: 'sip:kaiwa',
    from: 'sip:alice@kaiwa',
    to: 'sip:alice@kaiwa',
    headers: [
      ['Contact', `<${contact}>`],
      ['Expires', String(expires)],
    ],
  })
  expect(reg.register(req, 'alice', 'kaiwa', phone.deliver).status).toBe(200)
  await new Promise((r) => setImmediate(r))
  await mail.idle()
}

const kept = async (): Promise<string[]> =>
  (await mailStore.kept(clock.t)).map((m) => `${m.id} owed ${m.owedTo.join(',')}`)

beforeEach(async () => {
  store = await openTempStore()
  clock = { t: 1_800_000_000_000 }
  start()
})
afterEach(async () => {
  mail.stop()
  await mail.idle()
  await store.dispose()
})

describe('PhoneMail', () => {
  it('keeps mail until a phone registers, then sends it as the original MESSAGE, once', async () => {
    await mail.add([item('m1'), item('m2')])
    expect(await kept()).toEqual(['m1 owed ', 'm2 owed '])
    const a = new FakePhone()
    await registerPhone(PHONE_A, a)
    expect(a.texts()).toEqual(['text m1', 'text m2'])
    const m = a.got[0]!
    expect(m.method).toBe('MESSAGE')
    expect(m.uri).toBe(PHONE_A)
    expect(m.headers.get('from')).toMatch(/^<sip:bob@kaiwa>;tag=/)
    expect(m.headers.get('to')).toBe('<sip:alice@kaiwa>')
    expect(m.headers.get('call-id')).toBe('m1@kaiwa')
    expect(m.headers.get('date')).toBe('Tue, 01 Dec 2026 10:00:00 GMT')
    expect(m.headers.get('content-type')).toBe('text/plain')
    expect(m.headers.get('x-kaiwa-identity')).toBe('verified; fp=abcd')
    expect(await kept()).toEqual([]) // taken, owed to nobody: done
    await registerPhone(PHONE_A, a) // a refresh sends nothing again
    expect(a.got).toHaveLength(2)
  })

  it('offers mail to a phone that registered while the mail was being written', async () => {
    const a = new FakePhone()
    const put = mailStore.put.bind(mailStore)
    mailStore.put = async (m) => {
      await put(m)
      if (reg.active().length === 0) await registerPhone(PHONE_A, a) // finds nothing yet
    }
    await mail.add([item('m1'), item('m2')])
    await mail.idle()
    expect(a.texts()).toEqual(['text m1', 'text m2'])
  })

  it('keeps what a phone refused (or left unanswered) for its next registration', async () => {
    const a = new FakePhone()
    await registerPhone(PHONE_A, a)
    a.status = 500
    await mail.add([item('m1'), item('m2')])
    await mail.idle()
    expect(a.texts()).toEqual(['text m1']) // stops at the first failure: it is away
    expect(await kept()).toEqual([`m1 owed ${PHONE_A}`, `m2 owed ${PHONE_A}`])
    a.status = null // no answer at all (the gateway's Timer F would say 408)
    await registerPhone(PHONE_A, a)
    expect(a.got).toHaveLength(2)
    expect(await kept()).toHaveLength(2)
    a.status = 200
    await registerPhone(PHONE_A, a)
    expect(a.texts()).toEqual(['text m1', 'text m1', 'text m1', 'text m2'])
    expect(await kept()).toEqual([])
  })

  it('gives each phone registered at arrival its copy; a later phone does not get what was taken', async () => {
    const a = new FakePhone()
    const b = new FakePhone()
    const ui = new FakePhone()
    await registerPhone(PHONE_A, a)
    await registerPhone(PHONE_B, b)
    await registerPhone(UI, ui)
    b.status = 486
    await mail.add([item('m1')])
    await mail.idle()
    expect(a.texts()).toEqual(['text m1'])
    expect(b.texts()).toEqual(['text m1'])
    expect(ui.got).toEqual([]) // the UI reads the node's inbox
    expect(await kept()).toEqual([`m1 owed ${PHONE_B}`])
    await registerPhone(PHONE_A, a)
    expect(a.got).toHaveLength(1)
    const c = new FakePhone()
    await registerPhone('sip:alice-c@127.0.0.1:5073', c)
    expect(c.got).toEqual([]) // A has it and only B is owed it
    b.status = 200
    await registerPhone(PHONE_B, b)
    expect(b.texts()).toEqual(['text m1', 'text m1'])
    expect(await kept()).toEqual([])
  })

  it('ignores mail collected twice, survives a restart, and forgets mail after 7 days', async () => {
    await mail.add([item('m1')])
    await mail.add([item('m1', 'changed')])
    mail.stop()
    start(await store.reopen())
    const a = new FakePhone()
    a.status = 500
    await registerPhone(PHONE_A, a)
    expect(a.texts()).toEqual(['text m1'])
    clock.t += PHONE_MAIL_RETENTION_MS + 1
    a.status = 200
    await registerPhone(PHONE_A, a)
    expect(a.got).toHaveLength(1)
    expect(await keysUnder(store.ds, '/kaiwa/sip/phone-mail/')).toEqual([])
  })

  it(`keeps at most ${MAX_PHONE_MAIL} messages, dropping the oldest`, async () => {
    const many = Array.from({ length: MAX_PHONE_MAIL + 3 }, (_, i) => item(`m${1000 + i}`))
    for (const m of many) {
      clock.t += 1
      await mail.add([m])
    }
    const left = await mailStore.kept(clock.t)
    expect(left).toHaveLength(MAX_PHONE_MAIL)
    expect(left[0]!.id).toBe('m1003')
  })
})

describe('offline mail to a real baresip through the gateway', () => {
  const run = required(hasBaresip(), 'baresip (/usr/bin/baresip)')

  it.runIf(run)(
    'hands waiting mail to baresip when it registers (200), then forgets it',
    async () => {
      const router = loneRouter()
      const phones = alicePhones(router, store.ds)
      const gw = await phones.startGateway({ port: 0, password: 'phone-pw' })
      const p = await startBaresip({
        user: 'alice',
        password: 'phone-pw',
        domain: 'kaiwa',
        gatewayPort: gw.port,
      })
      try {
        await phones.keepMail([item('offline-1', 'sent while you were away')])
        await p.waitFor(/200 OK .*\[1 binding\]/)
        const deadline = Date.now() + 10_000
        while ((await keysUnder(store.ds, '/kaiwa/sip/phone-mail/')).length > 0) {
          if (Date.now() > deadline) throw new Error(`baresip never took the mail:\n${p.log()}`)
          await new Promise((r) => setTimeout(r, 50))
        }
        await phones.mail.idle()
        // Its UDP binding was kept for a restart too.
        expect(await keysUnder(store.ds, '/kaiwa/sip/bindings/')).toHaveLength(1)
      } finally {
        await p.stop()
        await phones.stopGateway()
        phones.mail.stop()
      }
    },
    20_000,
  )
})
