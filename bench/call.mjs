#!/usr/bin/env node
// bench:call — calls between real softphone UIs over a real overlay (issue 5).
//   Starts S supernodes (STUN/TURN on 127.0.0.1) and C clients as `kaiwa node
//   --ui` processes on loopback, opens each client's UI in Debian's Chromium
//   (fake microphone, one browser context and renderer process per client), and
//   places calls between varying pairs through the UI only: the caller types the
//   user ID and clicks Call, the callee clicks Answer, the caller hangs up. Each
//   pair is called twice: cold (the caller's node has never looked the callee
//   up: DHT lookup and a new overlay link) and warm (cached record, open link).
//   Measured in the pages by bench/call-probe.mjs (an init script that only
//   timestamps; the UI is not changed): dial click → callee's incoming-call
//   screen painted, and → 180 at the caller; answer click → 200 at the caller;
//   answer click → first inbound audio RTP on each side (remote track unmuted,
//   or getStats polled every 2 ms showing packetsReceived > 0); and every stage
//   in between. Then the overlay alone through the control API (cold and cached
//   lookups, MESSAGE over a new and an open link). Footprint: JS heap per page
//   (CDP), renderer RSS/PSS (/proc), and dist/ui (raw and gzip).
//   npm run bench:call -- [--clients 8] [--supernodes 2] [--calls 20]
//                         [--turn loopback|any|off] [--json FILE] [--verbose]
//                         [--what-if ice-cache]
//   --video on (default) | off | only: the video part (bench/call-video.mjs: first
//   remote video frame after answer, renderer CPU per 1:1 video call) after, or
//   instead of, the audio calls; --video-calls N (default 5).
//   --group on (default) | off | only: the group part (bench/call-group.mjs: a
//   4-party group call set up through Add to call, until audio flows on all 12
//   directions of its 6 pairs); --group-rounds N (default 3).
//   --turn: loopback (default) = supernodes with `--turn-host 127.0.0.1`; any =
//   TURN on the default 0.0.0.0, which on a one-host network yields no relay
//   candidate; off = no TURN. --what-if ice-cache is an experiment: the page
//   answers iceServers from its last reply (what a node caching its TURN
//   credentials would give).
/* global window */ // only inside page.evaluate callbacks
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { progress } from './lib.mjs'
import { f, measures, report, schedMeasures, turnModeText } from './call-report.mjs'
import { installProbe } from './call-probe.mjs'
import { runVideoBench } from './call-video.mjs'
import { runGroupBench } from './call-group.mjs'
import { CHROMIUM, CHROMIUM_ARGS } from './call-ui.mjs'
import {
  freeTcpUdpPort,
  killChildrenNow,
  LOOPBACK,
  memoryOf,
  ownCpuSeconds,
  rendererProcesses,
  ROOT,
  schedWindow,
  spawnKaiwaNode,
  stopChildren,
} from './call-procs.mjs'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    supernodes: { type: 'string', default: '2' },
    calls: { type: 'string', default: '20' },
    turn: { type: 'string', default: 'loopback' },
    json: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'what-if': { type: 'string', default: '' },
    video: { type: 'string', default: 'on' },
    'video-calls': { type: 'string', default: '5' },
    group: { type: 'string', default: 'on' },
    'group-rounds': { type: 'string', default: '3' },
  },
})
const C = Number(values.clients)
const S = Number(values.supernodes)
const CALLS = Number(values.calls)
const say = progress('bench:call')
// Experiments, not the benchmark: ice-cache answers iceServers from the page's last reply.
const WHAT_IF = { iceCache: values['what-if'].split(',').includes('ice-cache') }
const STEP_TIMEOUT = 15_000

let home
let browser
const started = Date.now()
const LOAD0 = loadavg()[0]

let cleaning
let interrupted = false
/** Close Chromium, stop every node, remove the data directories; once, whoever asks first. */
const cleanup = () =>
  (cleaning ??= (async () => {
    await browser?.close().catch(() => {})
    await stopChildren()
    if (home != null) await rm(home, { recursive: true, force: true }).catch(() => {})
  })())
