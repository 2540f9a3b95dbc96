/**
 * A WAN line between a router and one neighbour (the lab's core and a site):
 * one-way delay, jitter and random loss per direction, for kernels without
 * netem or nfqueue. A small userspace helper (link-emulator.py) owns two TUN
 * devices in the router's namespace, one per direction, and policy routing
 * steers the neighbour's traffic through them:
 *
 *   pref 100+k  iif <down tun>        → main     (delayed, deliver to the neighbour)
 *   pref 200+k  iif <neighbour if>    → table U  (default dev <up tun>)
 *   pref 300+k                        → table D  (the neighbour's prefixes dev <down tun>)
 *   pref 32766                        → main     (the rest, and what leaves the up tun)
 *
 * A packet the helper writes back into a TUN arrives on that TUN, so the
 * `iif` rules send it on its way instead of into the TUN again. With several
 * emulated neighbours on one router, site-to-site traffic crosses the
 * sender's up line and then the receiver's down line, as on the internet.
 *
 * Everything it adds lives in the router's namespace: the TUNs vanish when the
 * helper dies (stop kills it by PID), the rules and tables when stop removes
 * them or the namespace is deleted.
 */
import { spawn as spawnProcess, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { IP, ip, shIn } from './exec.js'
import type { Lab } from './lab.js'
import { siteWanAddr } from './lab.js'

const HELPER = fileURLToPath(new URL('./link-emulator.py', import.meta.url))
const PYTHON = '/usr/bin/python3'
const PING = fileURLToPath(new URL('./link-emulator-ping.py', import.meta.url))

export class LinkSpecError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LinkSpecError'
  }
}

export class LinkEmulatorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LinkEmulatorError'
  }
}

/** One direction of the line. */
export interface LinkDirection {
  /** One-way delay, ms. */
  delayMs: number
  /** ± ms around the delay, uniform (default 0). The line never reorders. */
  jitterMs?: number
  /** Random loss, percent (default 0). */
  lossPct?: number
}

export interface LinkSpec {
  /** Neighbour → router (a site's uploads). */
  up: LinkDirection
  /** Router → neighbour (a site's downloads). */
  down: LinkDirection
  /** Seed of the loss and jitter draws (default 1): the same seed drops the same packets. */
  seed?: number
}

/** A symmetric line with this round trip: each way rtt/2, the same jitter and loss. */
export function symmetricLink(rttMs: number, lossPct = 0, jitterMs = 0, seed = 1): LinkSpec {
  const dir = { delayMs: rttMs / 2, jitterMs, lossPct }
  return { up: dir, down: { ...dir }, seed }
}

export interface DirectionCounters {
  received: number
  dropped: number
  sent: number
}

export interface LinkStats {
  up: DirectionCounters
  down: DirectionCounters
}

export interface EmulatedLink {
  /** The helper's PID (the process stop kills). */
  pid: number
  upTun: string
  downTun: string
  /** Packets seen, dropped and delivered per direction so far. */
  stats(): Promise<LinkStats>
  /** Remove the rules, kill the helper (the TUNs go with it). Safe to call twice. */
  stop(): Promise<void>
}

export interface EmulateLinkOptions {
  /** The router's namespace, where the TUNs and rules go. */
  ns: string
  /** The router's interface towards the neighbour. */
  neighborIf: string
  /** The addresses behind that interface (CIDR), routed there in the main table. */
  prefixes: string[]
  /** Distinguishes several lines in one namespace: rule prefs, tables, TUN names (0–99). */
  slot: number
  /** TUN name stem (≤ 10 characters): `<stem>u<slot>`, `<stem>d<slot>`. */
  stem: string
  spec: LinkSpec
  /** How to start the helper inside `ns` (a lab's spawn, so the lab kills it too). */
  spawn?: (ns: string, cmd: string, args: string[]) => ChildProcess
}

