/**
 * Video calls end to end (issue 14): real `kaiwa node --ui` processes (a
 * supernode with STUN/TURN on 127.0.0.1, alice and bob) and Debian's
 * Chromium with fake devices (the fake camera is a moving pattern, the fake
 * screen a 1280×720 capture), driven by the UI's accessible names only:
 *
 * - a video call both ways: framesDecoded keeps growing on both sides at
 *   320×240 or more, the far end's video fills the call view, the call
 *   view lists the video figures per stream;
 * - Camera added mid-call to an audio call (a re-INVITE), then removed;
 * - Share screen (getDisplayMedia) in an audio call, then stopped;
 * - a relay-only video call: both pages may use TURN relay candidates only
 *   (iceTransportPolicy 'relay'), so the video crosses our TURN server at
 *   its default allocation limits.
 *
 * Ports: the supernode's TURN port and relay range are in 27000-27999.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, assertUiBuilt, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { tempDir } from '../helpers/nodes.js'
import {
  addContact,
  button,
  callStats,
  CHROMIUM_ARGS,
  claim,
  expectVideoFlowing,
  expectVideoStopped,
  forceRelay,
  online,
  openUi,
  userIdBox,
} from './softphone-ui.js'
import { spawnTurnSupernode, uiClientArgs } from './ui-nodes.js'

/** The supernode's TURN port and relay range. */
const TURN_PORTS = { from: 27000, to: 27899 }
const TURN_RELAY_PORTS = '27900-27999'

let home: string
let browser: Browser
let alice: NodeProcess
let bob: NodeProcess
const contexts: BrowserContext[] = []
let pa: Page
let pb: Page

async function open(node: NodeProcess, who: string, init?: () => void): Promise<Page> {
  const { page, context } = await openUi(browser, node, who, init != null ? { init } : {})
  contexts.push(context)
  return page
}

/** Wait for a toggle to show `on` (the change behind it takes a re-INVITE). */
async function pressed(page: Page, name: string, on: boolean): Promise<void> {
  await expect
    .poll(() => button(page, name).getAttribute('aria-pressed'), { timeout: 30_000 })
    .toBe(String(on))
}

/** `by` hangs up (the callee's BYE follows the caller's Contact, RFC 3261 §12.2.1.1). */
async function hangUp(by: Page = pa): Promise<void> {
  await button(by, 'Hang up').click()
  await button(pa, 'Mute').waitFor({ state: 'detached' })
  await button(pb, 'Mute').waitFor({ state: 'detached' })
}

async function audioCall(): Promise<void> {
  await userIdBox(pa).fill('bob')
  await button(pa, 'Call').click()
  await button(pb, 'Answer').click()
  await button(pa, 'Camera').waitFor()
  await button(pb, 'Camera').waitFor()
}

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  home = await tempDir('kaiwa-e2e-video-')
  const sn = await spawnTurnSupernode(home, TURN_PORTS, TURN_RELAY_PORTS)
  const boot = uiClientArgs(sn)
  if (process.env.KAIWA_E2E_NODE_LOG) boot.push('--log-level', process.env.KAIWA_E2E_NODE_LOG)
  alice = await spawnNode(['--data', join(home, 'alice'), ...boot], home)
  bob = await spawnNode(['--data', join(home, 'bob'), ...boot], home)
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  pa = await open(alice, 'alice')
  pb = await open(bob, 'bob')
  await claim(pa, 'alice')
  await claim(pb, 'bob')
  await addContact(pa, 'bob')
  await addContact(pb, 'alice')
}, 180_000)

