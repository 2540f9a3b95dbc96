/**
 * A 4-party group call end to end (issue 14 §3): real `kaiwa node --ui`
 * processes (a supernode with STUN/TURN on 127.0.0.1, and alice, bob, carol
 * and dave) and Debian's Chromium with fake devices, four pages in one
 * browser, driven by the UI's accessible names:
 *
 * - alice calls bob, then adds carol and dave with Add to call; carol and
 *   dave answer, and every pair of the mesh connects (6 pairs, each its own
 *   peer connection): audio reaches every member from every other member
 *   (inbound-rtp packets and bytes grow on every pair, getStats);
 * - dave's page may use TURN relay candidates only, so his three pairs go
 *   through the supernode's TURN while the other three connect directly;
 * - alice, bob and carol turn their cameras on: video is decoded on every
 *   pair between them (framesDecoded grows);
 * - dave leaves (a BYE to each): the others see him go and stay connected,
 *   audio still flowing on their three pairs.
 *
 * Ports: the supernode's TURN port and relay range are in 42000-42499.
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
  CHROMIUM_ARGS,
  online,
  forceRelay,
  openUi,
  userIdBox,
} from './softphone-ui.js'
import { spawnTurnSupernode, uiClientArgs } from './ui-nodes.js'

/** The supernode's TURN port and relay range. */
const TURN_PORTS = { from: 42000, to: 42199 }
const TURN_RELAY_PORTS = '42200-42499'
const NAMES = ['alice', 'bob', 'carol', 'dave'] as const
type Name = (typeof NAMES)[number]

interface PairStats {
  peer: string
  state: string
  audioBytes: number
  audioPackets: number
  framesDecoded: number
  path: 'direct' | 'relayed' | 'unknown'
}

let home: string
let browser: Browser
const nodes = new Map<Name, NodeProcess>()
const pages = new Map<Name, Page>()
const contexts: BrowserContext[] = []
const page = (n: Name): Page => pages.get(n)!

const pairs = (n: Name): Promise<PairStats[]> =>
  page(n).evaluate(
    () => (window as { __kaiwaGroupStats?: () => unknown }).__kaiwaGroupStats?.() ?? [],
  ) as Promise<PairStats[]>

const pairWith = async (n: Name, peer: Name): Promise<PairStats | undefined> =>
  (await pairs(n)).find((p) => p.peer === peer)

/** `n` is connected to exactly `peers`, each pair's audio arriving and growing. */
async function audioFlows(n: Name, peers: readonly Name[]): Promise<void> {
  await expect
    .poll(async () => (await pairs(n)).map((p) => `${p.peer}:${p.state}`).sort(), {
      timeout: 90_000,
      message: `${n}'s pairs`,
    })
    .toEqual(peers.map((p) => `${p}:connected`).sort())
  for (const peer of peers) {
    const before = (await pairWith(n, peer))!
    await expect
      .poll(
        async () => {
          const now = await pairWith(n, peer)
          return (
            now != null &&
            now.audioPackets > before.audioPackets + 25 &&
            now.audioBytes > before.audioBytes
          )
        },
        { timeout: 30_000, message: `audio from ${peer} reaches ${n}` },
      )
      .toBe(true)
      .catch(async (err: unknown) => {
        for (const m of NAMES) console.error(`${m}: ${JSON.stringify(await pairs(m))}`)
        throw err
      })
  }
}

/** Video from `peer` keeps being decoded at `n` (framesDecoded grows over four polls). */
async function videoFlows(n: Name, peer: Name): Promise<void> {
  const frames = async () => (await pairWith(n, peer))?.framesDecoded ?? 0
  await expect
    .poll(frames, { timeout: 60_000, message: `${n} decodes video from ${peer}` })
    .toBeGreaterThan(10)
  let last = await frames()
  for (let i = 0; i < 3; i++) {
    await expect
      .poll(frames, { timeout: 20_000, message: `${peer}'s video keeps reaching ${n}` })
      .toBeGreaterThan(last)
    last = await frames()
  }
}

async function addToCall(by: Name, who: Name): Promise<void> {
  const p = page(by)
  await button(p, 'Add to call').click()
  await p.getByRole('combobox', { name: 'Contact to add' }).selectOption(who)
  await button(p, 'Invite').click()
  await button(page(who), 'Answer').click()
}

