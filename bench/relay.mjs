#!/usr/bin/env node
// bench:relay — TURN relaying at Opus rate, our server (src/overlay/turn/) against coturn.
//   N concurrent streams, each one TURN allocation sending a 172-byte payload every 20 ms as
//   ChannelData to a peer socket that echoes it back through the relay (so 100 packets/s per
//   stream cross the server, 50 each way). N steps up until the loss reaches 0.5%. For each
//   step: loss, server CPU (from /proc/<pid>/task/*/schedstat of the server process: ours runs
//   alone in bench/relay-server.mjs) per stream and per relayed packet, one-way latency through
//   the relay (p50/p99, send time in the payload). The load is spread over forked children
//   (bench/relay-load.mjs), whose data plane is a small C program (bench/relay-load-c.mjs,
//   built with cc on first use; `--generator node` runs it in Node, which on a 2-core machine
//   saturates before the servers do). Their CPU is shown so a saturated generator is visible.
//   npm run bench:relay -- [--steps 100,250,500,750,1000,1500,2000,3000] [--seconds 5]
//                          [--procs 2] [--servers ours,multi,coturn] [--threads N]
//                          [--generator c|node] [--profile DIR] [--all-steps] [--baseline DIST]
//   --relay-ports LO-HI: the relay ports, coturn's the lower half and ours the upper (default
//   coturn 10000-19999, ours 20000-29999).
//   "ours" relays on one thread (--turn-workers 1); "multi" on --threads relay threads sharing
//   the port with SO_REUSEPORT (turn-cluster.ts; default: the cores, as `kaiwa node` does).
//   The host's load average (/proc/loadavg) is printed with every step: on a shared machine
//   other work skews the figures.
//   --baseline DIST adds a server "base": the turn-server.js of another build (say, of the
//   previous commit) under the same load, to measure a change before and after.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { childrenOf, cpuNs, freePort, hostBusy, kernelDrops } from './relay-host.mjs'
import { buildLoadGenerator } from './relay-load-c.mjs'
import { startCoturn, startOurs } from './relay-servers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100,250,500,750,1000,1500,2000,3000' },
    seconds: { type: 'string', default: '5' },
    warm: { type: 'string', default: '1' },
    procs: { type: 'string', default: String(Math.max(2, cpus().length)) },
    servers: { type: 'string', default: 'ours,multi,coturn' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'relay-ports': { type: 'string', default: '10000-29999' },
    profile: { type: 'string' },
    generator: { type: 'string', default: 'c' },
    baseline: { type: 'string' },
    'all-steps': { type: 'boolean', default: false },
  },
})
const STEPS = values.steps.split(',').map(Number)
const MEASURE_MS = Number(values.seconds) * 1000
const WARM_MS = Number(values.warm) * 1000
const PROCS = Number(values.procs)
const [RELAY_LO, RELAY_HI] = values['relay-ports'].split('-').map(Number)
const RELAY_MID = Math.floor((RELAY_LO + RELAY_HI) / 2)
const SECRET = randomBytes(16).toString('hex')
const REALM = 'kaiwa'
const LOSS_GOAL = 0.005
const say = (m) => process.stderr.write(`bench:relay ${m}\n`)
const kids = new Set()
process.on('exit', () => {
  for (const k of kids) k.kill('SIGKILL')
})
process.on('SIGINT', () => process.exit(130))

const wait = (ms) => new Promise((r) => setTimeout(r, ms))

/** Forked load generators, each with its peer socket and its share of the streams. */
async function startLoad(serverPort, binary) {
  const children = []
  for (let i = 0; i < PROCS; i++) {
    const c = fork(join(here, 'relay-load.mjs'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    kids.add(c)
    const ask = (msg, type) =>
      new Promise((resolve, reject) => {
        const on = (m) => {
          if (m.type === 'error') reject(new Error(m.error))
          else if (m.type === type) resolve(m)
          else return
          c.off('message', on)
        }
        c.on('message', on)
        c.send(msg)
      })
    const init = { type: 'init', child: i, serverPort, secret: SECRET, realm: REALM, binary }
    await ask(init, 'ready')
    children.push({ pid: c.pid, ask, proc: c })
  }
  return {
    children,
    stop: () => {
      for (const c of children) {
        c.proc.send({ type: 'close' })
        kids.delete(c.proc)
      }
    },
  }
}

function percentile(hist, p) {
  const total = hist.reduce((a, b) => a + b, 0)
  if (total === 0) return undefined
  let acc = 0
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]
    if (acc >= total * p) return (i + 0.5) * 0.01 // ms (10 µs buckets)
  }
  return undefined
}

