/**
 * Stock SIP phones through the gateway and the overlay (issue 12 §1): two
 * in-process Kaiwa nodes (alice at A, bob at B, a supernode between them),
 * one real phone registered at each node's gateway, following RFC 3261 §12
 * dialog rules on their own: the ACK, BYE and re-INVITEs go where the
 * gateway's Record-Route tells them, never to `kaiwa` in DNS.
 *
 * Both pairings run over UDP (linphonec at A with baresip at B, then baresip
 * at A with linphonec at B), and the second once more over TCP (in-dialog
 * requests then come back on the phone's connection: our Record-Route says
 * transport=tcp). Each registers; calls both ways, hung up from either side
 * (the BYE reaches the other phone within 1 s); holds and resumes by
 * re-INVITE; sends DTMF both ways (RFC 4733 telephone-event, as the other
 * phone reports it); and MESSAGEs both ways.
 *
 * Both nodes anchor the phones' media (the default, as users run them): each
 * call crosses two media anchors, plain RTP phone ⇄ node A ⇄ ICE/DTLS-SRTP ⇄
 * node B ⇄ plain RTP phone, all on this host.
 *
 * KAIWA_KEEP_PHONES=1 keeps the phones' directories (configs, logs, and the
 * WAV files of what they heard).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../../src/main/kaiwa-node.js'
import { BaresipPhone, baresipInstalled } from '../../../helpers/phones/baresip.js'
import { LinphonecPhone, linphonecInstalled } from '../../../helpers/phones/linphonec.js'
import { freePortBlock } from '../../../helpers/phones/stock-phone.js'
import type { PhoneOptions, StockPhone } from '../../../helpers/phones/stock-phone.js'
import { dhtServers, freePort, startTestNode, tcpAddr, waitFor } from '../../../helpers/nodes.js'
import { required } from '../../../helpers/requirements.js'

const havePhones = required(
  baresipInstalled() && linphonecInstalled(),
  'baresip 1.0 (with ctrl_tcp) and linphonec',
)

const DOMAIN = 'kaiwa'
const PW = { alice: 'alice-phone-secret', bob: 'bob-phone-secret' }
/** The BYE must reach the other phone this quickly (issue 12 §1). */
const BYE_WITHIN_MS = 1000

type Kind = 'baresip' | 'linphonec'

let sn: KaiwaNode
let a: KaiwaNode
let b: KaiwaNode
let PA: number
let PB: number

async function phone(
  kind: Kind,
  user: 'alice' | 'bob',
  toneHz: number,
  transport: 'udp' | 'tcp',
): Promise<StockPhone> {
  const peer = user === 'alice' ? 'bob' : 'alice'
  const opts: PhoneOptions = {
    account: {
      user,
      domain: DOMAIN,
      password: PW[user],
      gatewayPort: user === 'alice' ? PA : PB,
      transport,
    },
    basePort: await freePortBlock(),
    toneHz,
    peer: `sip:${peer}@${DOMAIN}`,
  }
  return kind === 'baresip' ? new BaresipPhone(opts) : new LinphonecPhone(opts)
}

/** `caller` dials `callee`, which answers; both report the call up. */
async function connect(caller: StockPhone, callee: StockPhone): Promise<void> {
  const [m1, m2] = [caller.mark(), callee.mark()]
  await caller.dial(callee.aor)
  await callee.waitFor({ kind: 'incoming' }, 10_000, m2)
  await callee.answer()
  await callee.waitFor({ kind: 'established' }, 10_000, m2)
  await caller.waitFor({ kind: 'established' }, 10_000, m1)
}

/** `closer` hangs up; the other phone hears the BYE within BYE_WITHIN_MS. */
async function hangUp(closer: StockPhone, other: StockPhone): Promise<void> {
  const [mc, mo] = [closer.mark(), other.mark()]
  const t0 = Date.now()
  await closer.hangup()
  const seen = await other.waitFor({ kind: 'closed' }, 5000, mo)
  expect(seen - t0, `BYE took ${seen - t0} ms to reach ${other.kind}`).toBeLessThan(BYE_WITHIN_MS)
  await closer.waitFor({ kind: 'closed' }, 5000, mc)
}

describe.runIf(havePhones)('stock SIP phones through the gateway and the overlay', () => {
  beforeAll(async () => {
    ;[PA, PB] = await Promise.all([freePort(), freePort()])
    sn = await startTestNode({ supernode: 'on' })
    const bootstrap = [tcpAddr(sn)]
    ;[a, b] = await Promise.all([
      startTestNode({ bootstrap, name: 'alice', sipPort: PA, sipPassword: PW.alice }),
      startTestNode({ bootstrap, name: 'bob', sipPort: PB, sipPassword: PW.bob }),
    ])
    await waitFor(
      () => dhtServers(a) > 0 && dhtServers(b) > 0,
      15_000,
      'A and B to see the supernode',
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()])
    await sn?.stop()
  })

  for (const [kindA, kindB, transport] of [
    ['linphonec', 'baresip', 'udp'],
    ['baresip', 'linphonec', 'udp'],
    ['baresip', 'linphonec', 'tcp'],
  ] as Array<[Kind, Kind, 'udp' | 'tcp']>) {
    describe(`${kindA} as alice at A, ${kindB} as bob at B, over ${transport.toUpperCase()}`, () => {
      let alice: StockPhone
      let bob: StockPhone

      beforeAll(async () => {
        alice = await phone(kindA, 'alice', 440, transport)
        bob = await phone(kindB, 'bob', 1000, transport)
      })
      afterAll(async () => {
        await Promise.allSettled([alice?.stop(), bob?.stop()])
      })

      it('registers both phones at their gateways', async () => {
        await Promise.all([alice.start(), bob.start()])
      }, 30_000)

      it('alice calls bob; bob hangs up and the BYE reaches alice within 1 s', async () => {
        await connect(alice, bob)
        await hangUp(bob, alice)
      }, 40_000)

      it('bob calls alice; alice hangs up and the BYE reaches bob within 1 s', async () => {
        await connect(bob, alice)
        await hangUp(alice, bob)
      }, 40_000)

      it('sends DTMF both ways and holds and resumes by re-INVITE', async () => {
        await connect(alice, bob)
        let m = bob.mark()
        await alice.sendDtmf('5')
        await bob.waitFor({ kind: 'dtmf', digit: '5' }, 5000, m)
        m = alice.mark()
        await bob.sendDtmf('7')
        await alice.waitFor({ kind: 'dtmf', digit: '7' }, 5000, m)

        m = bob.mark()
        const ma = alice.mark()
        await alice.hold()
        await bob.waitFor({ kind: 'remote-hold' }, 5000, m)
        await alice.waitFor({ kind: 'held' }, 5000, ma)
        m = bob.mark()
        await alice.resume()
        await bob.waitFor({ kind: 'remote-resume' }, 5000, m)
        await hangUp(alice, bob)
        // What each phone heard is on disk for the frequency checks of §3.
        expect((await alice.recordings()).length).toBeGreaterThan(0)
        expect((await bob.recordings()).length).toBeGreaterThan(0)
      }, 60_000)

      it('delivers a MESSAGE each way', async () => {
        let m = bob.mark()
        await alice.sendMessage(bob.aor, `hello-bob-from-${kindA}`)
        await bob.waitFor({ kind: 'message', text: `hello-bob-from-${kindA}` }, 10_000, m)
        m = alice.mark()
        await bob.sendMessage(alice.aor, `hello-alice-from-${kindB}`)
        await alice.waitFor({ kind: 'message', text: `hello-alice-from-${kindB}` }, 10_000, m)
      }, 30_000)
    })
  }
})
