// bench:sip, part 2: MESSAGE throughput end to end, driven by sipp with a rate
// ramp. Kaiwa: sipp (alice's phone) → node A's gateway → overlay → node B's
// gateway → sipp (bob's phone). Reference, same run, same sipp scenarios: a
// kamailio registrar + proxy on loopback, when kamailio is installed.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pct } from './lib.mjs'

const ROOT = join(import.meta.dirname, '..')
const SIPP = join(ROOT, 'bench/sipp')
const children = []

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function killAll() {
  for (const c of children) {
    try {
      // Detached children lead their own process group: kamailio forks workers.
      if (c.spawnargs[0] === 'kamailio') {
        // kamailio forks workers that outlive a killed main process: end the
        // whole group, and anything still running our generated config.
        try {
          process.kill(-c.pid, 'SIGKILL')
        } finally {
          execFileSync('pkill', ['-f', c.spawnargs[2]], { stdio: 'ignore' })
        }
      } else {
        // To profile the nodes: KAIWA_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"
        // KAIWA_BENCH_SIGNAL=SIGINT lets them stop cleanly and write the profile.
        c.kill(process.env.KAIWA_BENCH_SIGNAL ?? 'SIGKILL')
      }
    } catch {
      // already gone
    }
  }
}

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.stderr.on('data', (d) => (out += d))
    c.once('exit', (code) => resolve({ code, out }))
  })
}

async function kaiwaNode(dataDir, args) {
  const child = spawn(
    process.execPath,
    [
      // Measured like a server runs it: the default V8 young generation (the
      // CLI shebang's 1 MiB one suits idle clients, not a loaded node).
      ...(process.env.KAIWA_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      // KAIWA_BENCH_ENTRY: another build's entry script, for a before/after comparison.
      process.env.KAIWA_BENCH_ENTRY ?? 'bin/kaiwa.js',
      'node',
      '--data',
      dataDir,
      '--no-mdns',
      '--no-upnp',
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--log-level',
      'warn',
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`kaiwa node exited ${code}`)))
    createInterface({ input: child.stdout }).once('line', (l) =>
      resolve({ ...JSON.parse(l), pid: child.pid }),
    )
  })
}

/** Start sipp as bob's phone on `port` (after registering it) and leave it running. */
async function startUas(port, registerArgs) {
  let reg
  // The registrar may still be starting (kamailio allocates its shared memory first).
  for (let attempt = 0; attempt < 10; attempt++) {
    reg = await run('sipp', [
      ...registerArgs,
      '-key',
      'contact_port',
      String(port),
      '-i',
      '127.0.0.1',
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      '3s',
      '-timeout_error',
    ])
    if (reg.code === 0) break
    await new Promise((r) => setTimeout(r, 500))
  }
  if (reg.code !== 0)
    throw new Error(`sipp REGISTER failed (${reg.code}): ${reg.out.slice(0, 600)}`)
  const uas = spawn(
    'sipp',
    [
      '-sf',
      join(SIPP, 'message-uas.xml'),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-nostdin',
      '-buff_size',
      '4194304',
    ],
    { stdio: 'ignore' },
  )
  children.push(uas)
  await new Promise((r) => setTimeout(r, 300))
  return uas
}

/** CPU ms (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
async function cpuMs(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return NaN
  }
}

/**
 * One step of the ramp: `rate` MESSAGE/s for `seconds`. With `pids`, also the
 * CPU each of those processes used per message that succeeded (µs), which
 * stays meaningful when other work shares the cores and the wall clock does not.
 */
async function step(uacArgs, rate, seconds, work, pids = []) {
  const cpu0 = await Promise.all(pids.map(cpuMs))
  const r = await run(
    'sipp',
    [
      ...uacArgs,
      '-i',
      '127.0.0.1',
      '-r',
      String(rate),
      '-m',
      String(rate * seconds),
      '-l',
      String(rate * 10),
      '-nostdin',
      '-timeout',
      `${seconds + 30}s`,
      '-buff_size',
      '4194304',
      '-trace_rtt',
      '-rtt_freq',
      '1',
    ],
    work,
  )
  const num = (label) =>
    Number(new RegExp(`${label}\\s*\\|[^|]*\\|\\s*(\\d+)`).exec(r.out)?.[1] ?? NaN)
  const rtts = []
  for (const f of await readdir(work)) {
    if (!f.endsWith('_rtt.csv')) continue
    const text = await readFile(join(work, f), 'utf8')
    for (const line of text.split('\n').slice(1)) {
      const v = Number(line.split(';')[1])
      if (line !== '' && Number.isFinite(v)) rtts.push(v)
    }
    await rm(join(work, f))
  }
  const ok = num('Successful call')
  const failed = num('Failed call')
  const cpu1 = await Promise.all(pids.map(cpuMs))
  return {
    rate,
    ok,
    failed,
    cpuUsPerMessage: pids.map((_, i) => Math.round(((cpu1[i] - cpu0[i]) * 1000) / ok)),
    clean: r.code === 0 && failed === 0,
    p50: pct(rtts, 50),
    p99: pct(rtts, 99),
  }
}