afterAll(async () => {
  if (process.env.KAIWA_E2E_NODE_LOG) {
    console.error(`--- alice\n${alice?.stderr()}\n--- bob\n${bob?.stderr()}`)
  }
  for (const c of contexts) await c.close().catch(() => {})
  await browser?.close().catch(() => {})
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('video calls in Chromium against real nodes', () => {
  it('places a video call: video both ways, filling the call view, with its figures', async () => {
    await userIdBox(pa).fill('bob')
    await button(pa, 'Video call').click()
    await pb.getByText('Video call: answer with video to send your camera too.').waitFor()
    await button(pb, 'Answer with video').click()
    await expectVideoFlowing(pa, 'alice')
    await expectVideoFlowing(pb, 'bob')
    for (const [page, peer] of [
      [pa, 'bob'],
      [pb, 'alice'],
    ] as const) {
      await page.getByLabel(`Video from ${peer}`).waitFor()
      await page.getByLabel('Your camera').waitFor()
      await pressed(page, 'Camera', true)
      await page.locator('.call-quality').getByText('Video received').waitFor()
      await page.locator('.call-quality').getByText('Video sent').waitFor()
      await button(page, 'Full screen').waitFor()
    }
    await expect
      .poll(async () => (await pa.locator('.video-stats-in dd').textContent()) ?? '', {
        timeout: 10_000,
      })
      .toMatch(/^\d+×\d+ · .*fps · \d+ kbit\/s/)
    expect(await callStats(pa)).toMatchObject({ videoSource: 'camera', remoteVideo: true })
    await hangUp()
  }, 120_000)

  it('adds the camera to an audio call by re-INVITE, then removes it', async () => {
    await audioCall()
    expect(await callStats(pb)).toMatchObject({ videoSource: 'none', remoteVideo: false })
    await button(pa, 'Camera').click()
    await pressed(pa, 'Camera', true)
    await expectVideoFlowing(pb, 'bob')
    await pb.getByLabel('Video from alice').waitFor()
    // Bob answers in kind.
    await button(pb, 'Camera').click()
    await expectVideoFlowing(pa, 'alice')

    await button(pa, 'Camera').click()
    await pressed(pa, 'Camera', false)
    await expectVideoStopped(pb)
    // The re-INVITE that drops the camera has to finish first: seconds on a loaded CI machine.
    await expect
      .poll(async () => (await callStats(pb))?.remoteVideo, { timeout: 15_000 })
      .toBe(false)
    expect((await callStats(pa))?.videoSource).toBe('none')
    // The audio call goes on, and bob's video still reaches alice.
    const before = (await callStats(pb))!.packetsReceived!
    await expect
      .poll(async () => (await callStats(pb))!.packetsReceived!, { timeout: 10_000 })
      .toBeGreaterThan(before + 25)
    await expectVideoFlowing(pa, 'alice')
    await hangUp(pb)
  }, 150_000)

  it('shares the screen in an audio call, then stops', async () => {
    await audioCall()
    await button(pa, 'Share screen').click()
    await pressed(pa, 'Share screen', true)
    await pa.getByLabel('Your shared screen').waitFor()
    const q = await expectVideoFlowing(pb, 'bob')
    // The fake screen is 1280×720 (scaled by congestion control, never to a thumbnail).
    expect(q.width! / q.height!).toBeCloseTo(16 / 9, 1)
    expect((await callStats(pa))?.videoSource).toBe('screen')
    await button(pa, 'Share screen').click()
    await pressed(pa, 'Share screen', false)
    await expectVideoStopped(pb)
    await hangUp()
  }, 150_000)

  it('carries a video call through our TURN relay only', async () => {
    // Fresh pages whose peer connections may use relay candidates only.
    for (const c of contexts.splice(0)) await c.close()
    pa = await open(alice, 'alice (relay only)', forceRelay)
    pb = await open(bob, 'bob (relay only)', forceRelay)
    await online(pa)
    await online(pb)
    await userIdBox(pa).fill('bob')
    await button(pa, 'Video call').click()
    await button(pb, 'Answer with video').click()
    await expectVideoFlowing(pa, 'alice')
    await expectVideoFlowing(pb, 'bob')
    expect(await callStats(pa)).toMatchObject({ path: 'relay' })
    expect(await callStats(pb)).toMatchObject({ path: 'relay' })
    await pa.locator('.call-quality').getByText('Relayed').waitFor()
    // Well above a thumbnail: the relay's default caps carry real video.
    await expect
      .poll(async () => (await callStats(pb))?.video?.inbound?.kbps ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(150)
    await hangUp()
  }, 150_000)
})
