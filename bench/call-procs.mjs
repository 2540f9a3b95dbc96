// bench:call — process helpers: `kaiwa node` children, free ports, and Chromium's
// renderer processes from /proc.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'kaiwa.js')
/** No LAN discovery, TCP on 127.0.0.1, no SIP gateway (test/helpers/cli.ts's LOOPBACK). */
export const LOOPBACK = [
  '--no-mdns',
  '--no-upnp',
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--sip-port',
  '0',
]

const children = new Set()

/** The V8 flags of bin/kaiwa.js's shebang, so a child runs as `npx kaiwa` would. */
function shebangFlags() {
  const first = readFileSync(BIN, 'utf8').split('\n')[0]
  return first.split(/\s+/).filter((a) => a.startsWith('--'))
}

/** Spawn a node script, wait for its one JSON ready line on stdout. */
async function spawnReady(args, env, label, timeoutMs = 60_000) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (err = (err + d).slice(-20_000)))
  const deadline = Date.now() + timeoutMs
  while (!out.includes('\n')) {
    if (child.exitCode != null || child.signalCode != null)
      throw new Error(`${label} exited before its ready line:\n${err}`)
    if (Date.now() > deadline)
      throw new Error(`${label}: no ready line in ${timeoutMs} ms:\n${err}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return { child, ready: JSON.parse(out.slice(0, out.indexOf('\n'))), stderr: () => err }
}

export function spawnKaiwaNode(args, dataHome, label) {
  const env = { ...process.env, KAIWA_DATA: join(dataHome, 'default-data-dir') }
  return spawnReady([...shebangFlags(), BIN, 'node', ...args], env, label)
}

/** SIGTERM every child, SIGKILL what is left after `graceMs`. */
export async function stopChildren(graceMs = 5000) {
  const all = [...children]
  await Promise.all(
    all.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode != null || c.signalCode != null) return resolve()
          const t = setTimeout(() => c.kill('SIGKILL'), graceMs)
          c.once('exit', () => {
            clearTimeout(t)
            resolve()
          })
          c.kill('SIGTERM')
        }),
    ),
  )
}

/** Last resort (process 'exit'): synchronous SIGKILL. */
export function killChildrenNow() {
  for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
}

/** A port free for both TCP and UDP on 127.0.0.1 (TURN takes both). */
export async function freeTcpUdpPort() {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer()
      s.once('error', reject)
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port
        s.close(() => resolve(p))
      })
    })
    const udpOk = await new Promise((resolve) => {
      const u = createSocket('udp4')
      u.once('error', () => resolve(false))
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (udpOk) return port
  }
  throw new Error('no free TCP+UDP port on 127.0.0.1')
}

/** pid -> {ppid, cmd} for every process. */
function processTable() {
  const table = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ')
      table.set(Number(name), {
        ppid: Number(rest[1]),
        cpu: Number(rest[11]) + Number(rest[12]),
        cmd,
      })
    } catch {
      // gone
    }
  }
  return table
}

/** This process and its descendants (the nodes, Chromium and its helpers). */
function ownProcesses(table) {
  const mine = new Set([process.pid])
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, p] of table)
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid)
        grew = true
      }
  }
  return mine
}

/** CPU time used so far by this process and its descendants, in seconds (USER_HZ = 100). */
export function ownCpuSeconds() {
  const table = processTable()
  let ticks = 0
  for (const pid of ownProcesses(table)) ticks += table.get(pid)?.cpu ?? 0
  return ticks / 100
}

/** Chromium renderer processes descending from this process, with their CPU ticks. */
export function rendererProcesses() {
  const table = processTable()
  const mine = ownProcesses(table)
  const out = new Map()
  for (const pid of mine) {
    const p = table.get(pid)
    if (p != null && p.cmd.includes('--type=renderer') && !p.cmd.includes('--extension-process'))
      out.set(pid, p.cpu)
  }
  return out
}

/**
 * How long a process's main thread has run on a CPU and waited, runnable, for
 * one (the run queue), in ms since it started (/proc/PID/schedstat; for Node
 * and a Chromium renderer the main thread is the one running JS).
 */
export function schedstat(pid) {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    return { run: run / 1e6, wait: wait / 1e6 }
  } catch {
    return undefined
  }
}

/** schedstat of `pids` ({ name: pid }) from now; the function returned gives each one's deltas. */
export function schedWindow(pids) {
  const wall0 = performance.now()
  const start = Object.entries(pids).map(([k, pid]) => [k, pid, schedstat(pid)])
  return () => {
    const out = { wall: performance.now() - wall0 }
    for (const [k, pid, a] of start) {
      const b = schedstat(pid)
      if (a != null && b != null) out[k] = { run: b.run - a.run, wait: b.wait - a.wait }
    }
    return out
  }
}

/** RSS and PSS of a process, bytes (smaps_rollup). */
export async function memoryOf(pid) {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
    return { rss: kb('Rss'), pss: kb('Pss') }
  } catch {
    return undefined
  }
}
