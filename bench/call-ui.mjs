// bench:call — the softphone-UI rig of its video and group parts
// (call-video.mjs, call-group.mjs): a supernode with STUN/TURN on 127.0.0.1,
// one `kaiwa node --ui` client per user, Debian's Chromium with fake devices
// and one browser context (renderer process) per user, each page logged in
// by its node's ui URL and Online.
/* global window */
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { LOOPBACK, spawnKaiwaNode } from './call-procs.mjs'

export const CHROMIUM = '/usr/bin/chromium'
/** Fake microphone and camera, no prompts (test/e2e/softphone-ui.ts has the same). */
export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
]

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
export const button = (p, name) => p.getByRole('button', { name, exact: true })
/** Milliseconds as the tables print them. */
export const f = (x) => (x == null ? '-' : `${x.toFixed(0)} ms`)

/** A port in [lo, lo + count) free on 127.0.0.1 for TCP and UDP (the TURN server takes both). */
export async function freePortIn(lo, count) {
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * count)
    const tcp = await new Promise((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    const udp = await new Promise((resolve) => {
      const u = createSocket('udp4')
      u.once('error', () => resolve(false))
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (tcp && udp) return port
  }
  throw new Error(`no free TCP+UDP port in ${lo}-${lo + count - 1}`)
}

/** An init script: the page's peer connections may use TURN relay candidates only. */
function relayOnly() {
  const Base = window.RTCPeerConnection
  window.RTCPeerConnection = class extends Base {
    constructor(config) {
      super({ ...config, iceTransportPolicy: 'relay' })
    }
  }
}

/**
 * Starts the rig. `turnPorts` [lo, count]: where the TURN port is picked;
 * `relayPorts` 'LO-HI': the TURN relay range; `probe`: the in-page init
 * script; `relay`: relay candidates only; `parallel`: start the clients at
 * once (else one after the other). Returns the browser, each user's node and
 * page, in `users` order. The caller closes the browser and stops the nodes.
 */
export async function startUiRig(opts) {
  const { home, users, say } = opts
  const [lo, count] = opts.turnPorts
  const turn = ['--turn-port', String(await freePortIn(lo, count)), '--turn-host', '127.0.0.1']
  const sn = await spawnKaiwaNode(
    [
      '--data',
      join(home, 'sn'),
      '--supernode',
      'on',
      ...LOOPBACK,
      ...turn,
      '--turn-relay-ports',
      opts.relayPorts,
      '--log-level',
      'warn',
    ],
    home,
    'supernode',
  )
  const boot = ['--bootstrap', sn.ready.addrs[0], '--supernode', 'off', ...LOOPBACK]
  const start = (name) =>
    spawnKaiwaNode(
      [
        '--data',
        join(home, name),
        ...boot,
        '--turn-port',
        '0',
        '--ui',
        '--name',
        name,
        '--log-level',
        'warn',
      ],
      home,
      name,
    )
  const nodes = []
  if (opts.parallel === true) nodes.push(...(await Promise.all(users.map(start))))
  else for (const name of users) nodes.push(await start(name))
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const pages = []
  try {
    for (const node of nodes) {
      const context = await browser.newContext({ viewport: { width: 1000, height: 700 } })
      await context.addInitScript(opts.probe)
      if (opts.relay === true) await context.addInitScript(relayOnly)
      const page = await context.newPage()
      page.setDefaultTimeout(30_000)
      page.on('pageerror', (err) => say(`page error: ${err.message}`))
      await page.goto(node.ready.ui)
      pages.push(page)
    }
    await Promise.all(
      pages.map((p) =>
        p.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 90_000 }),
      ),
    )
  } catch (err) {
    await browser.close().catch(() => {})
    throw err
  }
  return { browser, nodes, pages }
}