function checkDirection(name: string, d: LinkDirection): void {
  const ok = (v: number | undefined, max: number) =>
    v === undefined || (Number.isFinite(v) && v >= 0 && v <= max)
  if (!ok(d.delayMs, 60_000))
    throw new LinkSpecError(`${name}: delayMs must be 0–60000, got ${d.delayMs}`)
  if (!ok(d.jitterMs, 60_000))
    throw new LinkSpecError(`${name}: jitterMs must be 0–60000, got ${d.jitterMs}`)
  if (!ok(d.lossPct, 100))
    throw new LinkSpecError(`${name}: lossPct must be 0–100, got ${d.lossPct}`)
}

/** Validate a spec; a LinkSpecError says what is wrong. */
export function checkLinkSpec(spec: LinkSpec): void {
  checkDirection('up', spec.up)
  checkDirection('down', spec.down)
  if (spec.seed !== undefined && !Number.isSafeInteger(spec.seed)) {
    throw new LinkSpecError(`seed must be an integer, got ${spec.seed}`)
  }
}

/** The helper's command line for a spec. */
export function helperArgs(upTun: string, downTun: string, spec: LinkSpec): string[] {
  const dir = (name: string, d: LinkDirection) => [
    `--${name}-delay`,
    String(d.delayMs),
    `--${name}-jitter`,
    String(d.jitterMs ?? 0),
    `--${name}-loss`,
    String(d.lossPct ?? 0),
  ]
  return [
    HELPER,
    '--up',
    upTun,
    '--down',
    downTun,
    ...dir('up', spec.up),
    ...dir('down', spec.down),
    '--seed',
    String(spec.seed ?? 1),
  ]
}

const defaultSpawn = (ns: string, cmd: string, args: string[]): ChildProcess =>
  spawnProcess(IP, ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })

/** Insert the line. Throws (after undoing what it did) if any step fails. */
export async function emulateLink(o: EmulateLinkOptions): Promise<EmulatedLink> {
  checkLinkSpec(o.spec)
  if (!Number.isInteger(o.slot) || o.slot < 0 || o.slot > 99) {
    throw new LinkSpecError(`slot must be an integer 0–99, got ${o.slot}`)
  }
  if (!/^[a-z0-9]{1,10}$/.test(o.stem)) {
    throw new LinkSpecError(`stem must be 1–10 lowercase letters or digits, got ${o.stem}`)
  }
  const upTun = `${o.stem}u${o.slot}`
  const downTun = `${o.stem}d${o.slot}`
  const upTable = String(1000 + 2 * o.slot)
  const downTable = String(1001 + 2 * o.slot)
  const child = (o.spawn ?? defaultSpawn)(o.ns, PYTHON, helperArgs(upTun, downTun, o.spec))
  const pid = child.pid
  if (pid == null) throw new LinkEmulatorError(`could not start ${PYTHON} in ${o.ns}`)
  const lines = createInterface({ input: child.stdout! })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', (line) => waiting.shift()?.(line))
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const nextLine = (what: string, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new LinkEmulatorError(`${what}: no answer in ${ms} ms`)),
        ms,
      )
      const onExit = () =>
        reject(new LinkEmulatorError(`${what}: the helper exited: ${stderr.trim()}`))
      child.once('exit', onExit)
      waiting.push((line) => {
        clearTimeout(t)
        child.off('exit', onExit)
        resolve(line)
      })
    })

  let stopped = false
  const rules = [
    ['pref', String(100 + o.slot), 'iif', downTun, 'lookup', 'main'],
    ['pref', String(200 + o.slot), 'iif', o.neighborIf, 'lookup', upTable],
    ['pref', String(300 + o.slot), 'lookup', downTable],
  ]
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    for (const r of rules) {
      try {
        ip('-n', o.ns, 'rule', 'del', ...r)
      } catch {
        // never added, or the namespace is gone
      }
    }
    for (const t of [upTable, downTable]) {
      try {
        ip('-n', o.ns, 'route', 'flush', 'table', t)
      } catch {
        // empty or gone
      }
    }
    if (child.exitCode == null && child.signalCode == null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // exited meanwhile
          }
        }, 2_000)
        child.once('exit', () => {
          clearTimeout(t)
          resolve()
        })
        process.kill(pid, 'SIGTERM')
      })
    }
  }

  try {
    const ready = await nextLine('starting the link emulator', 10_000)
    if (ready !== 'ready') throw new LinkEmulatorError(`unexpected helper output: ${ready}`)
    // Packets written back into a TUN arrive from addresses that route elsewhere.
    shIn(
      o.ns,
      [upTun, downTun]
        .map((t) => `ip link set ${t} up && echo 0 > /proc/sys/net/ipv4/conf/${t}/rp_filter`)
        .join('\n'),
    )
    ip('-n', o.ns, 'route', 'add', 'default', 'dev', upTun, 'table', upTable)
    for (const p of o.prefixes)
      ip('-n', o.ns, 'route', 'add', p, 'dev', downTun, 'table', downTable)
    for (const r of rules) ip('-n', o.ns, 'rule', 'add', ...r)
  } catch (err) {
    await stop()
    throw err
  }

  return {
    pid,
    upTun,
    downTun,
    async stats() {
      if (stopped) throw new LinkEmulatorError('the link emulator is stopped')
      const answer = nextLine('link emulator stats', 5_000)
      child.stdin!.write('stats\n')
      return JSON.parse(await answer) as LinkStats
    },
    stop,
  }
}

