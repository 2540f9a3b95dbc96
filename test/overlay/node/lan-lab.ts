/**
 * A LAN with no supernode and no route out, for lan-only.test.ts: network
 * namespaces named `hlan-…` on one bridge (test/helpers/netns.ts), each
 * running a real `kaiwa node` with default settings (a client; mDNS on), the
 * CLI run inside the node's namespace (its API listens on that namespace's
 * 127.0.0.1), and the node's softphone UI in a real Chromium inside the
 * namespace too (as the NAT lab does, test/natlab/phone.ts).
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { ROOT, spawnNode } from '../../helpers/cli.js'
import type { NodeProcess } from '../../helpers/cli.js'
import { CHROMIUM, CHROMIUM_ARGS, keepPeerConnections, peerStats } from '../../natlab/phone.js'

const BIN = join(ROOT, 'bin', 'kaiwa.js')
/** The SIP gateway's port inside each namespace (each has its own loopback). */
export const LAN_SIP_PORT = '22060'

export interface LanHost {
  ns: string
  dataDir: string
  proc: NodeProcess
}

/** `kaiwa node` in `ns`: default settings but the data dir, the gateway port and the UI. */
export async function startLanNode(ns: string, base: string, label: string): Promise<LanHost> {
  const dataDir = join(base, label)
  const proc = await spawnNode(
    ['--data', dataDir, '--sip-port', LAN_SIP_PORT, '--ui'],
    base,
    60_000,
    ['ip', 'netns', 'exec', ns],
  )
  return { ns, dataDir, proc }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** A one-shot `kaiwa ARGS --data DIR` inside the host's namespace. */
export function cli(host: LanHost, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', host.ns, process.execPath, BIN, ...args, '--data', host.dataDir],
      { cwd: ROOT, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err == null ? 0 : typeof err.code === 'number' ? err.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** `kaiwa ARGS` that must succeed; its stdout parsed as JSON when asked. */
export async function cliOk(host: LanHost, args: string[]): Promise<string> {
  const r = await cli(host, args)
  if (r.code !== 0) throw new Error(`kaiwa ${args.join(' ')} in ${host.ns}: ${r.stderr}`)
  return r.stdout
}

/**
 * `kaiwa claim NAME`. The CLI gives the node 30 s, and minting the claim's
 * proof-of-work stamp on a loaded 2-core machine can take longer; the node
 * goes on with the claim, so a CLI timeout is followed by waiting for it.
 */
export async function claim(host: LanHost, name: string): Promise<void> {
  const r = await cli(host, ['claim', name], 60_000)
  if (r.code === 0) return
  if (!r.stderr.includes('did not answer')) {
    throw new Error(`kaiwa claim ${name} in ${host.ns}: ${r.stderr}`)
  }
  await waitFor(
    `${host.ns} to finish claiming ${name}`,
    async () => ((await status(host)).name === name ? true : null),
    120_000,
  )
}

export interface LanStatus {
  name: string | null
  network?: string
  lanPeers?: number
  hint?: string
  supernodes: string[]
  role: string
}

export async function status(host: LanHost): Promise<LanStatus> {
  return JSON.parse(await cliOk(host, ['status'])) as LanStatus
}

/** Polls `check` until it returns a value (not null) or `ms` pass. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v != null) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

export interface LanPhone {
  page: Page
  close(): Promise<void>
}

/** The host's UI in Chromium inside its namespace, once it shows the user online. */
export async function openLanPhone(host: LanHost): Promise<LanPhone> {
  const url = host.proc.ready.ui
  if (url == null) throw new Error(`${host.ns}: the node runs without --ui`)
  const dir = mkdtempSync(join(tmpdir(), 'kaiwa-hlan-chromium-'))
  const wrapper = join(dir, 'chromium-in-ns.sh')
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${host.ns} ${CHROMIUM} "$@"\n`)
  chmodSync(wrapper, 0o755)
  const context: BrowserContext = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: wrapper,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1200, height: 760 },
  })
  await context.addInitScript(keepPeerConnections)
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(30_000)
  await page.goto(url)
  await page.locator('.self-state', { hasText: 'Online' }).waitFor({ timeout: 60_000 })
  return { page, close: () => context.close().catch(() => {}) }
}

const button = (p: Page, name: string) => p.getByRole('button', { name, exact: true })

export interface LanCall {
  /** Audio packets received over 2.5 s of the answered call (caller, callee). */
  caller: number
  callee: number
  /** The caller's selected ICE pair, e.g. `host 10.77.x.1 ⇄ host 10.77.x.2`. */
  pair: string
}

/** `from` calls `to` by user ID in the UI; `to` answers; audio is counted; `from` hangs up. */
export async function callByUi(from: Page, to: Page, toName: string): Promise<LanCall> {
  await from.getByRole('textbox', { name: 'User ID', exact: true }).fill(toName)
  await button(from, 'Call').click()
  await button(to, 'Answer').waitFor({ timeout: 30_000 })
  await button(to, 'Answer').click()
  const flowing = async (p: Page) => {
    const s = await peerStats(p)
    return s != null && s.packetsReceived > 0 ? s : null
  }
  await Promise.all([
    waitFor('audio at the caller', () => flowing(from), 20_000),
    waitFor('audio at the callee', () => flowing(to), 20_000),
  ])
  const [c0, e0] = await Promise.all([peerStats(from), peerStats(to)])
  await new Promise((r) => setTimeout(r, 2_500))
  const [c1, e1] = await Promise.all([peerStats(from), peerStats(to)])
  await button(from, 'Hang up').click()
  await button(to, 'Hang up').waitFor({ state: 'detached', timeout: 15_000 })
  const p = c1?.pair
  return {
    caller: (c1?.packetsReceived ?? 0) - (c0?.packetsReceived ?? 0),
    callee: (e1?.packetsReceived ?? 0) - (e0?.packetsReceived ?? 0),
    pair:
      p == null
        ? 'none'
        : `${p.local.type} ${p.local.address} ⇄ ${p.remote.type} ${p.remote.address}`,
  }
}
