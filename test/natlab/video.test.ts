/**
 * A video call across the NAT lab (issue 14, "one NAT-lab pairing"): client a behind a symmetric
 * NAT calls client b behind a port-restricted one, which no hole punch can join, from the softphone
 * UI (Chromium with its fake camera in each client's namespace). Video and audio must flow both
 * ways, relayed: the UI says Relayed, Chromium's selected pair is a relay candidate, and the
 * supernode's TURN counters carried far more than an audio call's packets.
 *
 * Root, nftables and Chromium; skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { button, callStats, userIdBox } from '../e2e/softphone-ui.js'
import type { Page } from 'playwright-core'
import { closePhones, phonesFor } from './call-step.js'
import { labUnavailableReason } from './exec.js'
import { startLabNode } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import type { Lab } from './lab.js'
import { createPairingsLab, modePairing, startPairing } from './pairings.js'
import type { PairingContext } from './pairings.js'
import { chromiumUnavailableReason } from './phone.js'

const skip = labUnavailableReason() ?? chromiumUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab video test skipped: ${skip}`)

/**
 * Decoded frames keep growing at `page`. Over the relay, congestion control starts lower than on
 * loopback and Chromium scales the fake camera's 16:9 frames down (320×180 measured), so only the
 * width is held to the e2e tests' 320.
 */
async function videoFlowing(page: Page, who: string): Promise<void> {
  const frames = async () => (await callStats(page))?.video?.inbound?.frames ?? 0
  await expect
    .poll(frames, { timeout: 30_000, message: `${who} decodes video` })
    .toBeGreaterThan(10)
  for (let i = 0, last = await frames(); i < 4; i++, last = await frames()) {
    await expect
      .poll(frames, { timeout: 15_000, message: `${who}'s video keeps coming` })
      .toBeGreaterThan(last)
  }
  expect((await callStats(page))!.video!.inbound!.width, `${who}: width`).toBeGreaterThanOrEqual(
    320,
  )
}

const relayed = async (sn: LabNode): Promise<number> =>
  (await sn.api<{ turn: { stats: Record<string, number> } | null }>('status')).turn?.stats
    .packetsRelayed ?? 0

describe.skipIf(skip != null)(
  `NAT lab: a video call through a symmetric NAT${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab | undefined
    let sn: LabNode
    let ctx: PairingContext | undefined

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      const built = createPairingsLab([modePairing('symmetric', 'port-restricted')])
      lab = built.lab
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      ctx = await startPairing(lab, built.placed[0]!, {
        supernode: sn,
        nodeOptions: { ui: true },
      })
      await phonesFor(ctx)
    }, 240_000)

    afterAll(async () => {
      if (ctx != null) await closePhones(ctx)
      await lab?.destroy()
    })

    it('video and audio both ways, relayed by the supernode’s TURN', async () => {
      const { a, b } = await phonesFor(ctx!)
      onTestFailed(() => {
        for (const n of [ctx!.a, ctx!.b]) {
          const lines = n.stderr().split('\n')
          console.log(`--- ${n.label}\n${lines.slice(-30).join('\n')}`)
        }
      })
      const before = await relayed(sn)
      await userIdBox(a.page).fill(ctx!.names.b)
      await button(a.page, 'Video call').click()
      await button(b.page, 'Answer with video').click({ timeout: 60_000 })
      await videoFlowing(a.page, 'a')
      await videoFlowing(b.page, 'b')
      for (const page of [a.page, b.page]) {
        const s = await callStats(page)
        expect(s, JSON.stringify(s)).toMatchObject({
          videoSource: 'camera',
          remoteVideo: true,
          path: 'relay',
        })
        await page.locator('.call-quality .path').getByText('Relayed').waitFor()
      }
      // The supernode's own word: it relayed the video (audio alone is ~50 packets/s each way).
      const carried = (await relayed(sn)) - before
      expect(carried).toBeGreaterThan(500)
      await button(a.page, 'Hang up').click()
      await button(b.page, 'Video call').waitFor({ timeout: 30_000 })
    }, 180_000)
  },
)
