/**
 * File transfer in the real UI (issue 15 §1): real `kaiwa node --ui`
 * processes (a supernode, alice and bob) and Debian's Chromium, driven
 * through accessible names.
 * - alice picks a photo with Send file (the browser streams it to her node's
 *   upload route); bob sees the offer, accepts; the bar reaches 100 %, the
 *   file on bob's disk has the sender's SHA-256, and both show the preview;
 * - alice pauses a file before bob answers and resumes it, and it arrives;
 * - a dropped file is declined, and both sides say so;
 * - bob pins alice and picks a downloads folder in Settings (a relative one is
 *   refused); a pasted image is then accepted without asking and lands there.
 * Screenshots go to test-results/screenshots/.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  assertUiBuilt,
  LOOPBACK,
  ROOT,
  runKaiwa,
  spawnNode,
  stopAllNodes,
} from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { CHROMIUM } from '../helpers/chromium-page.js'
import { button, openUi, UI_TIMEOUT } from './softphone-ui.js'
import { uiClientArgs } from './ui-nodes.js'

const SHOTS = join(ROOT, 'test-results', 'screenshots')
/** Long enough for a loaded 2-core machine: lookups, dials and hashing all wait. */
const SLOW = 90_000

let home: string
let alice: NodeProcess
let bob: NodeProcess
let browser: Browser
let pa: Page
let pb: Page

/** A real PNG of noise (it does not compress: ~3 MB), so the browser must decode it to preview it. */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'ascii')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  const rows: Buffer[] = []
  for (let y = 0; y < height; y++) rows.push(Buffer.from([0]), randomBytes(width * 3))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

const open = async (node: NodeProcess, who: string): Promise<Page> =>
  (await openUi(browser, node, who)).page

/** One file's item in the open conversation. */
const item = (p: Page, name: string) => p.getByRole('listitem', { name, exact: true })

async function chatWith(page: Page, peer: string): Promise<void> {
  await page.getByRole('tab', { name: /^Calls/ }).click()
  await page.getByRole('textbox', { name: 'User ID', exact: true }).fill(peer)
  await button(page, 'Chat').click()
  await page.getByRole('region', { name: `Conversation with ${peer}` }).waitFor()
}

async function pick(page: Page, path: string): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    button(page, 'Send file').click(),
  ])
  await chooser.setFiles(path)
}

