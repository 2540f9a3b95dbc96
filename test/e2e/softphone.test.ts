/**
 * The softphone end to end: real `kaiwa node --ui` processes (a supernode and
 * two clients) and real Chromium, one browser context per user, driven only
 * through the UI's accessible names. Each user claims a name and adds the
 * other; they chat both ways; a message to a user whose node is stopped is
 * stored and delivered when the node comes back; alice calls bob by user ID,
 * bob answers, audio RTP flows both ways for over two seconds, alice mutes,
 * holds, sends DTMF and hangs up; both call histories show the call.
 * Screenshots of the main screens go to test-results/screenshots/.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  assertUiBuilt,
  LOOPBACK,
  ROOT,
  spawnNode,
  stopAllNodes,
} from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { freePort, tempDir } from '../helpers/nodes.js'
import { button, CHROMIUM_ARGS, openUi, userIdBox } from './softphone-ui.js'
import { uiClientArgs } from './ui-nodes.js'

const SHOTS = join(ROOT, 'test-results', 'screenshots')

interface CallStats {
  phase: string
  muted: boolean
  held: boolean
  path: string
  packetsReceived?: number
  packetsSent?: number
}

let home: string
let sn: NodeProcess
let alice: NodeProcess
let bob: NodeProcess
let bobArgs: string[]
let browser: Browser
const contexts: BrowserContext[] = []
let pa: Page
let pb: Page

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

async function open(node: NodeProcess, who: string): Promise<Page> {
  expect(node.ready.ui, 'the ready line carries the UI address').toMatch(
    /^http:\/\/127\.0\.0\.1:\d+\/#token=/,
  )
  const { page, context } = await openUi(browser, node, who, {
    viewport: { width: 1200, height: 760 },
  })
  contexts.push(context)
  return page
}

async function claim(page: Page, name: string, shots = false): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Choose your user ID' })
  if (shots) await shot(page, 'first-run')
  await box.fill(name)
  await page.getByText(`${name} is available.`).waitFor()
  if (shots) await shot(page, 'first-run-available')
  await button(page, 'Claim').click()
  await page.getByRole('heading', { name: `${name} is yours. Back it up now` }).waitFor()
  if (shots) await shot(page, 'backup')
  await button(page, 'Later').click()
  await userIdBox(page).waitFor()
  // Registered with the node: calls and live messages work.
  await page.locator('.self-state', { hasText: 'Online' }).waitFor()
}

async function addContact(page: Page, name: string, shots = false): Promise<void> {
  await page.getByRole('tab', { name: 'Contacts' }).click()
  await button(page, 'Add contact').click()
  await page.getByRole('textbox', { name: 'Contact', exact: true }).fill(`kaiwa:${name}`)
  if (shots) await shot(page, 'add-contact')
  await button(page, 'Add').click()
  await button(page, `Dial ${name}`).waitFor()
}

async function chatWith(page: Page, peer: string): Promise<void> {
  await userIdBox(page).fill(peer)
  await button(page, 'Chat').click()
  await page.getByRole('region', { name: `Conversation with ${peer}` }).waitFor()
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text)
  await button(page, 'Send').click()
}

/** A message bubble in the open conversation, with its status line. */
const bubble = (page: Page, text: string) =>
  page.locator('.messages .message', { has: page.getByText(text, { exact: true }) })

