#!/usr/bin/env node
// bench:idle — what an idle client `kaiwa node` holds (issue 16 §2): RSS and CPU
// of one client process (`--supernode off`, SIP gateway on, no UI) joined to a
// few in-process supernodes, and where the memory is: process.memoryUsage(),
// V8's heap spaces, RSS per mapping (the heap, node itself, native addons),
// the native libraries loaded, and optionally a heap snapshot summed by
// constructor.
//   npm run bench:idle -- [--supernodes 3] [--settle 15] [--seconds 60] [--snapshot]
//                         [--base-port 0] [--flags "--max-semi-space-size=1"] [--bin bin/kaiwa.js]
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { summariseHeap } from './heap-summary.mjs'
import { cleanup, printTable, progress as named, startNode, tcpAddr } from './lib.mjs'

const { values } = parseArgs({
  options: {
    supernodes: { type: 'string', default: '3' },
    settle: { type: 'string', default: '15' },
    seconds: { type: 'string', default: '60' },
    snapshot: { type: 'boolean', default: false },
    'base-port': { type: 'string', default: '0' },
    // Default: the V8 flags of bin/kaiwa.js's shebang, so the bench measures what ships.
    flags: { type: 'string' },
    'keep-dir': { type: 'boolean', default: false },
    // Another build's entry, e.g. a copy of an older dist/ to compare against.
    bin: { type: 'string', default: 'bin/kaiwa.js' },
  },
})
const progress = named('bench:idle')
const S = Number(values.supernodes)
const base = Number(values['base-port'])
const shebang = (await readFile(values.bin, 'utf8')).split('\n')[0]
const flags = (values.flags ?? shebang.replace(/^#!.*?node\s*/, '')).split(/\s+/).filter(Boolean)
const MB = (b) => `${(b / 1048576).toFixed(1)} MB`

/** A free loopback TCP port (with --base-port 0), else base + i. */
async function port(i) {
  if (base > 0) return base + i
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const p = s.address().port
  await new Promise((r) => s.close(r))
  return p
}

progress(`starting ${S} supernodes`)
const listen = async (i) => [`/ip4/127.0.0.1/tcp/${await port(i)}`]
const sns = [await startNode({ supernode: 'on', listen: await listen(1) })]
for (let i = 1; i < S; i++)
  sns.push(
    await startNode({ supernode: 'on', listen: await listen(1 + i), bootstrap: [tcpAddr(sns[0])] }),
  )
const bootstrap = sns.map(tcpAddr)

const dir = await mkdtemp(join(tmpdir(), 'kaiwa-bench-idle-'))
const probeOut = join(dir, 'probe.json')
const snapFile = join(dir, 'idle.heapsnapshot')
progress(`starting the idle client (node ${flags.join(' ')})`)
const child = spawn(
  process.execPath,
  [
    ...flags,
    '--import',
    './bench/idle-probe.mjs',
    values.bin,
    'node',
    '--data',
    dir,
    '--supernode',
    'off',
    '--no-mdns',
    '--no-upnp',
    '--listen',
    (await listen(20))[0],
    '--sip-port',
    String(await port(21)),
    '--name',
    'bench-idle',
    '--log-level',
    'warn',
    ...bootstrap.flatMap((b) => ['--bootstrap', b]),
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KAIWA_PROBE_OUT: probeOut },
  },
)
const ready = JSON.parse(
  await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d)))
    child.once('exit', (c) => reject(new Error(`idle node exited ${c}`)))
  }),
)
progress(`up (${ready.role}, SIP ${ready.sip ?? 'off'}); settling ${values.settle} s`)
await sleep(Number(values.settle) * 1000)

const proc = async () => {
  const f = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)[1]) * 1024
  return {
    ticks: Number(f[11]) + Number(f[12]),
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
  }
}
progress(`measuring idle CPU and RSS over ${values.seconds} s`)
const a = await proc()
const ta = performance.now()
await sleep(Number(values.seconds) * 1000)
const b = await proc()
const cpu = (((b.ticks - a.ticks) * 10) / (performance.now() - ta)) * 100 // 100 ticks/s

const maps = await mappings(child.pid)
const probe = await askProbe()
let heapRows = []
if (values.snapshot) {
  progress('writing a heap snapshot')
  await askProbe(snapFile)
  const { total, rows } = await summariseHeap(snapFile, 20)
  heapRows = [
    ['heap snapshot: objects in all', MB(total)],
    ...rows.map(([k, v]) => [`  ${k}`, `${MB(v.size)} (${v.count})`]),
  ]
}
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))

const m = probe.memory
const sp = probe.spaces
const timers = probe.resources.reduce((acc, r) => ({ ...acc, [r]: (acc[r] ?? 0) + 1 }), {})
printTable('bench:idle', [
  ['supernodes (in-process) / client', `${S} / 1 process: node ${flags.join(' ')} ${values.bin}`],
  ['idle client RSS', `${MB(b.rss)} (anonymous ${MB(b.anon)}, file-backed ${MB(b.file)})`],
  ['idle client CPU', `${cpu.toFixed(2)} % of one core over ${values.seconds} s`],
  ['V8 heap used / total', `${MB(m.heapUsed)} / ${MB(m.heapTotal)}`],
  [
    '  spaces used: old / code / map / large / new',
    [sp.old_space, sp.code_space, sp.map_space ?? 0, sp.large_object_space, sp.new_space]
      .map(MB)
      .join(' / '),
  ],
  ['external (of it arrayBuffers)', `${MB(m.external)} (${MB(m.arrayBuffers)})`],
  ...maps.rows.map(([k, v]) => [`RSS in ${k}`, MB(v)]),
  ['native libraries loaded', maps.libs.join(', ') || 'none beyond node'],
  [
    'active handles',
    Object.entries(timers)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ],
  ...heapRows,
])

await cleanup(sns)
if (!values['keep-dir']) await rm(dir, { recursive: true, force: true })
else progress(`kept ${dir}`)
process.exit(0)

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

/** Sends SIGUSR2 to the probe and reads what it wrote. */
async function askProbe(snapshot) {
  await rm(probeOut, { force: true })
  if (snapshot != null) await writeFile(`${probeOut}.snapshot`, snapshot)
  child.kill('SIGUSR2')
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const text = await readFile(probeOut, 'utf8').catch(() => '')
    if (text.endsWith('\n')) return JSON.parse(text)
    await sleep(200)
  }
  throw new Error('the idle client did not answer the probe')
}

/** RSS by mapping: the anonymous heap, node's binary, each native library. */
async function mappings(pid) {
  const text = await readFile(`/proc/${pid}/smaps`, 'utf8')
  const sums = new Map()
  let name = ''
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head) name = head[1] === '' ? '[anonymous]' : head[1]
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss) {
      const key = name.startsWith('/') ? name.split('/').pop() : name
      sums.set(key, (sums.get(key) ?? 0) + Number(rss[1]) * 1024)
    }
  }
  const libs = [...sums.keys()].filter((k) => /\.node$/.test(k))
  const rows = [...sums.entries()].sort((x, y) => y[1] - x[1]).filter(([, v]) => v >= 512 * 1024)
  return { rows, libs }
}
