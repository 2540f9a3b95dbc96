#!/usr/bin/env node
// bench:scale — an overlay of N real Kaiwa nodes (issue 16 §4) on this machine,
// in several processes (bench/scale-worker.mjs, ~50 nodes each, the same
// startKaiwaNode composition as bench:dht). Every node claims a name and looks
// others up. Reports lookup p50 / p99 / success against the stock kad-dht get
// on the same nodes, then the loss of 30 % of the supernodes at once (their
// processes killed, or frozen with --loss freeze) and lookup success per 5 s
// over the next 30 s, and memory and CPU per node.
//   npm run bench:scale -- [--nodes 500] [--supernodes 10] [--per-process 50]
import { fork } from 'node:child_process'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ms, pct, printTable } from './lib.mjs'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '500' },
    supernodes: { type: 'string' },
    'per-process': { type: 'string', default: '50' },
    'sn-per-process': { type: 'string', default: '1' },
    lookups: { type: 'string', default: '2' },
    'bootstrap-per-client': { type: 'string', default: '0' },
    loss: { type: 'string', default: 'kill' },
    'loss-fraction': { type: 'string', default: '0.3' },
    'churn-seconds': { type: 'string', default: '30' },
    'idle-seconds': { type: 'string', default: '20' },
    stock: { type: 'string', default: 'on' },
    seed: { type: 'string', default: '1' },
  },
})
const N = Number(values.nodes)
const S = Number(values.supernodes ?? Math.max(10, Math.round(N * 0.02)))
const PER = Number(values['per-process'])
const SN_PER = Number(values['sn-per-process'])
const L = Number(values.lookups)
const BOOT = Number(values['bootstrap-per-client']) || S // 0: every supernode
const CHURN_S = Number(values['churn-seconds'])
const IDLE_S = Number(values['idle-seconds'])
const LOSS = values.loss
if (!(N > S && S >= 1 && PER >= 1 && SN_PER >= 1) || !['kill', 'freeze'].includes(LOSS)) {
  console.error(
    'bench:scale: need --nodes > --supernodes >= 1, --per-process >= 1, --loss kill|freeze',
  )
  process.exit(2)
}
const t0 = performance.now()
const say = (m) =>
  process.stderr.write(`bench:scale [${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')
let seed = Number(values.seed) >>> 0
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32
const pick = (xs, k) => [...xs].sort(() => rand() - 0.5).slice(0, k)

// ---- the worker processes, and their end whatever happens --------------------
const WORKER = new URL('./scale-worker.mjs', import.meta.url).pathname
const dataRoot = await mkdtemp(join(tmpdir(), 'kaiwa-scale-'))
const logDir = await mkdtemp(join(tmpdir(), 'kaiwa-scale-logs-'))
const workers = []

function killAll() {
  for (const w of workers) {
    if (w.exited) continue
    try {
      process.kill(w.child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    say(`${sig}: killing ${workers.length} worker processes`)
    killAll()
    rm(dataRoot, { recursive: true, force: true }).finally(() => process.exit(130))
  })

async function spawnWorker(role, k) {
  const log = await open(join(logDir, `${role}-${k}.log`), 'w')
  const child = fork(WORKER, [], {
    // SCALE_DEBUG: a DEBUG pattern (libp2p's logger) for the supernode processes only.
    env: {
      ...process.env,
      TMPDIR: dataRoot,
      ...(role === 'supernode' && process.env.SCALE_DEBUG
        ? { DEBUG: process.env.SCALE_DEBUG }
        : {}),
    },
    stdio: ['ignore', log.fd, log.fd, 'ipc'],
  })
  const w = { role, k, child, pending: new Map(), next: 0, exited: false, names: [], up: 0 }
  workers.push(w)
  child.on('message', (m) => {
    if (m.op === 'progress') w.up = m.up
    const p = m.id != null && w.pending.get(m.id)
    if (!p) return
    w.pending.delete(m.id)
    if (m.error != null) p.reject(new Error(`${role} worker ${k}: ${m.error}`))
    else p.resolve(m.result)
  })
  child.on('exit', (code, signal) => {
    w.exited = true
    log.close().catch(() => undefined)
    for (const p of w.pending.values())
      p.reject(new Error(`${role} worker ${k} exited (${code ?? signal})`))
    w.pending.clear()
  })
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', () => reject(new Error(`${role} worker ${k} did not start`)))
  })
  w.call = (op, args) =>
    new Promise((resolve, reject) => {
      if (w.exited) return reject(new Error(`${role} worker ${k} is gone`))
      const id = w.next++
      w.pending.set(id, { resolve, reject })
      w.child.send({ id, op, args })
    })
  return w
}

async function procStat(pid) {
  const { readFile } = await import('node:fs/promises')
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return { ticks: Number(f[11]) + Number(f[12]), rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) }
}

async function main() {
  const loads = [['start', load()]]
  say(
    `${N} nodes (${S} supernodes, ${SN_PER} per process; clients ${PER} per process), load ${load()}`,
  )

  // ---- supernodes ----
  const snNames = Array.from({ length: S }, (_, i) => `scale-sn-${i}`)
  const snWorkers = []
  const snCount = Math.ceil(S / SN_PER)
  snWorkers.push(
    ...(await Promise.all(Array.from({ length: snCount }, (_, k) => spawnWorker('supernode', k)))),
  )
  snWorkers.forEach((w, k) => (w.names = snNames.slice(k * SN_PER, (k + 1) * SN_PER)))
  const first = await snWorkers[0].call('start', {
    role: 'supernode',
    names: snWorkers[0].names.slice(0, 1),
    bootstrap: [[]],
  })
  const seedAddr = first.addrs[0]
  const rest = await Promise.all(
    snWorkers.map((w, k) => {
      const ns = k === 0 ? w.names.slice(1) : w.names
      return ns.length === 0
        ? { addrs: [] }
        : w.call('start', { role: 'supernode', names: ns, bootstrap: ns.map(() => [seedAddr]) })
    }),
  )
  const snAddrs = [seedAddr, ...rest.flatMap((r) => r.addrs)]
  say(`${S} supernodes up`)

  // ---- clients, two processes starting at a time ----
  const C = N - S
  const clientNames = Array.from({ length: C }, (_, i) => `scale-${i}`)
  const clientWorkers = []
  const clientCount = Math.ceil(C / PER)
  const tick = setInterval(() => {
    const up = S + clientWorkers.reduce((a, w) => a + w.up, 0)
    say(`${up}/${N} nodes up, load ${load()}`)
  }, 10_000)
  // Each process is forked when it is its turn: loading ~1,500 modules is start-up work too.
  let nextClient = 0
  const startOne = async () => {
    for (let k = nextClient++; k < clientCount; k = nextClient++) {
      const w = await spawnWorker('client', k)
      w.names = clientNames.slice(k * PER, (k + 1) * PER)
      clientWorkers.push(w)
      await w.call('start', {
        role: 'client',
        names: w.names,
        bootstrap: w.names.map(() => pick(snAddrs, BOOT)),
        wantRt: BOOT,
      })
    }
  }
  const tStart = performance.now()
  await Promise.all([startOne(), startOne()])
  clearInterval(tick)
  const startS = (performance.now() - tStart) / 1000
  say(`${N} nodes up in ${startS.toFixed(0)} s; settling 5 s`)
  await sleep(5000)
  const all = [...snWorkers, ...clientWorkers]
  loads.push(['nodes up', load()])
  // CPU the start-up took (every process, since it was forked): what N nodes cost to bring up.
  const startCpuS = (await Promise.all(all.map((w) => procStat(w.child.pid)))).reduce(
    (a, x) => a + x.ticks / 100,
    0,
  )

  // ---- a name from every node ----
  say(`claiming ${N} names (one process at a time, 4 claims at a time in it)`)
  const claims = []
  for (const [idx, w] of all.entries()) {
    claims.push(...(await w.call('claim', { concurrency: 4 })))
    if (idx % 5 === 4) say(`claims from ${idx + 1}/${all.length} processes, load ${load()}`)
  }
  const claimOk = claims.filter((c) => c.ok)
  say(`claims: ${claimOk.length}/${N} ok`)
  for (const c of claims.filter((x) => !x.ok).slice(0, 5)) say(`  claim failed: ${c.err}`)
  const allNames = [...snNames, ...clientNames]

  // ---- lookups from every node, one at a time over the whole overlay ----
  const stock = values.stock === 'on'
  say(
    `${N * L} lookups, ${L} from every node, one at a time${stock ? ', each then the stock get' : ''}`,
  )
  const ours = []
  const ref = []
  const errs = new Map()
  loads.push(['lookups start', load()])
  for (const [idx, w] of all.entries()) {
    const pairs = w.names.flatMap((own, i) =>
      Array.from({ length: L }, () => {
        let t = allNames[Math.floor(rand() * allNames.length)]
        if (t === own) t = allNames[(allNames.indexOf(t) + 1) % allNames.length]
        return [i, t]
      }),
    )
    const r = await w.call('lookups', { pairs, stock })
    ours.push(...r.ours)
    ref.push(...r.ref)
    for (const x of r.ours.filter((y) => !y.ok)) errs.set(x.err, (errs.get(x.err) ?? 0) + 1)
    if (idx % 5 === 4) say(`lookups from ${idx + 1}/${all.length} processes, load ${load()}`)
  }
  loads.push(['lookups end', load()])

  // ---- memory and idle CPU, every node still up ----
  say(`memory and idle CPU over ${IDLE_S} s`)
  const statA = await Promise.all(all.map((w) => procStat(w.child.pid)))
  const inside = await Promise.all(all.map((w) => w.call('stats')))
  await sleep(IDLE_S * 1000)
  const statB = await Promise.all(all.map((w) => procStat(w.child.pid)))
  const perProc = all.map((w, i) => ({
    role: w.role,
    nodes: w.names.length,
    rssMb: statB[i].rssKb / 1024,
    cpuPct: (statB[i].ticks - statA[i].ticks) / IDLE_S, // 100 ticks/s: % of one core
  }))
  loads.push(['idle', load()])
  const snConns = inside.slice(0, snWorkers.length).flatMap((s) => s.conns)
  const clientRt = inside.slice(snWorkers.length).flatMap((s) => s.rt)

  // ---- the loss of a share of the supernodes, and lookups around it ----
  const lostCount = Math.max(1, Math.round(S * Number(values['loss-fraction'])))
  const victims = pick(snWorkers, Math.ceil(lostCount / SN_PER))
  const lost = victims.reduce((a, w) => a + w.names.length, 0)
  const survivors = all.filter((w) => !victims.includes(w))
  const targets = survivors.flatMap((w) => w.names)
  const lossAt = Date.now() + 6000
  const fromMs = lossAt - 5000
  const untilMs = lossAt + CHURN_S * 1000
  say(
    `${LOSS === 'kill' ? 'killing' : 'freezing'} ${lost} of ${S} supernodes at once in 6 s; lookups from every surviving node until ${CHURN_S} s after`,
  )
  const loops = survivors.map((w, i) =>
    w.call('loop', { targets, fromMs, untilMs, concurrency: 1, seed: 1000 + i }),
  )
  await sleep(lossAt - Date.now())
  for (const w of victims) process.kill(w.child.pid, LOSS === 'kill' ? 'SIGKILL' : 'SIGSTOP')
  const churnLoad = setInterval(() => say(`after the loss, load ${load()}`), 10_000)
  const churn = (await Promise.all(loops)).flat()
  clearInterval(churnLoad)
  loads.push(['after the loss', load()])
  const buckets = []
  for (let b = -5; b < CHURN_S; b += 5) {
    const xs = churn.filter(([at]) => at - lossAt >= b * 1000 && at - lossAt < (b + 5) * 1000)
    const ok = xs.filter((x) => x[2] === 1)
    const fails = new Map()
    for (const x of xs.filter((y) => y[2] === 0)) fails.set(x[3], (fails.get(x[3]) ?? 0) + 1)
    buckets.push({ b, n: xs.length, ok: ok.length, lat: xs.map((x) => x[1]), fails })
  }

  // ---- report ----
  const okN = ours.filter((x) => x.ok).length
  const refOk = ref.filter((x) => x.ok).length
  const lat = ours.map((x) => x.ms)
  const rlat = ref.map((x) => x.ms)
  const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0)
  const mem = (role) => {
    const ps = perProc.filter((p) => p.role === role)
    return `${(sum(ps, (p) => p.rssMb) / sum(ps, (p) => p.nodes)).toFixed(1)} MB per node (${ps.length} processes, ${Math.min(...ps.map((p) => p.rssMb)).toFixed(0)}–${Math.max(...ps.map((p) => p.rssMb)).toFixed(0)} MB each)`
  }
  const cpu = (role) => {
    const ps = perProc.filter((p) => p.role === role)
    return `${(sum(ps, (p) => p.cpuPct) / sum(ps, (p) => p.nodes)).toFixed(2)} % of a core per node (${sum(ps, (p) => p.cpuPct).toFixed(0)} % all ${role}s)`
  }
  const cs = claims.map((c) => c.ms)
  const rows = [
    ['nodes / supernodes / processes', `${N} / ${S} / ${all.length}`],
    ['start-up (clients, 2 processes at a time)', `${startS.toFixed(0)} s`],
    [
      'CPU to start every node',
      `${startCpuS.toFixed(0)} s (${(startCpuS / N).toFixed(2)} s per node)`,
    ],
    [
      'claims ok; p50 / p95 (4 at a time)',
      `${claimOk.length}/${N}; ${ms(pct(cs, 50))} / ${ms(pct(cs, 95))}`,
    ],
    ['lookup p50 / p95 / p99', `${ms(pct(lat, 50))} / ${ms(pct(lat, 95))} / ${ms(pct(lat, 99))}`],
    ['lookup success', `${((okN / ours.length) * 100).toFixed(1)} % (${okN}/${ours.length})`],
    ...(errs.size > 0
      ? [['lookup failures', [...errs].map(([e, n]) => `${e || 'not found'} ×${n}`).join(', ')]]
      : []),
  ]
  if (stock)
    rows.push(
      [
        'reference: stock get p50 / p95 / p99',
        `${ms(pct(rlat, 50))} / ${ms(pct(rlat, 95))} / ${ms(pct(rlat, 99))}`,
      ],
      [
        'reference: stock get success',
        `${((refOk / ref.length) * 100).toFixed(1)} % (${refOk}/${ref.length})`,
      ],
    )
  rows.push(
    ['RSS, supernodes', mem('supernode')],
    ['RSS, clients', mem('client')],
    ['idle CPU, supernodes', cpu('supernode')],
    ['idle CPU, clients', cpu('client')],
    ['connections per supernode (min / max)', `${Math.min(...snConns)} / ${Math.max(...snConns)}`],
    [
      'client routing table size (min / mean)',
      `${Math.min(...clientRt)} / ${(sum(clientRt, (x) => x) / clientRt.length).toFixed(1)}`,
    ],
    [
      'loss',
      `${lost} of ${S} supernodes ${LOSS === 'kill' ? 'killed (SIGKILL)' : 'frozen (SIGSTOP)'} at once`,
    ],
  )
  for (const k of buckets) {
    const label = k.b < 0 ? `before the loss (−5–0 s)` : `after the loss ${k.b}–${k.b + 5} s`
    const f = [...k.fails].map(([e, n]) => `${e || 'not found'} ×${n}`).join(', ')
    rows.push([
      label,
      `${k.n ? ((k.ok / k.n) * 100).toFixed(1) : '-'} % (${k.ok}/${k.n}), p50 ${ms(pct(k.lat, 50))}, p99 ${ms(pct(k.lat, 99))}${f ? `; ${f}` : ''}`,
    ])
  }
  for (const [when, l] of loads) rows.push([`load average (1/5/15 min), ${when}`, l])
  printTable(`bench:scale (${N} nodes)`, rows)
  say(`worker logs (warnings) in ${logDir}`)

  say('stopping')
  for (const w of victims) if (LOSS === 'freeze') process.kill(w.child.pid, 'SIGKILL')
  await Promise.race([Promise.allSettled(survivors.map((w) => w.call('stop'))), sleep(30_000)])
}

let code = 0
try {
  await main()
} catch (err) {
  console.error(`bench:scale failed: ${err?.stack ?? err}`)
  code = 1
} finally {
  killAll()
  await rm(dataRoot, { recursive: true, force: true })
}
process.exit(code)