beforeAll(async () => {
  await assertBuilt()
  await assertUiBuilt()
  home = await tempDir('kaiwa-e2e-group-')
  const sn = await spawnTurnSupernode(home, TURN_PORTS, TURN_RELAY_PORTS)
  const boot = uiClientArgs(sn)
  // Names claimed at start (--name): the claim form is the softphone test's, not this one's.
  for (const n of NAMES)
    nodes.set(n, await spawnNode(['--data', join(home, n), ...boot, '--name', n], home))
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  for (const n of NAMES) {
    // dave may use relay candidates only: his pairs cross our TURN, the others' do not.
    const { page: p, context } = await openUi(
      browser,
      nodes.get(n)!,
      n,
      n === 'dave' ? { init: forceRelay } : {},
    )
    contexts.push(context)
    pages.set(n, p)
  }
  for (const n of NAMES) await online(page(n))
  for (const n of ['bob', 'carol', 'dave'] as const) await addContact(page('alice'), n)
}, 300_000)

afterAll(async () => {
  if (process.env.KAIWA_E2E_NODE_LOG) {
    for (const [n, node] of nodes) console.error(`--- ${n}\n${node.stderr()}`)
  }
  for (const c of contexts) await c.close().catch(() => {})
  await browser?.close().catch(() => {})
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('a 4-party group call in Chromium against real nodes', () => {
  it('connects a full mesh with audio everywhere, video among three, and survives one leaving', async () => {
    // A one-to-one call that becomes a group call.
    await userIdBox(page('alice')).fill('bob')
    await button(page('alice'), 'Call').click()
    await button(page('bob'), 'Answer').click()
    await button(page('alice'), 'Add to call').waitFor()
    await addToCall('alice', 'carol')
    for (const n of ['alice', 'bob', 'carol'] as const)
      await page(n).getByRole('region', { name: 'Group call' }).waitFor({ timeout: 60_000 })
    await addToCall('alice', 'dave')
    await page('dave').getByRole('region', { name: 'Group call' }).waitFor({ timeout: 60_000 })

    // Every member hears every other one.
    for (const n of NAMES)
      await audioFlows(
        n,
        NAMES.filter((m) => m !== n),
      )
    await page('bob').getByText('Group call · 4 people').waitFor()

    // Per-pair ICE: dave's pairs are relayed (his own candidate is a TURN relay one), while
    // the pairs among the other three connect directly.
    for (const peer of ['alice', 'bob', 'carol'] as const)
      await expect.poll(async () => (await pairWith('dave', peer))?.path).toBe('relayed')
    await expect.poll(async () => (await pairWith('alice', 'bob'))?.path).toBe('direct')
    await expect.poll(async () => (await pairWith('bob', 'carol'))?.path).toBe('direct')
    await page('dave')
      .getByRole('listitem', { name: 'alice in the call' })
      .getByText('Connected (relayed)')
      .waitFor()

    // Video among alice, bob and carol, one camera after the other (two members pressing
    // Camera in the same instant would renegotiate their pair from both ends at once).
    const trio = ['alice', 'bob', 'carol'] as const
    for (const n of trio) {
      await button(page(n), 'Camera').click()
      await expect
        .poll(() => button(page(n), 'Camera').getAttribute('aria-pressed'), { timeout: 30_000 })
        .toBe('true')
      for (const other of trio) if (other !== n) await videoFlows(other, n)
    }
    for (const n of trio) for (const peer of trio) if (peer !== n) await videoFlows(n, peer)
    await page('alice').getByLabel('Video from carol').waitFor()
    await page('alice').getByLabel('Your camera').waitFor()

    // dave leaves; the other three stay connected to each other.
    await button(page('dave'), 'Leave call').click()
    await page('dave').getByRole('region', { name: 'Group call' }).waitFor({ state: 'detached' })
    for (const n of trio) {
      await page(n)
        .getByRole('listitem', { name: 'dave in the call' })
        .waitFor({ state: 'detached', timeout: 60_000 })
      await audioFlows(
        n,
        trio.filter((m) => m !== n),
      )
    }
    await page('alice').getByText('Group call · 3 people').waitFor()

    // alice leaves too: bob and carol go on as a pair; when bob leaves, carol's call ends.
    await button(page('alice'), 'Leave call').click()
    await audioFlows('bob', ['carol'])
    await button(page('bob'), 'Leave call').click()
    for (const n of trio)
      await page(n).getByRole('region', { name: 'Group call' }).waitFor({ state: 'detached' })
  }, 420_000)
})
