/**
 * A stock SIP phone and the Kaiwa app, both directions (issue 12 §3 and the
 * "Phone ↔ app (Chromium)" test): two real `kaiwa node` processes on
 * loopback, node A (a supernode, user alice, its SIP gateway on a fixed port)
 * and node B (user bob, `--ui`). Debian's baresip registers at A's gateway as
 * alice, stock configuration; bob uses the Kaiwa UI in Chromium, driven only
 * through its accessible names, with a fake microphone that plays a known
 * tone from a WAV file (Chromium's `--use-file-for-fake-audio-capture`).
 *
 * Media: plain RTP between baresip and node A's media anchor, ICE and
 * DTLS-SRTP between the anchor and Chromium (Opus). A G.711-only baresip is
 * transcoded at the anchor (G.711 ⇄ Opus).
 *
 * Each call is checked on both sides: in the app, getStats of the app's own
 * peer connection shows inbound audio packets growing and an audio level
 * above zero; at the phone, baresip's recording of the call holds the app's
 * tone (by frequency, as the phone-to-phone tests check it). The UI says the
 * media is anchored at alice's node and that encryption ends there, in the
 * incoming-call dialog, the call panel and the call history. Hang-ups cross
 * both ways: the phone's BYE ends the call in the UI (answered, never
 * "Missed call"), and the UI's hang-up reaches the phone within 1 s. In calls
 * from the app, the UI's hold and resume reach the phone as re-INVITEs, and
 * its keypad digit reaches the G.711 phone as an RFC 4733 event.
 *
 * Ports: the gateway and the phone take fixed ports in 24000-24999 (a phone
 * needs a fixed base port); everything else binds port 0. Screenshots go to
 * test-results/screenshots/phone-app-*.png; KAIWA_KEEP_PHONES=1 keeps the
 * phone's directory (config, log, recordings).
 */
import { mkdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import {
  assertBuilt,
  assertUiBuilt,
  LOOPBACK,
  ROOT,
  spawnNode,
  stopAllNodes,
} from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { CHROMIUM } from '../helpers/chromium-page.js'
import { tempDir } from '../helpers/nodes.js'
import { pageAudioStats, pageHeardHz, trackPeerConnections } from '../helpers/page-audio-stats.js'
import type { PageAudioStats } from '../helpers/page-audio-stats.js'
import { BaresipPhone, baresipInstalled } from '../helpers/phones/baresip.js'
import { heardTone, markRecordings } from '../helpers/phones/heard-tone.js'
import type { RecordingMark } from '../helpers/phones/heard-tone.js'
import { freePortBlock, writeToneWav } from '../helpers/phones/stock-phone.js'
import type { StockPhone } from '../helpers/phones/stock-phone.js'
import { freePortIn } from '../helpers/port-range.js'
import { required } from '../helpers/requirements.js'

const ready = required(
  baresipInstalled() && existsSync(CHROMIUM),
  `baresip 1.0 (with ctrl_tcp) and Chromium at ${CHROMIUM}`,
)

/** This suite's fixed ports (the gateway's, the phone's block). */
const PORTS = { from: 24_000, to: 24_999 }
const SHOTS = join(ROOT, 'test-results', 'screenshots')
const PHONE_PASSWORD = 'alice-phone-secret'
/** The phone's tone and the app's microphone tone (Hz): neither a harmonic of the other. */
const TONE = { phone: 440, app: 700 }
/** How long each call carries audio before the hang-up. */
const TALK_MS = 3000
const UI_TIMEOUT = 30_000

let home: string
let nodeA: NodeProcess
let nodeB: NodeProcess
let browser: Browser
let context: BrowserContext
let pb: Page

async function shot(name: string): Promise<void> {
  await pb.screenshot({ path: join(SHOTS, `phone-app-${name}.png`) })
}

const button = (name: string) => pb.getByRole('button', { name, exact: true })
const userIdBox = () => pb.getByRole('textbox', { name: 'User ID', exact: true })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The app receives audio from the phone: packets keep coming, and they are
 * not silence; they arrive in `codec` (what the app's peer connection decoded).
 */
async function expectAppHears(codec: string): Promise<PageAudioStats> {
  const stats = async () => (await pageAudioStats(pb)) ?? ({} as Partial<PageAudioStats>)
  await expect
    .poll(async () => (await stats()).packetsReceived ?? 0, { timeout: 20_000 })
    .toBeGreaterThan(0)
  const s0 = (await stats()) as PageAudioStats
  await sleep(2500)
  const s1 = (await stats()) as PageAudioStats
  // 20 ms frames: ~125 packets in 2.5 s; ask for well over half.
  expect(s1.packetsReceived - s0.packetsReceived, JSON.stringify(s1)).toBeGreaterThan(60)
  expect(s1.packetsSent - s0.packetsSent, JSON.stringify(s1)).toBeGreaterThan(60)
  expect(s1.totalAudioEnergy, JSON.stringify(s1)).toBeGreaterThan(s0.totalAudioEnergy)
  await expect
    .poll(async () => (await stats()).audioLevel ?? 0, { timeout: 10_000 })
    .toBeGreaterThan(0.01)
  const hz = await pageHeardHz(pb)
  if (process.env.KAIWA_TONE_REPORT === '1')
    console.info(`app: heard ${hz?.toFixed(1)} Hz, ${JSON.stringify(s1)}`)
  expect(s1.codec).toBe(codec)
  // The phone's own tone, as the app's audio pipeline hears it (±1 FFT bin).
  expect(Math.abs((hz ?? 0) - TONE.phone), `the app heard ${hz} Hz`).toBeLessThanOrEqual(6)
  return s1
}

/**
 * What the phone recorded since `mark` is the app's tone, decoded at
 * `sampleRate` (baresip records at its codec's rate: 8 kHz G.711, 48 kHz Opus).
 */
async function expectPhoneHeard(
  phone: StockPhone,
  mark: RecordingMark,
  sampleRate: number,
): Promise<void> {
  const t = await heardTone(phone, mark, TONE.app)
  const what =
    `baresip heard ${t.dominantHz.toFixed(2)} Hz, ${(t.share * 100).toFixed(2)} % at ` +
    `${TONE.app} Hz, ${t.voicedSeconds.toFixed(1)} s at ${t.voicedDbfs.toFixed(1)} dBFS, ` +
    `${t.sampleRate} Hz WAV`
  if (process.env.KAIWA_TONE_REPORT === '1') console.info(`tone: ${what}`)
  expect(t.voicedSeconds, what).toBeGreaterThanOrEqual(1)
  expect(Math.abs(t.dominantHz - TONE.app), what).toBeLessThanOrEqual(3)
  expect(t.share, what).toBeGreaterThanOrEqual(0.9)
  expect(t.sampleRate, what).toBe(sampleRate)
}

/**
 * Before each test (and so before its retry): no call left at either end. A
 * failed attempt stops mid-call, and the retry's INVITE would then be refused
 * as busy, or the phone would still be in the old call. On failure, node A's
 * media-anchor and gateway lines say what the anchor saw.
 */
async function startIdle(phone: BaresipPhone): Promise<void> {
  onTestFailed(() => {
    const lines = nodeA.stderr().split('\n')
    const anchor = lines.filter((l) => /anchor|media|gateway|webrtc|dtls|ICE/i.test(l))
    console.log(`--- node A (anchor and gateway lines, last 60)\n${anchor.slice(-60).join('\n')}`)
    console.log(`--- the phone\n${phone.tail()}`)
  })
  for (const name of ['Hang up', 'Decline']) {
    const b = button(name)
    if (await b.isVisible()) await b.click().catch(() => {})
  }
  await phone.hangup()
  await button('Mute').waitFor({ state: 'detached' })
  // The phone's own end of an old call prints before the test's mark.
  await sleep(300)
  await pb.getByRole('alertdialog', { name: 'Incoming call' }).waitFor({ state: 'detached' })
}

/** The UI says the media is anchored at alice's node and where the encryption ends. */
async function expectAnchorShown(): Promise<void> {
  await pb.locator('.call-anchor').getByText("Encrypted to alice's Kaiwa node.").waitFor()
  await pb.locator('.call-quality').getByText("To alice's Kaiwa node").waitFor()
}

/**
 * The call has left the UI, and the newest history entry shows it answered
 * (never "Missed call"), in `direction`, with the anchor note.
 */
async function expectEndedAnswered(direction: 'Incoming' | 'Outgoing'): Promise<void> {
  await button('Mute').waitFor({ state: 'detached' })
  await pb.getByRole('tab', { name: 'Calls' }).click()
  const row = pb.locator('.call-row', { hasText: 'alice' }).first()
  await row.getByText(`${direction} · Answered`, { exact: false }).waitFor()
  await row.getByText("SIP phone, encrypted to alice's node only").waitFor()
  await expect(pb.getByText(/Missed call/).count()).resolves.toBe(0)
}

beforeAll(async () => {
  if (!ready) return
  await assertBuilt()
  await assertUiBuilt()
  await mkdir(SHOTS, { recursive: true })
  home = await tempDir('kaiwa-phone-app-')
  const gatewayPort = await freePortIn(PORTS)
  nodeA = await spawnNode(
    [
      '--data',
      join(home, 'a'),
      '--supernode',
      'on',
      '--name',
      'alice',
      ...LOOPBACK,
      '--sip-port',
      String(gatewayPort),
      '--sip-password',
      PHONE_PASSWORD,
    ],
    home,
  )
  expect(nodeA.ready.sip).toBe(`127.0.0.1:${gatewayPort}`)
  nodeB = await spawnNode(
    [
      '--data',
      join(home, 'b'),
      '--bootstrap',
      nodeA.ready.addrs[0]!,
      '--supernode',
      'off',
      '--name',
      'bob',
      ...LOOPBACK,
      '--ui',
    ],
    home,
  )
  const micTone = join(home, `mic-${TONE.app}hz.wav`)
  await writeToneWav(micTone, TONE.app, 30)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micTone}`,
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--no-sandbox',
      '--autoplay-policy=no-user-gesture-required',
    ],
  })
  context = await browser.newContext({ viewport: { width: 1200, height: 760 } })
  await context.addInitScript(trackPeerConnections)
  pb = await context.newPage()
  pb.setDefaultTimeout(UI_TIMEOUT)
  pb.on('pageerror', (err) => console.error(`bob: page error: ${err.message}`))
  await pb.goto(nodeB.ready.ui!)
  await pb.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 })
}, 180_000)

afterAll(async () => {
  await context?.close().catch(() => {})
  await browser?.close().catch(() => {})
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

/**
 * The phone's codecs, and what the app's peer connection then decodes. A
 * G.711-only phone: the anchor offers the app G.711 then Opus and Chromium
 * answers Opus, so phone → app is transcoded; Chromium's own offer lists PCMU,
 * so app → phone relays PCMU untranscoded (codec-plan.ts prefers relaying).
 * A phone that offers Opus first: Opus passes through both ways.
 * `dtmfFromApp`: the UI keypad's digit reaches the phone as a key press.
 */
const VARIANTS = [
  {
    what: 'G.711 only',
    opus: false,
    appDecodes: { phoneToApp: 'audio/opus', appToPhone: 'audio/PCMU' },
    phoneDecodesHz: 8000,
    dtmfFromApp: true,
  },
  {
    what: 'Opus first, then G.711',
    opus: true,
    appDecodes: { phoneToApp: 'audio/opus', appToPhone: 'audio/opus' },
    phoneDecodesHz: 48000,
    // Chromium sending Opus sends a keypad digit as its three RFC 4733 end
    // packets only, and baresip 1.0 reports an end without a start as no key
    // press: the anchor sends the phone the missing start (event-start.ts).
    dtmfFromApp: true,
  },
] as const

// retry: on a loaded host, libdatachannel (0.24.5, and upstream still) can fail
// the anchor's first DTLS handshake toward Chromium: its setRemoteDescription
// gives the ICE agent the answer's credentials before it stores the answer
// that its certificate check reads, and with Chromium's checks already in
// (RFC 8445 §7.3) ICE connects at once; when Chromium's certificate arrives in
// between, the check fails ("unknown CA"), and the anchor answers the phone 488
// "...Got a remote candidate without ICE transport". Seen about once in 25
// calls at a load average of 20 on two cores; the same retry as the anchor's
// own Chromium test (test/overlay/media/anchor-chromium.test.ts).
describe.runIf(ready)('a stock SIP phone and the Kaiwa app in Chromium', { retry: 1 }, () => {
  for (const v of VARIANTS) {
    describe(`baresip offering ${v.what}`, () => {
      let phone: BaresipPhone

      beforeAll(async () => {
        phone = new BaresipPhone({
          account: {
            user: 'alice',
            domain: 'kaiwa',
            password: PHONE_PASSWORD,
            gatewayPort: Number(nodeA.ready.sip!.split(':')[1]),
          },
          basePort: await freePortBlock(PORTS),
          toneHz: TONE.phone,
          peer: 'sip:bob@kaiwa',
          opus: v.opus,
        })
        await phone.start()
      }, 30_000)

      afterAll(async () => {
        await phone?.stop()
      })

      it('phone → app: bob answers in the UI, audio both ways, the phone hangs up', async () => {
        await startIdle(phone)
        const mark = await markRecordings(phone)
        const m = phone.mark()
        await phone.dial('sip:bob@kaiwa')
        const incoming = pb.getByRole('alertdialog', { name: 'Incoming call' })
        await incoming.getByText('alice is calling').waitFor()
        await incoming.getByRole('note').getByText("Encrypted to alice's Kaiwa node.").waitFor()
        if (!v.opus) await shot('incoming-from-phone')
        await button('Answer').click()
        await phone.waitFor({ kind: 'established' }, 20_000, m)
        await button('Mute').waitFor()
        await expectAnchorShown()
        await expectAppHears(v.appDecodes.phoneToApp)
        if (!v.opus) await shot('in-call-with-phone')
        await sleep(TALK_MS)
        const t0 = Date.now()
        await phone.hangup()
        await phone.waitFor({ kind: 'closed' }, 5000, m)
        await button('Mute').waitFor({ state: 'detached' })
        if (process.env.KAIWA_TONE_REPORT === '1')
          console.info(`call gone from the UI after ${Date.now() - t0} ms`)
        await expectEndedAnswered('Incoming')
        await expectPhoneHeard(phone, mark, v.phoneDecodesHz)
      }, 120_000)

      it(`app → phone: the phone answers, audio both ways, ${v.dtmfFromApp ? 'DTMF, ' : ''}hold, bob hangs up in the UI`, async () => {
        await startIdle(phone)
        await pb.getByRole('tab', { name: 'Messages' }).click()
        const mark = await markRecordings(phone)
        const m = phone.mark()
        await userIdBox().fill('alice')
        await button('Call').click()
        await phone.waitFor({ kind: 'incoming' }, 20_000, m)
        await phone.answer()
        await phone.waitFor({ kind: 'established' }, 20_000, m)
        await button('Mute').waitFor()
        await expectAnchorShown()
        await expectAppHears(v.appDecodes.appToPhone)

        if (v.dtmfFromApp) {
          // The keypad's tone reaches the phone as DTMF (RFC 4733 through the anchor).
          const at = phone.mark()
          await button('Keypad').click()
          await button('Tone 5').click()
          await phone.waitFor({ kind: 'dtmf', digit: '5' }, 10_000, at)
          await button('Keypad').click()
        }
        // Hold and resume reach the phone as re-INVITEs (a=sendonly, then a=sendrecv).
        let at = phone.mark()
        await button('Hold').click()
        await phone.waitFor({ kind: 'remote-hold' }, 10_000, at)
        await button('Resume').waitFor()
        at = phone.mark()
        await button('Resume').click()
        await phone.waitFor({ kind: 'remote-resume' }, 10_000, at)
        await button('Hold').waitFor()
        // Audio still flows both ways after the resume.
        await expectAppHears(v.appDecodes.appToPhone)

        await sleep(TALK_MS)
        const hungUp = phone.mark()
        const t0 = Date.now()
        await button('Hang up').click()
        const closed = await phone.waitFor({ kind: 'closed' }, 5000, hungUp)
        if (process.env.KAIWA_TONE_REPORT === '1')
          console.info(`BYE at the phone after ${closed - t0} ms`)
        // Issue 12 §1: a hang-up reaches the other end within 1 s.
        expect(closed - t0, 'the BYE reached the phone').toBeLessThan(1000)
        await expectEndedAnswered('Outgoing')
        if (!v.opus) await shot('call-history')
        await expectPhoneHeard(phone, mark, v.phoneDecodesHz)
      }, 120_000)
    })
  }
})