/**
 * The line between the lab's core and site `i` (a site without a carrier NAT:
 * the core's `s<i>` faces the site's outermost router either way). Stopped
 * with the lab, too.
 */
export async function emulateSiteLink(lab: Lab, i: number, spec: LinkSpec): Promise<EmulatedLink> {
  const site = lab.sites[i]
  if (site == null) throw new LinkSpecError(`the lab has no site ${i}`)
  const prefixes = [`${siteWanAddr(i)}/32`]
  // A routed (NAT `none`) site's LAN is public and routed by the core through its WAN.
  if (site.publicAddr !== siteWanAddr(i)) prefixes.push(`${site.gateway.replace(/\.1$/, '.0')}/24`)
  const link = await emulateLink({
    ns: lab.core,
    neighborIf: `s${i}`,
    prefixes,
    slot: i,
    stem: 'h13c',
    spec,
    spawn: (ns, cmd, args) => lab.spawn(ns, cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }),
  })
  lab.onDestroy(() => void link.stop())
  return link
}

/** Echo round trips from `ns` to `addr` (link-emulator-ping.py): loss and RTTs (ms). */
export interface PingResult {
  transmitted: number
  received: number
  lossPct: number
  minMs: number
  avgMs: number
  maxMs: number
  /** Mean absolute deviation from the average, as ping's mdev. */
  mdevMs: number
}

/** `ping -c count -i intervalS -W 2 addr` from inside `ns`, with our own ICMP echo. */
export function pingFrom(ns: string, addr: string, count: number, intervalS = 0.02): PingResult {
  const r = spawnSync(
    IP,
    [
      'netns',
      'exec',
      ns,
      PYTHON,
      PING,
      '-c',
      String(count),
      '-i',
      String(intervalS),
      '-W',
      '2',
      addr,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  )
  let parsed: { transmitted: number; received: number; rtts: number[] }
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed
  } catch {
    throw new LinkEmulatorError(`ping from ${ns} to ${addr} failed: ${r.stderr || r.error}`)
  }
  const { transmitted, received, rtts } = parsed
  const avg = rtts.reduce((s, x) => s + x, 0) / (rtts.length || 1)
  return {
    transmitted,
    received,
    lossPct: (100 * (transmitted - received)) / transmitted,
    minMs: rtts.length ? Math.min(...rtts) : NaN,
    avgMs: rtts.length ? avg : NaN,
    maxMs: rtts.length ? Math.max(...rtts) : NaN,
    mdevMs: rtts.length ? rtts.reduce((s, x) => s + Math.abs(x - avg), 0) / rtts.length : NaN,
  }
}