async function measureStep(server, load, n) {
  const share = (i) => Math.floor(n / PROCS) + (i < n % PROCS ? 1 : 0)
  const grown = await Promise.all(
    load.children.map((c, i) => c.ask({ type: 'grow', count: share(i) }, 'grown')),
  )
  const failed = grown.reduce((a, g) => a + g.failed, 0)
  if (failed > 0)
    say(`  ${failed} allocations failed (${grown.find((g) => g.lastError)?.lastError})`)
  const streams = grown.reduce((a, g) => a + g.streams, 0)
  // Time for the children to hand their ports to the C data plane before the first packet.
  const t0 = process.hrtime.bigint() + 1_000_000_000n
  const run = {
    type: 'run',
    t0: t0.toString(),
    warmMs: WARM_MS,
    measureMs: MEASURE_MS,
    drainMs: 600,
  }
  const results = Promise.all(load.children.map((c) => c.ask(run, 'result')))
  const until = (ms) => wait(Math.max(0, Number(t0 - process.hrtime.bigint()) / 1e6 + ms))
  await until(WARM_MS)
  // Each generator: the Node child and its C data plane, if any.
  const gens = load.children.map((c) => [c.pid, ...childrenOf(c.pid)])
  const tree = (pids) => pids.reduce((a, p) => a + cpuNs(p), 0)
  const pids = [[server.pid], ...gens]
  const before = pids.map(tree)
  const hostBefore = hostBusy()
  const dropsBefore = kernelDrops(server.port, server.relayRange)
  const tA = process.hrtime.bigint()
  await until(WARM_MS + MEASURE_MS)
  const after = pids.map(tree)
  const hostAfter = hostBusy()
  const windowNs = Number(process.hrtime.bigint() - tA)
  const rs = await results
  const dropsAfter = kernelDrops(server.port, server.relayRange)
  const kdrops = Object.fromEntries(
    Object.entries(dropsAfter).map(([k, v]) => [k, Math.max(0, v - dropsBefore[k])]),
  )
  const hostTicks = hostAfter.total - hostBefore.total
  const hostCpu =
    hostTicks > 0 ? (1 - (hostAfter.idle - hostBefore.idle) / hostTicks) * cpus().length : 0
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0)
  const merge = (k) => {
    const h = new Array(20_000).fill(0)
    for (const r of rs) for (const [i, c] of r[k]) h[i] += c
    return h
  }
  const sent = sum('sentUp') + sum('sentDown')
  const received = sum('recvUp') + sum('recvDown')
  const lat = merge('histUp').map((c, i) => c + merge('histDown')[i])
  const serverCpu = (after[0] - before[0]) / windowNs
  const genCpu = after.slice(1).map((a, i) => (a - before[i + 1]) / windowNs)
  return {
    streams,
    failed,
    loss: sent === 0 ? 1 : (sent - received) / sent,
    pps: (received / MEASURE_MS) * 1000,
    serverCpu,
    cpuPerStream: serverCpu / streams,
    usPerPacket: received === 0 ? Infinity : (serverCpu * MEASURE_MS * 1000) / received,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    genCpuMax: Math.max(...genCpu),
    genCpu: genCpu.reduce((a, b) => a + b, 0),
    sendErrors: sum('sendErrors'),
    hostCpu,
    kdrops,
    maxLagMs: Math.max(...rs.map((r) => r.maxLagMs)),
    load: loadavg()[0],
  }
}

