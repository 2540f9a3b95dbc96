/**
 * Groups in the real UI (issue 15 §2): real `kaiwa node --ui` processes (a
 * supernode; ann and ben with the UI, cat without) and real Chromium, driven
 * through accessible names. ann creates a group from the Groups tab and
 * sends to it; ben's tab shows the unread count, he opens the group, reads
 * and answers; ann sees the answer live; cat (CLI) got both. Screenshots go
 * to test-results/screenshots/.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
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
import { openUi } from './softphone-ui.js'

const SHOTS = join(ROOT, 'test-results', 'screenshots')

let home: string
let ann: NodeProcess
let ben: NodeProcess
let browser: Browser
let pa: Page
let pb: Page

const open = async (node: NodeProcess, who: string): Promise<Page> =>
  (await openUi(browser, node, who, { viewport: { width: 1200, height: 760 } })).page

const tab = (p: Page, name: RegExp) => p.getByRole('tab', { name })

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  await mkdir(SHOTS, { recursive: true })
  home = await tempDir('hgrp-ui-')
  const sn = await spawnNode(['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK], home)
  const boot = ['--bootstrap', sn.ready.addrs[0]!, ...LOOPBACK]
  ann = await spawnNode(['--data', join(home, 'ann'), '--name', 'ann', '--ui', ...boot], home)
  ben = await spawnNode(['--data', join(home, 'ben'), '--name', 'ben', '--ui', ...boot], home)
  await spawnNode(['--data', join(home, 'cat'), '--name', 'cat', ...boot], home)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  ;[pa, pb] = await Promise.all([open(ann, 'ann'), open(ben, 'ben')])
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('groups in the UI', () => {
  it('creates a group from the Groups tab and sends to it', async () => {
    await tab(pa, /^Groups/).click()
    await pa.getByText('No groups yet.', { exact: false }).waitFor()
    await pa.getByRole('button', { name: 'New group' }).click()
    await pa.getByLabel('Group name').fill('Hikers')
    await pa.getByLabel('Members (user IDs, separated by commas)').fill('ben, cat')
    await pa.getByRole('button', { name: 'Create', exact: true }).click()
    await pa.getByRole('heading', { name: 'Hikers' }).waitFor()
    const composer = pa.getByRole('textbox', { name: 'Message' })
    await composer.fill('Trail at nine?')
    await composer.press('Enter')
    await pa.getByText('delivered to 2', { exact: true }).waitFor()
    await pa.screenshot({ path: join(SHOTS, 'group-sent.png') })
  })

  it('shows ben the unread count, the message, and carries his answer to ann live', async () => {
    // The tab's badge counts the unread group message.
    await waitFor(
      async () => (await tab(pb, /^Groups/).textContent())?.includes('1') === true,
      30_000,
      "ben's Groups tab to show 1 unread",
    )
    await tab(pb, /^Groups/).click()
    await pb.getByRole('button', { name: 'Hikers, 1 unread' }).click()
    await pb.getByText('Trail at nine?').waitFor()
    const composer = pb.getByRole('textbox', { name: 'Message' })
    await composer.fill('Yes, see you there')
    await composer.press('Enter')
    await pa.getByText('Yes, see you there').waitFor()
    await pb.getByText('delivered to 2', { exact: true }).waitFor()
    await pb.screenshot({ path: join(SHOTS, 'group-conversation.png') })
    // Read on opening: no badge left on ben's tab.
    expect((await tab(pb, /^Groups/).textContent())?.trim()).toBe('Groups')

    const r = await runKaiwa(['group', 'messages', 'Hikers', '--data', join(home, 'cat')], home)
    expect(r.code, r.stderr).toBe(0)
    const texts = (JSON.parse(r.stdout) as Array<{ text: string }>).map((m) => m.text)
    expect(texts).toEqual(['Trail at nine?', 'Yes, see you there'])
  })
})
