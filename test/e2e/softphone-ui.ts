/**
 * Driving the softphone UI in Chromium by its accessible names, for the
 * end-to-end tests that start real `kaiwa node --ui` processes: Chromium's
 * flags for fake devices, opening a user's UI, claiming a name, adding a
 * contact, and the current call's live figures (`window.__kaiwaCallStats`).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { expect } from 'vitest'
import type { NodeProcess } from '../helpers/cli.js'

/** Fake microphone and camera (a moving test pattern), fake screen, no prompts. */
export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
]
export const UI_TIMEOUT = 30_000

export interface StreamStats {
  width: number | null
  height: number | null
  fps: number | null
  kbps: number | null
  frames: number
}

export interface CallStats {
  phase: string
  path: string
  videoSource: 'none' | 'camera' | 'screen'
  remoteVideo: boolean
  packetsReceived?: number
  video?: { inbound?: StreamStats; outbound?: StreamStats }
}

/** A page whose peer connections may only use TURN relay candidates (RFC 8445 §5.1.1, relay only). */
export function forceRelay(): void {
  const Base = window.RTCPeerConnection
  class RelayOnly extends Base {
    constructor(config?: RTCConfiguration) {
      super({ ...config, iceTransportPolicy: 'relay' })
    }
  }
  window.RTCPeerConnection = RelayOnly
}

export interface OpenUiOptions {
  /** A script run in the page before its own (e.g. forceRelay). */
  init?: () => void
  /** @default 1200×800 */
  viewport?: { width: number; height: number }
}

/** A new browser context (own renderer) with `node`'s UI open, logged in by its ui URL. */
export async function openUi(
  browser: Browser,
  node: NodeProcess,
  who: string,
  opts: OpenUiOptions = {},
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1200, height: 800 },
  })
  if (opts.init != null) await context.addInitScript(opts.init)
  const page = await context.newPage()
  page.setDefaultTimeout(UI_TIMEOUT)
  page.on('pageerror', (err) => console.error(`${who}: page error: ${err.message}`))
  if (process.env.KAIWA_E2E_CONSOLE === '1')
    page.on('console', (m) => console.error(`${who}: ${m.type()}: ${m.text()}`))
  await page.goto(node.ready.ui!)
  return { page, context }
}

export const userIdBox = (p: Page) => p.getByRole('textbox', { name: 'User ID', exact: true })
export const button = (p: Page, name: string) => p.getByRole('button', { name, exact: true })

export async function claim(page: Page, name: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Choose your user ID' }).fill(name)
  await page.getByText(`${name} is available.`).waitFor()
  await button(page, 'Claim').click()
  await button(page, 'Later').click()
  await page.locator('.self-state', { hasText: 'Online' }).waitFor()
}

export async function addContact(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: 'Contacts' }).click()
  await button(page, 'Add contact').click()
  await page.getByRole('textbox', { name: 'Contact', exact: true }).fill(`kaiwa:${name}`)
  await button(page, 'Add').click()
  await button(page, `Dial ${name}`).waitFor()
}

/** Wait until a reloaded page is registered again. */
export async function online(page: Page): Promise<void> {
  await page.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 })
}

export const callStats = (page: Page): Promise<CallStats | null> =>
  page.evaluate(
    () => (window as { __kaiwaCallStats?: () => unknown }).__kaiwaCallStats?.() ?? null,
  ) as Promise<CallStats | null>

/**
 * The video `page` receives keeps being decoded (framesDecoded grows over
 * five polls) at 320×240 or larger; returns the last figures.
 */
export async function expectVideoFlowing(page: Page, who: string): Promise<StreamStats> {
  const frames = async () => (await callStats(page))?.video?.inbound?.frames ?? 0
  await expect
    .poll(frames, { timeout: 30_000, message: `${who} decodes video` })
    .toBeGreaterThan(10)
  let last = await frames()
  for (let i = 0; i < 4; i++) {
    await expect
      .poll(frames, { timeout: 15_000, message: `${who}'s video keeps coming` })
      .toBeGreaterThan(last)
    last = await frames()
  }
  // At least 320 wide. Chromium's fake camera is 16:9 (640×360), and under CPU or bandwidth
  // pressure its encoder halves it to 320×180 for a while (seen in CI), so the height asked is
  // that of 320 wide at 16:9.
  const q = (await callStats(page))!.video!.inbound!
  expect(q.width, `${who}: width`).toBeGreaterThanOrEqual(320)
  expect(q.height, `${who}: height`).toBeGreaterThanOrEqual(180)
  return q
}

/** No new video frames at `page` for 2 s. */
export async function expectVideoStopped(page: Page): Promise<void> {
  const frames = async () => (await callStats(page))?.video?.inbound?.frames ?? 0
  // Frames in flight when the sender stopped may still land: wait for quiet, then hold it.
  let before = await frames()
  await expect
    .poll(
      async () => {
        await new Promise((r) => setTimeout(r, 2000))
        const now = await frames()
        const still = now === before
        before = now
        return still
      },
      { timeout: 30_000, interval: 0 },
    )
    .toBe(true)
}