async function benchServer(name, binary) {
  const port = await freePort()
  const common = { port, secret: SECRET, realm: REALM, kids }
  const server =
    name === 'coturn'
      ? await startCoturn({ ...common, relayRange: [RELAY_LO, RELAY_MID] })
      : await startOurs({
          ...common,
          relayRange: [RELAY_MID + 1, RELAY_HI],
          module: name === 'base' ? baselineModule() : undefined,
          profile: values.profile,
          threads: name === 'multi' ? Number(values.threads) : 1,
        })
  say(
    `${name}: listening on 127.0.0.1:${port} (pid ${server.pid}); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  const load = await startLoad(port, binary)
  const rows = []
  try {
    for (const n of STEPS) {
      const r = await measureStep(server, load, n)
      rows.push({ name, ...r })
      say(`${name}: ${line(rows.at(-1))}`)
      if (r.sendErrors) say(`${name}:   the load generators failed to send ${r.sendErrors} packets`)
      if (!values['all-steps'] && (r.loss >= LOSS_GOAL || r.failed > 0)) break
    }
    const st = await server.stats()
    if (st) say(`${name}: server stats ${JSON.stringify(st)}`)
  } finally {
    load.stop()
    await server.stop()
  }
  return rows
}

const f = (x, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d))
/** Other processes took a noticeable share of the host during the step. */
const busyElsewhere = (r) => r.hostCpu - r.serverCpu - r.genCpu > 0.3
const line = (r) =>
  [
    r.name.padEnd(6),
    String(r.streams).padStart(6),
    `${f(r.loss * 100, 2)}%`.padStart(7),
    f(r.pps, 0).padStart(8),
    `${f(r.serverCpu * 100)}%`.padStart(7),
    `${f(r.cpuPerStream * 100, 3)}%`.padStart(9),
    f(r.usPerPacket, 2).padStart(8),
    f(r.p50, 2).padStart(7),
    f(r.p99, 2).padStart(7),
    `${f(r.genCpuMax * 100, 0)}%`.padStart(6),
    f(r.maxLagMs, 0).padStart(5),
    `${f(r.hostCpu * 100, 0)}%`.padStart(5),
    `${r.kdrops.listen}/${r.kdrops.relay}/${r.kdrops.load}`.padStart(14),
    f(r.load, 2).padStart(5),
  ].join(' ') + (busyElsewhere(r) ? ' *' : '')
const HEADER =
  'server  streams    loss  pkts/s    CPU  CPU/strm  µs/pkt  p50 ms  p99 ms   gen  lag  host  kdrop l/r/g  load'

function baselineModule() {
  if (!values.baseline) throw new Error('--servers base needs --baseline DIST')
  return join(values.baseline, 'overlay/turn/turn-server.js')
}

// Other work on the host skews every figure: say how busy it is before we start.
{
  const a = hostBusy()
  await wait(1000)
  const b = hostBusy()
  const busy = (1 - (b.idle - a.idle) / (b.total - a.total)) * cpus().length
  if (busy > 0.2) say(`the host is already busy: ${(busy * 100).toFixed(0)}% of one core in use`)
}
const binary = values.generator === 'c' ? await buildLoadGenerator() : undefined
if (!binary) say('load generator: Node (it may saturate before the servers do)')
const SERVERS = values.servers.split(',')
if (values.baseline && !SERVERS.includes('base')) SERVERS.unshift('base')
const loadAtStart = loadavg()
const all = []
for (const name of SERVERS) all.push(...(await benchServer(name, binary)))
const loads = (l) => l.map((x) => x.toFixed(2)).join(' ')

const machine = `${cpus().length}× ${cpus()[0]?.model ?? '?'}`
console.log(`\nbench:relay (${new Date().toISOString()}, Node ${process.version}, ${machine})`)
console.log(
  [
    `  ${PROCS} load processes (${binary ? 'C' : 'Node'} data plane); ${MEASURE_MS / 1000} s ` +
      `measured per step after ${WARM_MS / 1000} s of warm-up; streams of 172 B every 20 ms ` +
      'each way (100 packets/s per stream through the server)',
    '  CPU: the server process, % of one core; µs/pkt: its CPU per relayed packet; p50/p99: one-way',
    '  latency through the relay; gen: busiest load generator; lag: its worst send delay (ms);',
    '  host: CPU busy on the whole host (100% per core, other users included); kdrop: datagrams',
    '  the kernel dropped for full receive buffers at the listen socket / relays / generators;',
    "  load: the host's 1-minute load average at the end of the step",
    `  multi: ${values.threads} relay threads sharing the port; load average (1/5/15 min) at ` +
      `start ${loads(loadAtStart)}, at the end ${loads(loadavg())}`,
  ].join('\n'),
)
console.log(`  ${HEADER}`)
for (const r of all) console.log(`  ${line(r)}`)
const best = (name) => {
  const ok = all.filter((r) => r.name === name && r.loss < LOSS_GOAL && r.failed === 0)
  return ok.at(-1)
}
for (const name of SERVERS) {
  console.log(`  ${name}: most streams with < 0.5% loss: ${best(name)?.streams ?? 'none'}`)
}
/** CPU per packet of `a` over `b` at each step both ran, and their best stream counts. */
function compare(a, b) {
  const ratios = all
    .filter((r) => r.name === a)
    .map((r) => [r, all.find((x) => x.name === b && x.streams === r.streams)])
    .filter(([r, x]) => x && Number.isFinite(r.usPerPacket) && Number.isFinite(x.usPerPacket))
    .map(([r, x]) => `${r.streams}: ${f(r.usPerPacket / x.usPerPacket, 2)}×`)
  if (ratios.length) console.log(`  ${a}/${b} CPU per packet, by streams: ${ratios.join(', ')}`)
  const [ba, bb] = [best(a), best(b)]
  if (ba && bb)
    console.log(`  ${a}/${b} most streams with < 0.5% loss: ${f(ba.streams / bb.streams, 2)}×`)
}
if (SERVERS.includes('ours') && SERVERS.includes('coturn')) compare('ours', 'coturn')
if (SERVERS.includes('multi') && SERVERS.includes('coturn')) compare('multi', 'coturn')
if (SERVERS.includes('multi') && SERVERS.includes('ours')) compare('multi', 'ours')
if (SERVERS.includes('ours') && SERVERS.includes('base')) compare('ours', 'base')
if (all.some(busyElsewhere)) {
  console.log('  * other processes on the host used more than 30% of a core during that step')
}
process.exit(0)
