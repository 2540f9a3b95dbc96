/**
 * Stock SIP phones at two NAT-lab sites (issue 12, "Phones at two NAT-lab
 * sites"): a supernode (TURN on) on the lab's public host; client A behind
 * one NAT, client B behind a symmetric NAT, each a real `kaiwa node` with
 * its SIP gateway on 127.0.0.1 inside its namespace. Debian's baresip
 * registers at A's gateway and linphonec at B's, each running inside its
 * node's namespace (stock configurations, the gateway only as registrar and
 * outbound proxy; test/helpers/phones with the lab's spawn injected).
 *
 * Each call crosses both media anchors: plain RTP phone ⇄ node A ⇄
 * ICE/DTLS-SRTP across the NATs ⇄ node B ⇄ plain RTP phone. Calls go A→B and
 * B→A; each phone's recording must hold the other phone's tone (the criteria
 * of test/overlay/sip/gateway/phones.test.ts), and the hang-up's BYE must
 * reach the other phone.
 *
 * The media path the anchors took is read from the lab, not from the nodes:
 * the supernode's TURN counters over the call (packets relayed), and the UDP
 * flows the site routers' conntrack saw between the two sites' public
 * addresses (a direct, punched path). Port-restricted ↔ symmetric cannot be
 * punched (nat-modes.ts `punchable`): the audio must go through TURN.
 * Full cone ↔ symmetric can: the symmetric side's checks get through the
 * full cone, so the audio must go direct.
 *
 * Root, nftables, baresip (with ctrl_tcp) and linphonec only; skipped with
 * the reason otherwise. KAIWA_KEEP_PHONES=1 keeps the phones' directories,
 * NATLAB_KEEP=1 the nodes'.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt } from '../helpers/cli.js'
import { BaresipPhone, baresipInstalled } from '../helpers/phones/baresip.js'
import { LinphonecPhone, linphonecInstalled } from '../helpers/phones/linphonec.js'
import { heardTone, markRecordings } from '../helpers/phones/heard-tone.js'
import type { RecordingMark } from '../helpers/phones/heard-tone.js'
import type { PhoneOptions, StockPhone } from '../helpers/phones/stock-phone.js'
import { required } from '../helpers/requirements.js'
import { labUnavailableReason } from './exec.js'
import type { Lab, LabHost } from './lab.js'
import { startLabNode } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import { createPairingsLab, modePairing, startPairing } from './pairings.js'
import type { PairingContext, PairingSpec } from './pairings.js'
import { mediaPath, readPathCounters } from './media-path.js'

const labSkip = labUnavailableReason()
const phonesSkip =
  baresipInstalled() && linphonecInstalled() ? null : 'baresip 1.0 (with ctrl_tcp) and linphonec'
const skip = labSkip ?? phonesSkip
required(skip == null, `the NAT lab with stock phones (${skip ?? ''})`)

/** Inside each client's namespace: its gateway, and the phone's block of ports. */
const GATEWAY_PORT = 23060
const PHONE_BASE_PORT = 23100
const PASSWORD = 'lab-phone-secret'
/** The tone each phone sends (Hz): baresip's at A, linphonec's at B. */
const TONE = { a: 440, b: 1000 }
/** How long a call carries audio before the hang-up (long enough to tell the path). */
const TALK_MS = 3000
/** The BYE reaches the other phone this quickly (issue 12 §1; about 50 ms in the lab). */
const BYE_WITHIN_MS = 1000
/** The far tone must be heard this long, peak within this many Hz, this share of the energy. */
const MIN_HEARD_S = 1
const HZ_TOLERANCE = 3
const MIN_TONE_SHARE = 0.9
/**
 * Audio packets a path must have carried to be "the" path: a third of one
 * direction's 50 packets/s over the talk time (ICE checks and keepalives are
 * a few packets a second at most).
 */
const MIN_MEDIA_PACKETS = Math.round((50 * TALK_MS) / 1000 / 3)

interface Case {
  spec: PairingSpec
  /** Where the physics allows a punched path (`punchable`), the anchors must take it. */
  media: 'direct' | 'relay'
}

const CASES: Case[] = [
  modePairing('port-restricted', 'symmetric'),
  modePairing('full-cone', 'symmetric'),
].map((spec) => ({ spec, media: spec.punchable ? 'direct' : 'relay' }))

interface Site {
  ctx: PairingContext
  a: StockPhone
  b: StockPhone
}

function phoneAt(
  lab: Lab,
  host: LabHost,
  kind: 'baresip' | 'linphonec',
  user: string,
  peer: string,
  toneHz: number,
): StockPhone {
  const opts: PhoneOptions = {
    account: { user, domain: 'kaiwa', password: PASSWORD, gatewayPort: GATEWAY_PORT },
    basePort: PHONE_BASE_PORT,
    toneHz,
    peer: `sip:${peer}@kaiwa`,
    spawn: (cmd, args, o) => lab.spawn(host.ns, cmd, args, o),
  }
  return kind === 'baresip' ? new BaresipPhone(opts) : new LinphonecPhone(opts)
}