async function ramp(label, uacArgs, rates, seconds, work, say, pids = []) {
  const steps = []
  for (const rate of rates) {
    const s = await step(uacArgs, rate, seconds, work, pids)
    const cpu = pids.length > 0 ? `, CPU per message ${s.cpuUsPerMessage.join(' + ')} µs` : ''
    say(
      `${label} ${rate}/s: ${s.ok} ok, ${s.failed} failed, p50 ${s.p50} ms, p99 ${s.p99} ms${cpu}`,
    )
    steps.push(s)
    if (!s.clean) break
  }
  const best = steps.filter((s) => s.clean).at(-1)
  return { steps, best }
}

/**
 * Every UDP port the MESSAGE part uses is `portBase` plus a fixed offset
 * (+0..+1 alice, +10..+12 bob, +20..+23 kamailio), so a run can be given a
 * range no one else on the machine uses (`--port-base`).
 */
export async function messageBench({ rates, seconds, say, portBase = 15160, reference = true }) {
  const port = (offset) => String(portBase + offset)
  if (!has('sipp')) throw new Error('sipp is not installed: apt-get install sip-tester')
  const work = await mkdtemp(join(tmpdir(), 'kaiwa-bench-sipp-'))
  const results = {}
  try {
    // Kaiwa: a supernode, alice's node A and bob's node B, each with a gateway.
    const pw = 'bench-secret'
    const sn = await kaiwaNode(join(work, 'sn'), [
      '--supernode',
      'on',
      '--sip-port',
      '0',
      '--turn-port',
      '0',
    ])
    const boot = sn.addrs.find((a) => !a.includes('p2p-circuit'))
    const common = ['--supernode', 'off', '--bootstrap', boot, '--sip-password', pw]
    const a = await kaiwaNode(join(work, 'a'), [
      ...common,
      '--name',
      'alice',
      '--sip-port',
      port(0),
    ])
    const b = await kaiwaNode(join(work, 'b'), [...common, '--name', 'bob', '--sip-port', port(10)])
    await startUas(portBase + 11, [
      `127.0.0.1:${port(10)}`,
      '-sf',
      join(ROOT, 'test/fixtures/sipp/register.xml'),
      '-s',
      'bob',
      '-au',
      'bob',
      '-ap',
      pw,
      '-key',
      'expires',
      '3600',
      '-p',
      port(12),
    ])
    const kaiwaUac = [
      `127.0.0.1:${port(0)}`,
      '-sf',
      join(SIPP, 'message-uac-auth.xml'),
      '-s',
      'bob',
      '-au',
      'alice',
      '-ap',
      pw,
      '-p',
      port(1),
    ]
    // Warm up (JIT, heap, caches, the open link) and discard: the ramp measures
    // steady state. A fresh node may still be minting its first claim's proof
    // of work (seconds of CPU) or retrying its first publish, so warm up until a
    // warm-up step runs clean and unqueued (each one is printed).
    for (let i = 1; i <= 4; i++) {
      const w = await step(kaiwaUac, 1000, 5, work, [a.pid, b.pid])
      say(
        `kaiwa warm-up ${i} at 1000/s: ${w.failed} failed, p50 ${w.p50} ms, p99 ${w.p99} ms, ` +
          `CPU per message ${w.cpuUsPerMessage.join(' + ')} µs (node A + node B)`,
      )
      if (w.clean && w.p50 <= 100) break
    }
    // CPU per message of node A (alice's gateway, signs) and node B (bob's, verifies).
    results.kaiwa = await ramp('kaiwa', kaiwaUac, rates, seconds, work, say, [a.pid, b.pid])
    killAll()
    children.length = 0

    if (reference && has('kamailio')) {
      const mpath = [
        '/usr/lib/x86_64-linux-gnu/kamailio/modules/',
        '/usr/lib/kamailio/modules/',
      ].find((p) => {
        try {
          execFileSync('test', ['-d', p])
          return true
        } catch {
          return false
        }
      })
      const cfg = (await readFile(join(ROOT, 'bench/kamailio/kamailio.cfg.in'), 'utf8'))
        .replaceAll('@PORT@', port(20))
        .replaceAll('@MPATH@', mpath ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules/')
      await writeFile(join(work, 'kamailio.cfg'), cfg)
      const kam = spawn(
        'kamailio',
        [
          '-f',
          join(work, 'kamailio.cfg'),
          '-P',
          join(work, 'kam.pid'),
          '-DD',
          '-E',
          '-m',
          '512',
          '-M',
          '64',
        ],
        { stdio: 'ignore', detached: true },
      )
      children.push(kam)
      await new Promise((r) => setTimeout(r, 1000))
      await startUas(portBase + 21, [
        `127.0.0.1:${port(20)}`,
        '-sf',
        join(SIPP, 'register-plain.xml'),
        '-s',
        'bob',
        '-p',
        port(22),
      ])
      const kamUac = [
        `127.0.0.1:${port(20)}`,
        '-sf',
        join(SIPP, 'message-uac-plain.xml'),
        '-s',
        'bob',
        '-p',
        port(23),
      ]
      await step(kamUac, 1000, 5, work)
      results.kamailio = await ramp('kamailio', kamUac, rates, seconds, work, say)
    }
  } finally {
    killAll()
    await rm(work, { recursive: true, force: true })
  }
  return results
}