/** bob's received files as `kaiwa files` prints them. */
async function received(): Promise<Array<{ name: string; sha256: string; path: string }>> {
  const r = await runKaiwa(['files', '--data', join(home, 'bob')], home)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Array<{ name: string; sha256: string; path: string }>
}

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  await mkdir(SHOTS, { recursive: true })
  home = await tempDir('hfu-ui-')
  const sn = await spawnNode(['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK], home)
  const boot = uiClientArgs(sn)
  alice = await spawnNode(['--data', join(home, 'alice'), '--name', 'alice', ...boot], home)
  bob = await spawnNode(['--data', join(home, 'bob'), '--name', 'bob', ...boot], home)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  ;[pa, pb] = await Promise.all([open(alice, 'alice'), open(bob, 'bob')])
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('file transfer in the UI', () => {
  it(
    'sends a photo by the picker; bob accepts; 100 %, the same SHA-256 on disk, previews',
    async () => {
      const photo = noisePng(1000, 1000)
      const path = join(home, 'photo.png')
      await writeFile(path, photo)
      await chatWith(pa, 'bob')
      await pick(pa, path)
      const sent = item(pa, 'photo.png')
      // The preview is made in alice's page from the picked file.
      await sent.getByRole('img', { name: 'Preview of photo.png' }).waitFor()

      await pb.getByRole('tab', { name: /^Messages/ }).click()
      await button(pb, 'alice, a file offered').click({ timeout: SLOW })
      const offer = item(pb, 'photo.png')
      await offer.getByText('alice offers a file').waitFor()
      await pb.screenshot({ path: join(SHOTS, 'file-offer.png') })
      await button(pb, 'Accept').click()

      await offer.getByRole('progressbar', { name: 'photo.png: 100 %' }).waitFor({ timeout: SLOW })
      await offer.getByText('Received, checksum verified').waitFor()
      await sent.getByText('Delivered, checksum verified').waitFor({ timeout: SLOW })
      // bob's preview is made from the verified file his node serves; it decodes.
      const preview = offer.getByRole('img', { name: 'Preview of photo.png' })
      await preview.waitFor()
      await waitFor(
        async () => (await preview.evaluate((img: HTMLImageElement) => img.naturalWidth)) > 0,
        UI_TIMEOUT,
        "bob's preview to decode",
      )
      await pb.screenshot({ path: join(SHOTS, 'file-received.png') })

      const [got] = (await received()).filter((f) => f.name === 'photo.png')
      expect(got?.sha256).toBe(sha256(photo))
      expect(sha256(await readFile(got!.path))).toBe(sha256(photo))
    },
    SLOW * 3,
  )

  it(
    'pauses a file before bob answers, and it arrives once resumed',
    async () => {
      const data = randomBytes(2 * 1024 * 1024)
      const path = join(home, 'report.bin')
      await writeFile(path, data)
      await pick(pa, path)
      const sent = item(pa, 'report.bin')
      // Paused once bob's node has the offer and waits for him.
      await sent.getByText('Waiting for an answer').waitFor({ timeout: SLOW })
      await sent.getByRole('button', { name: 'Pause', exact: true }).click()
      await sent.getByText('Paused', { exact: true }).waitFor()

      const offer = item(pb, 'report.bin')
      await offer.getByRole('button', { name: 'Accept', exact: true }).click({ timeout: SLOW })
      // Accepted, but alice's side holds it: nothing arrives while paused.
      await offer.getByRole('button', { name: 'Pause', exact: true }).waitFor()
      expect((await received()).some((f) => f.name === 'report.bin')).toBe(false)
      await pa.screenshot({ path: join(SHOTS, 'file-paused.png') })

      await sent.getByRole('button', { name: 'Resume', exact: true }).click()
      await sent.getByText('Delivered, checksum verified').waitFor({ timeout: SLOW })
      await offer.getByText('Received, checksum verified').waitFor({ timeout: SLOW })
      const [got] = (await received()).filter((f) => f.name === 'report.bin')
      expect(sha256(await readFile(got!.path))).toBe(sha256(data))
      // alice's node drops its uploaded copies once they are delivered (or declined).
      await waitFor(
        async () => (await readdir(join(home, 'alice', 'uploads'))).length === 0,
        UI_TIMEOUT,
        "alice's uploaded copies to be removed",
      )
    },
    SLOW * 3,
  )

  it(
    'declines a dropped file; both sides say so',
    async () => {
      const drop = await pa.evaluateHandle(() => {
        const dt = new DataTransfer()
        dt.items.add(new File(['not wanted'], 'spam.txt', { type: 'text/plain' }))
        return dt
      })
      const zone = pa.getByRole('region', { name: 'Conversation with bob' })
      await zone.dispatchEvent('dragenter', { dataTransfer: drop })
      await pa.getByText('Drop files to send them to bob').waitFor()
      await zone.dispatchEvent('drop', { dataTransfer: drop })
      const sent = item(pa, 'spam.txt')
      await sent.waitFor()

      const offer = item(pb, 'spam.txt')
      await offer.getByRole('button', { name: 'Decline', exact: true }).click({ timeout: SLOW })
      await offer.getByText('Declined', { exact: true }).waitFor()
      await sent.getByText('Declined', { exact: true }).waitFor({ timeout: SLOW })
      expect((await received()).some((f) => f.name === 'spam.txt')).toBe(false)
    },
    SLOW * 2,
  )

  it(
    'accepts a pasted image from a pinned contact without asking, into the folder chosen in Settings',
    async () => {
      // bob pins alice (adding her pins her key) and chooses where files go.
      await pb.getByRole('tab', { name: 'Contacts' }).click()
      await button(pb, 'Add contact').click()
      await pb.getByRole('textbox', { name: 'Contact', exact: true }).fill('kaiwa:alice')
      await button(pb, 'Add').click()
      await button(pb, 'Dial alice').waitFor({ timeout: SLOW })
      await pb.getByRole('tab', { name: 'Settings' }).click()
      const folder = pb.getByRole('textbox', { name: "Downloads folder (on the node's machine)" })
      await folder.fill('relative/folder')
      await button(pb, 'Save file settings').click()
      await pb.getByText(/must be an absolute path/).waitFor()
      const chosen = join(home, 'bob-downloads')
      await folder.fill(chosen)
      await button(pb, 'Save file settings').click()
      await pb.getByText('Saved.', { exact: true }).waitFor()

      await pb.getByRole('tab', { name: /^Messages/ }).click()
      await button(pb, 'alice').click()
      // A screenshot pasted into alice's composer (a clipboard file without a real name).
      const png = noisePng(64, 48).toString('base64')
      await pa.getByRole('textbox', { name: 'Message', exact: true }).evaluate((box, b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
        const dt = new DataTransfer()
        dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }))
        box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }))
      }, png)
      const pasted = pb.locator('.file-transfer', { hasText: /^pasted-/ })
      await pasted.getByText('Received, checksum verified').waitFor({ timeout: SLOW })
      await pasted.getByRole('img', { name: /^Preview of pasted-.*\.png$/ }).waitFor()
      const [got] = (await received()).filter((f) => f.name.startsWith('pasted-'))
      expect(got?.path.startsWith(chosen + '/')).toBe(true)
      await pb.screenshot({ path: join(SHOTS, 'file-auto-accepted.png') })
    },
    SLOW * 3,
  )
})