const callStats = (page: Page): Promise<CallStats | null> =>
  page.evaluate(
    () => (window as { __kaiwaCallStats?: () => unknown }).__kaiwaCallStats?.() ?? null,
  ) as Promise<CallStats | null>

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  await mkdir(SHOTS, { recursive: true })
  home = await tempDir('kaiwa-e2e-')
  sn = await spawnNode(['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK], home)
  const boot = uiClientArgs(sn)
  alice = await spawnNode(['--data', join(home, 'alice'), ...boot], home)
  // A fixed API port: bob's node comes back on the same origin, so his page reconnects.
  bobArgs = ['--data', join(home, 'bob'), '--api-port', String(await freePort()), ...boot]
  bob = await spawnNode(bobArgs, home)
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  pa = await open(alice, 'alice')
  pb = await open(bob, 'bob')
}, 120_000)

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {})
  await browser?.close().catch(() => {})
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('softphone in Chromium against real nodes', () => {
  it('removes the token from the address bar and claims a user ID on each side', async () => {
    expect(pa.url()).not.toContain('token')
    await claim(pa, 'alice', true)
    await claim(pb, 'bob')
  }, 90_000)

  it('adds each other as contacts (pinned key, presence)', async () => {
    await addContact(pa, 'bob', true)
    await addContact(pb, 'alice')
    const row = pa.locator('.contact', { hasText: 'bob' })
    await row.getByText('Online', { exact: true }).waitFor()
    await expect(row.locator('.fingerprint').textContent()).resolves.toMatch(
      /[a-z2-7]{4}(-[a-z2-7]{4})+$/,
    )
    await shot(pa, 'contacts')
    await button(pa, 'Share my ID').click()
    await pa.getByRole('img', { name: /QR code of the link to alice/ }).waitFor()
    await shot(pa, 'share-my-id')
    await pa.keyboard.press('Escape')
    await expect(pa.getByRole('dialog').count()).resolves.toBe(0)
  }, 90_000)

  it('chats both ways with live delivery', async () => {
    await chatWith(pa, 'bob')
    await send(pa, 'hello bob')
    await bubble(pa, 'hello bob').getByText('Delivered').waitFor()

    await pb.getByRole('tab', { name: /Messages/ }).click()
    await pb.getByRole('button', { name: 'alice, 1 unread' }).click()
    await bubble(pb, 'hello bob').waitFor()
    // Opening the conversation marks it read.
    await pb.getByRole('button', { name: 'alice', exact: true }).waitFor()

    // Enter sends.
    await pb.getByRole('textbox', { name: 'Message', exact: true }).fill('hi alice')
    await pb.getByRole('textbox', { name: 'Message', exact: true }).press('Enter')
    await bubble(pb, 'hi alice').getByText('Delivered').waitFor()
    await bubble(pa, 'hi alice').waitFor()
    await shot(pa, 'conversation')
  }, 90_000)

  it('stores a message for a stopped user and delivers it when the user is back', async () => {
    await bob.stop()
    await pb.getByText(/Lost the connection to your Kaiwa node/).waitFor()
    await send(pa, 'are you there?')
    const stored = bubble(pa, 'are you there?')
    await stored.getByText('Stored for later').waitFor({ timeout: 60_000 })
    await stored
      .getByText('bob is offline; the message will be delivered when bob is back.')
      .waitFor()
    await shot(pa, 'message-stored')

    bob = await spawnNode(bobArgs, home)
    // Bob's page reconnects by itself and shows the message in the open conversation.
    await bubble(pb, 'are you there?').waitFor({ timeout: 60_000 })
    await pb.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 })
  }, 150_000)

  it('calls by user ID; audio flows both ways; mute, hold, DTMF; hang up', async () => {
    await userIdBox(pa).fill('bob')
    await button(pa, 'Call').click()
    await button(pb, 'Answer').waitFor({ timeout: 30_000 })
    await pb
      .getByRole('alertdialog', { name: 'Incoming call' })
      .getByText('alice is calling')
      .waitFor()
    await shot(pb, 'incoming-call')
    await button(pb, 'Answer').click()
    await button(pa, 'Mute').waitFor()
    await button(pb, 'Mute').waitFor()

    // Both sides receive audio RTP, and keep receiving it for over two seconds.
    await expect
      .poll(async () => (await callStats(pa))?.packetsReceived ?? 0, { timeout: 15_000 })
      .toBeGreaterThan(0)
    await expect
      .poll(async () => (await callStats(pb))?.packetsReceived ?? 0, { timeout: 15_000 })
      .toBeGreaterThan(0)
    const a0 = (await callStats(pa))!
    const b0 = (await callStats(pb))!
    await new Promise((r) => setTimeout(r, 2500))
    const a1 = (await callStats(pa))!
    const b1 = (await callStats(pb))!
    // 20 ms Opus frames: ~125 packets in 2.5 s; ask for well over half.
    expect(a1.packetsReceived! - a0.packetsReceived!).toBeGreaterThan(60)
    expect(b1.packetsReceived! - b0.packetsReceived!).toBeGreaterThan(60)
    expect(a1).toMatchObject({ phase: 'active', path: 'direct' })
    await pa.locator('.call-quality').getByText('Direct').waitFor()
    await shot(pa, 'in-call')

    await button(pa, 'Mute').click()
    await expect(button(pa, 'Mute').getAttribute('aria-pressed')).resolves.toBe('true')
    expect((await callStats(pa))?.muted).toBe(true)
    await button(pa, 'Mute').click()
    expect((await callStats(pa))?.muted).toBe(false)

    await button(pa, 'Hold').click()
    await button(pa, 'Resume').waitFor()
    await pb.getByText('alice put the call on hold').waitFor()
    await button(pa, 'Keypad').click()
    await button(pa, 'Tone 5').click()
    await pa.locator('.dtmf-sent', { hasText: '5' }).waitFor()
    await shot(pa, 'in-call-held-keypad')
    await button(pa, 'Resume').click()
    await button(pa, 'Hold').waitFor()

    await button(pa, 'Hang up').click()
    await button(pa, 'Mute').waitFor({ state: 'detached' })
    await button(pb, 'Mute').waitFor({ state: 'detached' })
    expect(await callStats(pa)).toBeNull()

    for (const [page, peer] of [
      [pa, 'bob'],
      [pb, 'alice'],
    ] as const) {
      await page.getByRole('tab', { name: 'Calls' }).click()
      await page
        .locator('.call-row', { hasText: peer })
        .getByText(/Answered/)
        .waitFor()
    }
    await shot(pa, 'call-history')
  }, 120_000)

  it('declines, cancels and fails calls with a message saying what happened', async () => {
    await userIdBox(pa).fill('bob')
    await button(pa, 'Call').click()
    await button(pb, 'Decline').click()
    await pa.getByText('bob declined the call.').waitFor()
    await button(pa, 'Dismiss').click()

    await button(pa, 'Call').click()
    await button(pb, 'Answer').waitFor()
    await pa.getByText('Ringing…').waitFor()
    await button(pa, 'Hang up').click()
    await pb.getByText('Missed call from alice.').waitFor()
    await expect(button(pb, 'Answer').count()).resolves.toBe(0)
    await button(pb, 'Dismiss').click()

    // The INVITE leaves before the microphone opens (late-microphone.ts): bob
    // rings while alice's getUserMedia is still pending. Refused then, the
    // microphone cancels the ringing call and alice reads what to do.
    await pa.evaluate(() => {
      const w = window as unknown as { __gum?: unknown; __refuseMic?: () => void }
      const md = navigator.mediaDevices
      w.__gum = md.getUserMedia
      md.getUserMedia = () =>
        new Promise((_, reject) => {
          w.__refuseMic = () => reject(new DOMException('Permission denied', 'NotAllowedError'))
        })
    })
    await button(pa, 'Call').click()
    await button(pb, 'Answer').waitFor()
    await pa.evaluate(() => (window as unknown as { __refuseMic: () => void }).__refuseMic())
    await pa.getByText(/Allow microphone access/).waitFor()
    await pb.getByText('Missed call from alice.').waitFor()
    await expect(button(pb, 'Answer').count()).resolves.toBe(0)
    await pa.evaluate(() => {
      const w = window as unknown as { __gum: MediaDevices['getUserMedia'] }
      navigator.mediaDevices.getUserMedia = w.__gum
    })
    await button(pa, 'Dismiss').click()
    await button(pb, 'Dismiss').click()

    await userIdBox(pa).fill('nobody-here')
    await button(pa, 'Call').click()
    await pa.getByText('There is no user "nobody-here". Check the user ID and try again.').waitFor()
    await shot(pa, 'call-failed')
    await button(pa, 'Dismiss').click()
  }, 90_000)

  it('shows settings: devices, supernode mode and usage, network, about; in both themes', async () => {
    await pa.getByRole('tab', { name: 'Settings' }).click()
    await pa.getByRole('combobox', { name: 'Microphone' }).waitFor()
    await pa.getByRole('radio', { name: /Off/ }).waitFor()
    await pa.getByText('Connected supernodes').waitFor()
    await button(pa, 'Export logs').waitFor()
    await shot(pa, 'settings')
    await pa.getByRole('radio', { name: 'Dark' }).check()
    await expect(pa.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark')
    await shot(pa, 'settings-dark')
    await pa.getByRole('tab', { name: 'Messages' }).click()
    await shot(pa, 'conversation-dark')
  }, 60_000)

  it('backs the account up to a file and restores it on a new device', async () => {
    await pa.getByRole('tab', { name: 'Settings' }).click()
    await button(pa, 'Back up account').click()
    await pa.getByLabel('Passphrase', { exact: true }).fill('correct horse battery')
    await pa.getByLabel('Passphrase again').fill('correct horse battery')
    const [download] = await Promise.all([
      pa.waitForEvent('download'),
      button(pa, 'Download backup').click(),
    ])
    expect(download.suggestedFilename()).toMatch(/^kaiwa-alice-.*\.kaiwa-backup$/)
    const file = join(home, 'alice.kaiwa-backup')
    await download.saveAs(file)
    await pa.keyboard.press('Escape')

    const fresh = await spawnNode(['--data', join(home, 'alice2'), ...uiClientArgs(sn)], home)
    const pc = await open(fresh, 'alice (restored)')
    await pc.getByText('I already have an account: restore from a backup').click()
    await pc.getByLabel('Backup file').setInputFiles(file)
    await pc.getByLabel('Passphrase', { exact: true }).fill('wrong passphrase')
    await button(pc, 'Restore').click()
    await pc.getByText(/not a Kaiwa backup, or the passphrase is wrong/).waitFor()
    await pc.getByLabel('Passphrase', { exact: true }).fill('correct horse battery')
    await button(pc, 'Restore').click()
    await pc.locator('.self-name', { hasText: 'alice' }).waitFor()
    await userIdBox(pc).waitFor()
  }, 90_000)
})
