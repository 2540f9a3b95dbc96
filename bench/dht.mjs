#!/usr/bin/env node
// bench:dht — claim/publish and lookup latency on an N-node loopback overlay,
// against the stock kad-dht get (wait for the whole query) and the quorum DHT
// walk that lookups used before one-hop routing (issue 16 §5), on the same
// nodes, plus RSS and idle CPU of a separate idle client process.
//   npm run bench:dht -- [--nodes 30] [--supernodes 3] [--lookups 600]
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { userRecordKey } from '../dist/shared/records/dht-key.js'
import { quorumRead } from '../dist/overlay/names/quorum-read.js'
import { cleanup, ms, pct, startOverlay } from './lib.mjs'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '30' },
    supernodes: { type: 'string', default: '3' },
    lookups: { type: 'string', default: '600' },
    'idle-seconds': { type: 'string', default: '20' },
  },
})
const N = Number(values.nodes)
const S = Number(values.supernodes)
const L = Number(values.lookups)
const IDLE_S = Number(values['idle-seconds'])
const progress = (m) => process.stderr.write(`bench:dht ${m}\n`)

const loadAtStart = loadavg()
progress(`starting ${S} supernodes and ${N - S} clients`)
const { all, bootstrap } = await startOverlay(N, S, progress)

progress('claiming a name on every node')
const claim = []
for (const [i, n] of all.entries()) {
  const t = performance.now()
  await n.claim(`bench-${i}`)
  claim.push(performance.now() - t)
}

progress(`${L} lookups (early stop, no cache) and the same ${L} with the stock full get`)
const fast = []
const stock = []
const walk = []
const hops = []
let fastOk = 0
let stockOk = 0
let walkOk = 0
let oneHop = 0
for (let k = 0; k < L; k++) {
  const from = all[(k * 7 + 3) % all.length]
  let j = (k * 13 + 5) % all.length
  if (all[j] === from) j = (j + 1) % all.length
  const name = `bench-${j}`
  let t = performance.now()
  const r = await from.directory.lookup(name, { cache: false })
  fast.push(performance.now() - t)
  if (r?.record.name === name) fastOk++
  if (r?.via === 'one-hop') oneHop++
  hops.push(r?.source === 'local' ? 0 : (r?.responses ?? 0))
  // Reference: the quorum DHT walk, as lookups ran before one-hop routing.
  t = performance.now()
  const q = await quorumRead(
    from.libp2p().services.dht,
    userRecordKey(name),
    {},
    { signal: AbortSignal.timeout(10_000), early: true },
  )
  walk.push(performance.now() - t)
  if (q.responders.length > 0) walkOk++
  // Reference: kad-dht's own get, which waits for the whole query.
  t = performance.now()
  let got
  for await (const ev of from
    .libp2p()
    .services.dht.get(userRecordKey(name), { signal: AbortSignal.timeout(10_000) })) {
    if (ev.name === 'VALUE') got = ev.value
  }
  stock.push(performance.now() - t)
  if (got != null) stockOk++
}

progress(`measuring memory and idle CPU (${IDLE_S} s)`)
globalThis.gc?.()
const rssAll = process.memoryUsage().rss
const cpu0 = process.cpuUsage()
const t0 = performance.now()
await new Promise((r) => setTimeout(r, IDLE_S * 1000))
const cpu1 = process.cpuUsage(cpu0)
const inProcCpu = ((cpu1.user + cpu1.system) / 1000 / (performance.now() - t0)) * 100

// One idle client in its own process: the footprint a user's node has.
const idleDir = await mkdtemp(join(tmpdir(), 'kaiwa-bench-idle-'))
const child = spawn(
  process.execPath,
  [
    '--max-semi-space-size=1',
    'bin/kaiwa.js',
    'node',
    '--data',
    idleDir,
    '--supernode',
    'off',
    '--no-mdns',
    '--no-upnp',
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--name',
    'bench-idle',
    '--log-level',
    'warn',
    ...bootstrap.flatMap((b) => ['--bootstrap', b]),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
await new Promise((resolve, reject) => {
  child.stdout.once('data', resolve)
  child.once('exit', (c) => reject(new Error(`idle node exited ${c}`)))
})
// Let start-up settle (claim, reservation, republish, mail check) before measuring idle.
await new Promise((r) => setTimeout(r, 15_000))
const stat = async () => {
  const f = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
  return { ticks: Number(f[11]) + Number(f[12]), rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) }
}
const a = await stat()
const ta = performance.now()
await new Promise((r) => setTimeout(r, IDLE_S * 1000))
const b = await stat()
const idleCpu = (((b.ticks - a.ticks) * 10) / (performance.now() - ta)) * 100 // 100 ticks/s
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))

const rows = [
  ['nodes / supernodes', `${N} / ${S}`],
  ['claim + publish p50 / p95', `${ms(pct(claim, 50))} / ${ms(pct(claim, 95))}`],
  ['lookup p50 / p95 / p99', `${ms(pct(fast, 50))} / ${ms(pct(fast, 95))} / ${ms(pct(fast, 99))}`],
  ['lookup success', `${((fastOk / L) * 100).toFixed(1)}% (${fastOk}/${L})`],
  ['lookups answered in one hop', `${oneHop}/${L}`],
  ['lookup DHT responses used (mean)', (hops.reduce((x, y) => x + y, 0) / L).toFixed(2)],
  [
    'reference: stock kad-dht get p50 / p95 / p99',
    `${ms(pct(stock, 50))} / ${ms(pct(stock, 95))} / ${ms(pct(stock, 99))}`,
  ],
  ['reference: stock get success', `${((stockOk / L) * 100).toFixed(1)}%`],
  [
    'reference: quorum DHT walk p50 / p95 / p99',
    `${ms(pct(walk, 50))} / ${ms(pct(walk, 95))} / ${ms(pct(walk, 99))}`,
  ],
  ['reference: quorum walk success', `${((walkOk / L) * 100).toFixed(1)}%`],
  ['speed-up at p50 (stock / ours)', `${(pct(stock, 50) / pct(fast, 50)).toFixed(1)}x`],
  [
    'in-process RSS per node',
    `${(rssAll / N / 1048576).toFixed(1)} MB (${(rssAll / 1048576).toFixed(0)} MB / ${N})`,
  ],
  ['in-process idle CPU per node', `${(inProcCpu / N).toFixed(2)}% of one core`],
  ['idle client process RSS', `${(b.rssKb / 1024).toFixed(1)} MB`],
  ['idle client process CPU', `${idleCpu.toFixed(2)}% of one core`],
  [
    'load average 1/5/15 min (start; end)',
    `${loadAtStart.map((x) => x.toFixed(2)).join(' ')}; ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  ],
]
const w = Math.max(...rows.map((r) => r[0].length))
console.log(`\nbench:dht (${new Date().toISOString()}, Node ${process.version})`)
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`)

await cleanup(all)
await rm(idleDir, { recursive: true, force: true })
process.exit(0)