process.on('exit', killChildrenNow)
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    interrupted = true
    say(`${sig}: cleaning up`)
    void cleanup().finally(() => process.exit(130))
  })

async function main() {
  await assertBuilt()
  home = await mkdtemp(join(tmpdir(), 'kaiwa-bench-call-'))
  const turnMode = values.turn
  if (!['loopback', 'any', 'off'].includes(turnMode)) throw new Error('--turn loopback|any|off')

  // The overlay: S supernodes, then C clients in batches.
  say(`starting ${S} supernodes (TURN: ${turnModeText(turnMode)}) and ${C} clients`)
  const sns = []
  for (let i = 0; i < S; i++) {
    const dataDir = join(home, `sn${i}`)
    const bootstrap = sns.length > 0 ? [sns[0].ready.addrs[0]] : []
    const args = ['--data', dataDir, '--supernode', 'on', ...LOOPBACK, '--log-level', 'warn']
    args.push('--turn-port', turnMode === 'off' ? '0' : String(await freeTcpUdpPort()))
    if (turnMode === 'loopback') args.push('--turn-host', '127.0.0.1')
    for (const b of bootstrap) args.push('--bootstrap', b)
    sns.push(await spawnKaiwaNode(args, home, `supernode ${i}`))
  }
  const boot = sns.flatMap((s) => ['--bootstrap', s.ready.addrs[0]])
  const users = Array.from({ length: C }, (_, i) => `caller-${i}`)
  const clients = []
  for (let i = 0; i < C; i += 4) {
    const batch = users.slice(i, i + 4).map((name) => {
      const args = ['--data', join(home, name), ...boot, '--supernode', 'off', ...LOOPBACK]
      args.push('--turn-port', '0', '--ui', '--name', name, '--log-level', 'warn')
      return spawnKaiwaNode(args, home, name)
    })
    clients.push(...(await Promise.all(batch)))
    say(`${S + clients.length}/${S + C} nodes up`)
  }

  // One browser, one context (own renderer process) per client, logged in by its ui URL.
  // Our signal handlers close the browser (after the nodes are told to stop), not Playwright's.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  })
  const pages = []
  for (const [i, node] of clients.entries()) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } })
    await context.addInitScript(installProbe, WHAT_IF)
    const page = await context.newPage()
    page.setDefaultTimeout(STEP_TIMEOUT)
    page.on('pageerror', (err) => say(`${users[i]}: page error: ${err.message}`))
    await page.goto(node.ready.ui)
    const cdp = await context.newCDPSession(page)
    await cdp.send('Performance.enable')
    pages.push({ name: users[i], page, cdp, pid: undefined, nodePid: node.child.pid })
  }
  await Promise.all(
    pages.map((p) =>
      p.page.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 }),
    ),
  )
  say(`${C} UIs online (${((Date.now() - started) / 1000).toFixed(1)} s)`)

  // Which renderer process is whose: burn 200 ms of CPU in one page, see whose ticks grow.
  for (const p of pages) {
    const before = rendererProcesses()
    await p.page.evaluate(() => {
      const end = performance.now() + 200
      while (performance.now() < end);
    })
    const after = rendererProcesses()
    let best
    for (const [pid, cpu] of after) {
      const d = cpu - (before.get(pid) ?? cpu)
      if (best == null || d > best.d) best = { pid, d }
    }
    if (best != null && best.d > 5) p.pid = best.pid
  }

  // Idle footprint, after the pages settled.
  await new Promise((r) => setTimeout(r, 2000))
  const idle = await Promise.all(pages.map((p) => footprint(p, true)))

  // The calls: each pair cold, then warm.
  const pairs = schedule(C, Math.ceil(CALLS / 2))
  const results = []
  const inCall = []
  const cpu0 = { wall: performance.now(), cpu: ownCpuSeconds() }
  for (const [a, b] of pairs) {
    for (const kind of ['cold', 'warm']) {
      if (results.length >= CALLS) break
      const r = await oneCall(pages[a], pages[b], kind, inCall, sns)
      results.push(r)
      say(
        `call ${results.length}/${CALLS} ${kind} ${pages[a].name} → ${pages[b].name}: ` +
          (r.ok
            ? `ring ${f(r.m.ringUi)} (180 ${f(r.m.ring180)}), answered ${f(r.m.answered200)}, ` +
              `audio caller ${f(r.m.audioCaller)} / callee ${f(r.m.audioCallee)}`
            : `FAILED: ${r.error}`),
      )
      await new Promise((r) => setTimeout(r, 300))
    }
  }

  const ownCores = (ownCpuSeconds() - cpu0.cpu) / ((performance.now() - cpu0.wall) / 1000)

  // The overlay alone, through the control API, on pairs no call used: a cold DHT
  // lookup, then a MESSAGE (record cached, new link), then both again (warm).
  say('overlay diagnostics on unused pairs (control API)')
  const used = new Set(pairs.map(([a, b]) => `${a}>${b}`))
  const diag = []
  for (let a = 0; a < C; a++) {
    const b = [3, 4, 5, 6, 7, 2, 1]
      .map((dd) => (a + dd) % C)
      .find((x) => x !== a && !used.has(`${a}>${x}`))
    if (b == null) continue
    used.add(`${a}>${b}`)
    try {
      const api = await apiOf(clients[a], users[a])
      diag.push({
        lookupCold: await api('lookup', { name: users[b] }),
        lookupWarm: await api('lookup', { name: users[b] }),
        messageNewLink: await api('message', { to: users[b], text: 'bench' }),
        messageWarm: await api('message', { to: users[b], text: 'bench' }),
      })
    } catch (err) {
      say(`diagnostics ${users[a]} → ${users[b]} skipped: ${String(err)}`)
    }
  }

  const bundle = await bundleSizes()
  const run = { supernodes: S, clients: C, load0: LOAD0, whatIf: values['what-if'] }
  report({ results, idle, inCall, bundle, turnMode, diag, ownCores }, run)
  if (values.json != null) {
    await writeFile(values.json, JSON.stringify({ results, idle, inCall, bundle }, null, 1))
    say(`raw events in ${values.json}`)
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return results.every((r) => r.ok)
}