/** What `phone` heard since `mark` is the other phone's tone `hz`. */
async function expectHeard(phone: StockPhone, mark: RecordingMark, hz: number): Promise<string> {
  const t = await heardTone(phone, mark, hz)
  const what =
    `${phone.kind} heard ${t.dominantHz.toFixed(1)} Hz, ${(t.share * 100).toFixed(1)} % at ${hz} Hz, ` +
    `${t.voicedSeconds.toFixed(1)} s at ${t.voicedDbfs.toFixed(1)} dBFS`
  expect(t.voicedSeconds, what).toBeGreaterThanOrEqual(MIN_HEARD_S)
  expect(Math.abs(t.dominantHz - hz), what).toBeLessThanOrEqual(HZ_TOLERANCE)
  expect(t.share, what).toBeGreaterThanOrEqual(MIN_TONE_SHARE)
  return what
}

describe.skipIf(skip != null)(
  `NAT lab: stock phones at two sites${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    const sites = new Map<string, Site>()
    const results: string[] = []

    beforeAll(async () => {
      await assertBuilt()
      const built = createPairingsLab(CASES.map((c) => c.spec))
      lab = built.lab
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      for (const placed of built.placed) {
        const ctx = await startPairing(lab, placed, {
          supernode: sn,
          nodeOptions: { sipPort: GATEWAY_PORT, sipPassword: PASSWORD },
        })
        const { a: na, b: nb } = ctx.names
        sites.set(ctx.spec.id, {
          ctx,
          a: phoneAt(lab, placed.a, 'baresip', na, nb, TONE.a),
          b: phoneAt(lab, placed.b, 'linphonec', nb, na, TONE.b),
        })
      }
    }, 240_000)

    afterAll(async () => {
      if (results.length > 0) console.log(results.join('\n'))
      for (const s of sites.values()) await Promise.allSettled([s.a.stop(), s.b.stop()])
      await lab?.destroy()
    })

    for (const c of CASES) {
      const id = c.spec.id
      const label = c.spec.label

      it(`${label}: baresip registers at A's gateway, linphonec at B's, inside their namespaces`, async () => {
        const s = sites.get(id)!
        onTestFailed(() => dump(s))
        await Promise.all([s.a.start(), s.b.start()])
      }, 60_000)

      for (const dir of ['a→b', 'b→a'] as const) {
        it(`${label}: ${dir}, each phone hears the other's tone, the BYE reaches the other phone, ${c.media} media`, async () => {
          const s = sites.get(id)!
          onTestFailed(() => dump(s))
          const [caller, callee] = dir === 'a→b' ? [s.a, s.b] : [s.b, s.a]
          const [ma, mb] = await Promise.all([markRecordings(s.a), markRecordings(s.b)])

          const [m1, m2] = [caller.mark(), callee.mark()]
          await caller.dial(callee.aor)
          await callee.waitFor({ kind: 'incoming' }, 20_000, m2)
          await callee.answer()
          await callee.waitFor({ kind: 'established' }, 20_000, m2)
          await caller.waitFor({ kind: 'established' }, 20_000, m1)
          // Counted from the answer: before it, only ICE checks cross.
          const before = await readPathCounters(lab, sn, s.ctx)
          await new Promise((r) => setTimeout(r, TALK_MS))
          const after = await readPathCounters(lab, sn, s.ctx)

          // The callee hangs up: its BYE crosses both gateways and the overlay.
          const [mc, mo] = [callee.mark(), caller.mark()]
          const t0 = Date.now()
          await callee.hangup()
          const seen = await caller.waitFor({ kind: 'closed' }, 10_000, mo)
          await callee.waitFor({ kind: 'closed' }, 10_000, mc)
          const byeMs = seen - t0

          const path = mediaPath(before, after, MIN_MEDIA_PACKETS)
          const heardA = await expectHeard(s.a, ma, TONE.b)
          const heardB = await expectHeard(s.b, mb, TONE.a)
          results.push(
            `${label.padEnd(30)} ${dir}: ${path.summary}; BYE at the caller after ${byeMs} ms; ` +
              `A: ${heardA}; B: ${heardB}`,
          )
          expect(byeMs, `BYE took ${byeMs} ms`).toBeLessThan(BYE_WITHIN_MS)
          expect(path.kind, path.summary).toBe(c.media)
        }, 90_000)
      }
    }

    /** The phones' and nodes' last words, for a failed step. */
    function dump(s: Site): void {
      console.log(`--- baresip at ${s.ctx.a.label}\n${s.a.tail()}`)
      console.log(`--- linphonec at ${s.ctx.b.label}\n${s.b.tail()}`)
      for (const n of [s.ctx.a, s.ctx.b]) {
        const lines = n.stderr().split('\n')
        const relevant = lines.filter((l) => /sip|media|anchor|turn|ice|warn|error/i.test(l))
        console.log(`--- ${n.label} stderr (sip/media), last 40\n${relevant.slice(-40).join('\n')}`)
      }
    }
  },
)
