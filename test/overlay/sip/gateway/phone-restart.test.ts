/**
 * A node restart under a registered phone (issue 12 §2, §4), with the real
 * Debian baresip 1.0.0 and a raw UDP phone: the gateway and its router are
 * stopped and built again on the same port and a reopened datastore, as
 * `kaiwa node` does on restart.
 *
 * - baresip's UDP binding comes back: an INVITE for it rings (180) and a
 *   MESSAGE through the router is answered 200 by the phone (no 480), with no
 *   new REGISTER from it;
 * - a digest on a nonce from before the restart is answered 401 stale=true,
 *   a digest on a nonce the node never made a plain 401.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Phones } from '../../../../src/overlay/sip/phones.js'
import type { SipRouter } from '../../../../src/overlay/sip/sip-router.js'
import { buildRequest as build } from '../../../../src/shared/sip/request-builder.js'
import type { SipResponse } from '../../../../src/shared/sip/sip-message.js'
import { UdpPeer, buildRequest, isResponse, withCredentials } from '../../../helpers/sip-wire.js'
import { hasBaresip, startBaresip } from '../../../helpers/baresip.js'
import type { Baresip } from '../../../helpers/baresip.js'
import { required } from '../../../helpers/requirements.js'
import { openTempStore } from '../../store/level-store.js'
import type { TempStore } from '../../store/level-store.js'
import { alicePhones, loneRouter } from '../lone-node.js'

const PASSWORD = 'phone-pw'

interface Node {
  router: SipRouter
  phones: Phones
  port: number
}

let store: TempStore
let node: Node | undefined
let phone: Baresip | undefined
let raw: UdpPeer | undefined

async function startNode(port = 0): Promise<Node> {
  const router = loneRouter()
  const phones = alicePhones(router, store.ds)
  const gw = await phones.startGateway({ port, password: PASSWORD })
  return { router, phones, port: gw.port }
}

async function restart(): Promise<void> {
  const port = node!.port
  await node!.phones.stopGateway()
  node!.phones.mail.stop()
  await store.reopen()
  node = await startNode(port)
}

beforeEach(async () => {
  store = await openTempStore()
})
afterEach(async () => {
  raw?.close()
  raw = undefined
  await phone?.stop()
  phone = undefined
  await node?.phones.stopGateway()
  node = undefined
  await store.dispose()
})

describe('a node restart under registered phones', () => {
  const run = required(hasBaresip(), 'baresip (/usr/bin/baresip)')

  it.runIf(run)(
    'restores baresip: an INVITE rings it and a MESSAGE reaches it, with no new REGISTER',
    async () => {
      node = await startNode()
      phone = await startBaresip({
        user: 'alice',
        password: PASSWORD,
        domain: 'kaiwa',
        gatewayPort: node.port,
      })
      await phone.waitFor(/200 OK .*\[1 binding\]/)
      await node.phones.registrations.settled()
      const contact = node.router.registrar.active()[0]!.contact
      const registered = phone.log().length

      await restart()
      expect(node.router.registrar.active().map((b) => b.contact)).toEqual([contact])

      const invite = build({
        method: 'INVITE',
        uri: 'sip:alice@kaiwa',
        from: 'sip:carol@kaiwa',
        headers: [['Contact', '<sip:carol@127.0.0.1:9>']],
      })
      const ringing = await new Promise<number>((resolve) =>
        node!.router.registrar.active()[0]!.sendRequest({ ...invite, uri: contact }, (r) => {
          if (r.status >= 180) resolve(r.status)
        }),
      )
      expect(ringing).toBe(180)
      await phone.waitFor(/Incoming call from: +sip:carol@kaiwa/, 5000, registered)

      const message = build({
        method: 'MESSAGE',
        uri: 'sip:alice@kaiwa',
        from: 'sip:carol@kaiwa',
        headers: [['Content-Type', 'text/plain']],
        body: new TextEncoder().encode('after the restart'),
      })
      expect(await node.router.deliverLocally(message)).toBe(200)
      // Reached on the kept binding: baresip did not register again.
      expect(phone.log().slice(registered)).not.toMatch(/200 OK .*binding/)
    },
    30_000,
  )

  it('answers a pre-restart nonce with stale=true and a forged one with a plain 401', async () => {
    node = await startNode()
    raw = await UdpPeer.open()
    const reg = buildRequest({
      method: 'REGISTER',
      uri: 'sip:kaiwa',
      from: 'sip:alice@kaiwa',
      to: 'sip:alice@kaiwa',
      extra: [['Contact', `<sip:alice@127.0.0.1:${raw.port}>`]],
    })
    raw.send(node.port, reg)
    const before = (await raw.next(isResponse(401))) as SipResponse

    await restart()
    let from = raw.received.length
    raw.send(node.port, withCredentials(reg, before, 'alice', PASSWORD))
    const stale = (await raw.next(isResponse(401), 2000, from)) as SipResponse
    expect(stale.headers.getAll('www-authenticate')).toEqual([
      expect.stringMatching(/algorithm=MD5, qop="auth", stale=true$/),
    ])
    from = raw.received.length
    raw.send(node.port, withCredentials(reg, stale, 'alice', PASSWORD))
    await raw.next(isResponse(200), 2000, from)

    const forged = { ...before, headers: before.headers.clone() }
    forged.headers.set(
      'WWW-Authenticate',
      before.headers.get('www-authenticate')!.replace(/nonce="([\w-]+)"/, (_m, n: string) => {
        const bytes = Buffer.from(n, 'base64url')
        bytes[bytes.length - 1]! ^= 1
        return `nonce="${bytes.toString('base64url')}"`
      }),
    )
    from = raw.received.length
    raw.send(node.port, withCredentials(reg, forged, 'alice', PASSWORD))
    const plain = (await raw.next(isResponse(401), 2000, from)) as SipResponse
    expect(plain.headers.getAll('www-authenticate').join()).not.toMatch(/stale/)
  }, 20_000)
})