/** A timed control API client for one node: `await api(method, params)` → ms. */
async function apiOf(node, name) {
  const token = (await readFile(join(home, name, 'api-token'), 'utf8')).trim()
  return async (method, params) => {
    const t0 = performance.now()
    const res = await fetch(`${node.ready.api}/api/v1/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(params),
    })
    await res.text()
    if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`)
    return performance.now() - t0
  }
}

/** Pairs (caller, callee): neighbours first, then farther, every page busy in turn. */
function schedule(k, n) {
  const out = []
  const seen = new Set()
  for (let d = 1; d < k && out.length < n; d++)
    for (const parity of [0, 1])
      for (let i = parity; i < k && out.length < n; i += 2) {
        const key = `${i}>${(i + d) % k}`
        if (seen.has(key)) continue
        seen.add(key)
        out.push([i, (i + d) % k])
      }
  return out
}

const userIdBox = (p) => p.getByRole('textbox', { name: 'User ID', exact: true })
const button = (p, name) => p.getByRole('button', { name, exact: true })
const events = (p) => p.page.evaluate(() => window.__bench.events.splice(0))

async function waitForEvent(p, name, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    const has = await p.page.evaluate((n) => window.__bench.events.some((e) => e.name === n), name)
    if (has) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${p.name}: no ${name} within ${timeout} ms`)
}

async function oneCall(caller, callee, kind, inCall, sns) {
  await events(caller)
  await events(callee)
  // CPU on the dial path, from typing the ID until the callee rings (schedstat).
  const dialPath = schedWindow({
    CallerNode: caller.nodePid,
    CalleeNode: callee.nodePid,
    CallerPage: caller.pid,
    CalleePage: callee.pid,
    ...Object.fromEntries(sns.map((s, i) => [`Supernode${i}`, s.child.pid])),
  })
  try {
    await userIdBox(caller.page).fill(callee.name)
    await button(caller.page, 'Call').click()
    await button(callee.page, 'Answer').waitFor()
    const sched = dialPath()
    // Answer once the caller heard 180 (a person takes longer than that).
    await caller.page.locator('.call-state', { hasText: 'Ringing…' }).waitFor()
    await button(callee.page, 'Answer').click()
    await Promise.all([waitForEvent(caller, 'rtp.first'), waitForEvent(callee, 'rtp.first')])
    await caller.page.locator('.call-state', { hasText: 'In call' }).waitFor()
    // In-call footprint (the figures of this call are taken already).
    inCall.push(await footprint(caller, false), await footprint(callee, false))
    await button(caller.page, 'Hang up').click()
    await caller.page.locator('.call-panel').waitFor({ state: 'detached' })
    await callee.page.locator('.call-panel').waitFor({ state: 'detached' })
    const ce = await events(caller)
    const ee = await events(callee)
    const m = { ...measures(ce, ee), ...schedMeasures(sched) }
    if (values.verbose) say(JSON.stringify(m))
    return { ok: true, kind, caller: caller.name, callee: callee.name, m, ce, ee }
  } catch (err) {
    const ce = await events(caller).catch(() => [])
    const ee = await events(callee).catch(() => [])
    for (const p of [caller, callee])
      for (const name of ['Hang up', 'Decline', 'Dismiss'])
        await button(p.page, name)
          .click({ timeout: 1000 })
          .catch(() => {})
    return { ok: false, kind, caller: caller.name, callee: callee.name, error: String(err), ce, ee }
  }
}

async function footprint(p, gc) {
  const heap = async () => {
    const { metrics } = await p.cdp.send('Performance.getMetrics')
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value
  }
  const raw = await heap()
  if (gc) await p.cdp.send('HeapProfiler.collectGarbage').catch(() => {})
  const afterGc = gc ? await heap() : undefined
  const mem = p.pid != null ? await memoryOf(p.pid) : undefined
  return { page: p.name, pid: p.pid, heap: raw, heapAfterGc: afterGc, rss: mem?.rss, pss: mem?.pss }
}

async function bundleSizes() {
  const dir = join(ROOT, 'dist', 'ui', 'assets')
  const out = { js: 0, jsGz: 0, css: 0, cssGz: 0, total: 0, totalGz: 0 }
  for (const name of await readdir(dir)) {
    if (name.endsWith('.map')) continue
    const buf = await readFile(join(dir, name))
    const gz = gzipSync(buf).length
    const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : undefined
    if (kind != null) {
      out[kind] += buf.length
      out[`${kind}Gz`] += gz
    }
    out.total += buf.length
    out.totalGz += gz
  }
  for (const name of await readdir(join(ROOT, 'dist', 'ui'))) {
    const s = await stat(join(ROOT, 'dist', 'ui', name))
    if (s.isFile()) {
      out.total += s.size
      out.totalGz += gzipSync(await readFile(join(ROOT, 'dist', 'ui', name))).length
    }
  }
  return out
}

async function assertBuilt() {
  for (const f of ['dist/kaiwa.bundle.mjs', 'dist/ui/index.html', 'dist/main/kaiwa-node.js']) {
    if ((await stat(join(ROOT, f)).catch(() => null)) == null)
      throw new Error(`${f} is missing: run \`npm run build\` (npm run bench:call does)`)
  }
}

// Last: everything above (consts included) is initialised by now.
// Exit 0 when every call went through (goals met or not), 1 when a call or the run failed.
try {
  if (!['on', 'off', 'only'].includes(values.video)) throw new Error('--video on|off|only')
  if (!['on', 'off', 'only'].includes(values.group)) throw new Error('--group on|off|only')
  const only = values.video === 'only' || values.group === 'only'
  const allCalls = only ? true : await main()
  await cleanup()
  if (values.video !== 'off' && values.group !== 'only')
    await runVideoBench({ calls: Number(values['video-calls']) })
  if (values.group !== 'off' && values.video !== 'only')
    await runGroupBench({ rounds: Number(values['group-rounds']) })
  process.exit(allCalls ? 0 : 1)
} catch (err) {
  if (!interrupted) console.error(`bench:call failed: ${err?.stack ?? err}`)
  await cleanup()
  process.exit(1)
}
