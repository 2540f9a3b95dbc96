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
 * node B ⇄ plain RTP phone, all on this host. Each phone sends its own tone
 * (alice's 440 Hz, bob's 1000 Hz: baresip's `ausine` source, linphonec's WAV
 * in file mode); after each plain call, the recording of what each phone
 * heard must hold the OTHER phone's tone: audio crossed both anchors both
 * ways (issue 12 §3).
 *
 * KAIWA_KEEP_PHONES=1 keeps the phones' directories (configs, logs, and the
 * WAV files of what they heard); KAIWA_TONE_REPORT=1 prints each measured tone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../../src/main/kaiwa-node.js'
import { BaresipPhone, baresipInstalled } from '../../../helpers/phones/baresip.js'
import { LinphonecPhone, linphonecInstalled } from '../../../helpers/phones/linphonec.js'
import { freePortBlock } from '../../../helpers/phones/stock-phone.js'
import { heardTone, markRecordings } from '../../../helpers/phones/heard-tone.js'
import type { RecordingMark } from '../../../helpers/phones/heard-tone.js'
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
/** The tone each phone sends (Hz); neither is a harmonic of the other. */
const TONE = { alice: 440, bob: 1000 }
/** How long a call carries audio before the hang-up. */
const TALK_MS = 2000
/** The far tone must be heard this long (100 ms frames at or above -40 dBFS)... */
const MIN_HEARD_S = 1
/** ...peak within this many Hz of the far tone... */
const HZ_TOLERANCE = 3
/** ...and hold this part of the heard energy (±30 Hz): 10 dB over everything else. */
const MIN_TONE_SHARE = 0.9

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

/** What `phone` heard since `mark` is the other phone's tone `hz`. */
async function expectHeard(phone: StockPhone, mark: RecordingMark, hz: number): Promise<void> {
  const t = await heardTone(phone, mark, hz)
  const what =
    `${phone.kind} (${phone.aor}) heard ${t.dominantHz.toFixed(2)} Hz, ` +
    `${(t.share * 100).toFixed(2)} % at ${hz} Hz (${t.toneOverRestDb.toFixed(1)} dB over the rest), ` +
    `${t.voicedSeconds.toFixed(1)} s at ${t.voicedDbfs.toFixed(1)} dBFS, ${t.sampleRate} Hz WAV`
  if (process.env.KAIWA_TONE_REPORT === '1') console.info(`tone: ${what}`)
  expect(t.voicedSeconds, what).toBeGreaterThanOrEqual(MIN_HEARD_S)
  expect(Math.abs(t.dominantHz - hz), what).toBeLessThanOrEqual(HZ_TOLERANCE)
  expect(t.share, what).toBeGreaterThanOrEqual(MIN_TONE_SHARE)
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
        alice = await phone(kindA, 'alice', TONE.alice, transport)
        bob = await phone(kindB, 'bob', TONE.bob, transport)
      })
      afterAll(async () => {
        await Promise.allSettled([alice?.stop(), bob?.stop()])
      })

      it('registers both phones at their gateways', async () => {
        await Promise.all([alice.start(), bob.start()])
      }, 30_000)

      it("alice calls bob; each hears the other's tone; bob hangs up, the BYE at alice within 1 s", async () => {
        const [ma, mb] = await Promise.all([markRecordings(alice), markRecordings(bob)])
        await connect(alice, bob)
        await new Promise((r) => setTimeout(r, TALK_MS))
        await hangUp(bob, alice)
        await Promise.all([expectHeard(alice, ma, TONE.bob), expectHeard(bob, mb, TONE.alice)])
      }, 40_000)

      it("bob calls alice; each hears the other's tone; alice hangs up, the BYE at bob within 1 s", async () => {
        const [ma, mb] = await Promise.all([markRecordings(alice), markRecordings(bob)])
        await connect(bob, alice)
        await new Promise((r) => setTimeout(r, TALK_MS))
        await hangUp(alice, bob)
        await Promise.all([expectHeard(alice, ma, TONE.bob), expectHeard(bob, mb, TONE.alice)])
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
