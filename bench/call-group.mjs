#!/usr/bin/env node
// bench:call, group part (issue 14 §3) — setting up a 4-party group call
// through the softphone UI: a supernode (STUN/TURN on 127.0.0.1, ports in
// 42000-42499) and four `kaiwa node --ui` clients on loopback, Debian's
// Chromium with fake devices, one browser context per user. Each round:
//   A types B and clicks Call, B clicks Answer; A clicks Add to call, picks C
//   and clicks Invite, C clicks Answer; the same for D. The bench clicks each
//   button as soon as it shows (no think time). An in-page probe (an init
//   script that only timestamps) records the clicks and, per peer
//   connection, the first inbound audio RTP (the remote audio track unmutes).
// Set up = every one of the 12 directions of the 6 pairs has audio. Figures:
//   - first Call click → full mesh with audio (the whole 4-party call,
//     including three rings answered by the bench);
//   - D's Answer click → full mesh (what joining costs: D's INVITEs to B and
//     C, their auto-accepts, ICE on three new pairs).
// Goal: a 4-party call set up ≤ 2 s.
//   node bench/call-group.mjs [--rounds 3]
//   (npm run bench:call -- --group only ... runs it from bench/call.mjs)
/* global window, Element */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { pct, printTable, progress } from './lib.mjs'
import { stopChildren, killChildrenNow } from './call-procs.mjs'
import { button, f, sleep, startUiRig } from './call-ui.mjs'
const GOAL_SETUP_MS = 2000
const USERS = ['grpa', 'grpb', 'grpc', 'grpd']

/** In the page: click times by button name, and each remote audio track's first RTP. */
export function installGroupProbe() {
  if (window.__gbench != null) return
  const now = () => performance.timeOrigin + performance.now()
  const G = { clicks: {}, audio: [] }
  window.__gbench = G
  window.addEventListener(
    'click',
    (e) => {
      const b = e.target instanceof Element ? e.target.closest('button') : null
      if (b != null) G.clicks[b.textContent.trim()] = now()
    },
    true,
  )
  const Base = window.RTCPeerConnection
  window.RTCPeerConnection = class extends Base {
    constructor(...args) {
      super(...args)
      this.addEventListener('track', (e) => {
        if (e.track.kind === 'audio')
          e.track.addEventListener('unmute', () => G.audio.push(now()), { once: true })
      })
    }
  }
}

async function addContact(page, name) {
  await page.getByRole('tab', { name: 'Contacts' }).click()
  await button(page, 'Add contact').click()
  await page.getByRole('textbox', { name: 'Contact', exact: true }).fill(`kaiwa:${name}`)
  await button(page, 'Add').click()
  await button(page, `Dial ${name}`).waitFor()
}

/** The time every page has heard from its 3 peers (the 3rd remote audio track unmuted). */
async function meshAudioAt(pages) {
  const at = await Promise.all(
    pages.map(async (p) => {
      await p.waitForFunction(() => window.__gbench.audio.length >= 3, undefined, {
        timeout: 60_000,
      })
      return p.evaluate(() => [...window.__gbench.audio].sort((a, b) => a - b)[2])
    }),
  )
  return Math.max(...at)
}

export async function runGroupBench(opts = {}) {
  const say = opts.say ?? progress('bench:call group')
  const ROUNDS = opts.rounds ?? 3
  const home = await mkdtemp(join(tmpdir(), 'kaiwa-bench-group-'))
  let browser
  try {
    const rig = await startUiRig({
      home,
      users: USERS,
      turnPorts: [42000, 200],
      relayPorts: '42200-42499',
      probe: installGroupProbe,
      say,
    })
    browser = rig.browser
    const { pages } = rig
    const [a, b, c, d] = pages
    for (const name of USERS.slice(1)) await addContact(a, name)
    const results = []
    for (let i = 0; i < ROUNDS; i++) {
      for (const p of pages)
        await p.evaluate(() => Object.assign(window.__gbench, { clicks: {}, audio: [] }))
      await a.getByRole('textbox', { name: 'User ID', exact: true }).fill(USERS[1])
      await button(a, 'Call').click()
      await button(b, 'Answer').click()
      for (const [who, page] of [
        [USERS[2], c],
        [USERS[3], d],
      ]) {
        await button(a, 'Add to call').click()
        await a.getByRole('combobox', { name: 'Contact to add' }).selectOption(who)
        await button(a, 'Invite').click()
        await button(page, 'Answer').click()
      }
      const done = await meshAudioAt(pages)
      const dialAt = await a.evaluate(() => window.__gbench.clicks.Call)
      const dAnswerAt = await d.evaluate(() => window.__gbench.clicks.Answer)
      const r = { setup: done - dialAt, join: done - dAnswerAt }
      results.push(r)
      say(`round ${i + 1}/${ROUNDS}: Call → full mesh ${f(r.setup)}; D answers → ${f(r.join)}`)
      // The last one's call ends by itself when the others have left.
      for (const p of pages.slice(0, -1)) await button(p, 'Leave call').click()
      for (const p of pages)
        await p.getByRole('region', { name: 'Group call' }).waitFor({ state: 'detached' })
      await sleep(1000)
    }
    report(results)
    return results
  } finally {
    await browser?.close().catch(() => {})
    await stopChildren()
    await rm(home, { recursive: true, force: true }).catch(() => {})
  }
}

function report(results) {
  const row = (label, xs) => [label, `p50 ${f(pct(xs, 50))}, max ${f(Math.max(...xs))}`]
  const setup = results.map((r) => r.setup)
  const join = results.map((r) => r.join)
  printTable(
    `4-party group call set up, audio on all 12 directions (${results.length} rounds, ` +
      `loopback, load ${loadavg()[0].toFixed(2)})`,
    [
      row('first Call click → full mesh (3 rings answered at once)', setup),
      row("4th member's Answer → full mesh", join),
      [
        `goal: set up ≤ ${GOAL_SETUP_MS} ms`,
        pct(setup, 50) <= GOAL_SETUP_MS ? 'met (p50)' : 'not met',
      ],
    ],
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } })
  process.on('exit', killChildrenNow)
  await runGroupBench({ rounds: Number(values.rounds) })
}
