// One process of bench:scale (bench/scale.mjs forks it): runs up to ~50 real
// Kaiwa nodes (startKaiwaNode from dist/, as bench:dht does) and answers the
// coordinator's requests over the IPC channel. It exits when the channel
// closes, so a killed coordinator leaves no worker behind.
import { userRecordKey } from '../dist/shared/records/dht-key.js'
import { cleanup, startNode, tcpAddr } from './lib.mjs'

// Low claim proof-of-work: claiming is not what is measured; all nodes must agree.
const POW = { claimPowBits: 8 }
const nodes = []
const names = []
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length)
  let next = 0
  const run = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run))
  return out
}

/** Our lookup (early stop, no cache): success when the record names the user looked up. */
async function lookup(node, name) {
  const t = performance.now()
  try {
    const r = await node.directory.lookup(name, { cache: false })
    return { ms: performance.now() - t, ok: r?.record.name === name }
  } catch (err) {
    return { ms: performance.now() - t, ok: false, err: err?.name ?? String(err) }
  }
}

/** Reference: kad-dht's own get, which waits for the whole query (as bench:dht). */
async function stockGet(node, name) {
  const t = performance.now()
  let got
  try {
    for await (const ev of node
      .libp2p()
      .services.dht.get(userRecordKey(name), { signal: AbortSignal.timeout(10_000) })) {
      if (ev.name === 'VALUE') got = ev.value
    }
  } catch {
    // a timeout or no value: a failure, timed
  }
  return { ms: performance.now() - t, ok: got != null }
}

const handlers = {
  /** Start `names.length` nodes of one role; each gets its own bootstrap list. */
  async start({ role, names: ns, bootstrap, batch = 5, wantRt = 1 }) {
    names.push(...ns)
    for (let i = 0; i < ns.length; i += batch) {
      const part = ns.slice(i, i + batch).map((_, k) =>
        startNode({
          supernode: role === 'supernode' ? 'on' : 'off',
          bootstrap: bootstrap[i + k] ?? [],
          ...POW,
        }),
      )
      nodes.push(...(await Promise.all(part)))
      process.send({ op: 'progress', up: nodes.length })
    }
    // Wait until every client knows `wantRt` DHT servers (its bootstrap supernodes), 2 min at most.
    const deadline = Date.now() + 120_000
    const rt = (n) => n.libp2p().services.dht.routingTable.size
    while (role !== 'supernode' && nodes.some((n) => rt(n) < wantRt) && Date.now() < deadline)
      await sleep(250)
    return { addrs: nodes.slice(-ns.length).map(tcpAddr) }
  },

  /** Every node claims its name; a few at a time. */
  async claim({ concurrency = 4 }) {
    return mapLimit(nodes, concurrency, async (n, i) => {
      const t = performance.now()
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await n.claim(names[i])
          return { ms: performance.now() - t, ok: true, stored: r.stored, attempts: attempt }
        } catch (err) {
          if (attempt >= 3) return { ms: performance.now() - t, ok: false, err: String(err) }
          await sleep(1000)
        }
      }
    })
  },

  /** One after another: [local node index, name] pairs, ours then the stock get. */
  async lookups({ pairs, stock }) {
    const ours = []
    const ref = []
    for (const [i, name] of pairs) {
      ours.push(await lookup(nodes[i], name))
      if (stock) ref.push(await stockGet(nodes[i], name))
    }
    return { ours, ref }
  },

  /**
   * Lookups from every node in turn, `concurrency` at a time, from `fromMs`
   * to `untilMs` (epoch): each result carries its start time.
   */
  async loop({ targets, fromMs, untilMs, concurrency = 1, seed }) {
    let s = seed >>> 0
    const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32
    while (Date.now() < fromMs) await sleep(5)
    const out = []
    let turn = 0
    const run = async () => {
      while (Date.now() < untilMs) {
        const i = turn++ % nodes.length
        let name = targets[Math.floor(rand() * targets.length)]
        if (name === names[i]) name = targets[(targets.indexOf(name) + 1) % targets.length]
        const at = Date.now()
        const r = await lookup(nodes[i], name)
        out.push([at, Math.round(r.ms * 10) / 10, r.ok ? 1 : 0, r.err ?? ''])
      }
    }
    await Promise.all(Array.from({ length: concurrency }, run))
    return out
  },

  async stats() {
    const conns = nodes.map((n) => n.libp2p().getConnections().length)
    const rt = nodes.map((n) => n.libp2p().services.dht.routingTable.size)
    return { rss: process.memoryUsage().rss, cpu: process.cpuUsage(), conns, rt }
  },

  async stop() {
    await cleanup(nodes)
    return {}
  },
}

process.on('message', async (msg) => {
  try {
    const result = await handlers[msg.op](msg.args ?? {})
    process.send({ id: msg.id, result })
  } catch (err) {
    process.send({ id: msg.id, error: err?.stack ?? String(err) })
  }
})
process.on('disconnect', () => process.exit(0))
// SCALE_PROF=<path prefix>: a CPU profile of this process's first SCALE_PROF_S seconds (diagnosis).
if (process.env.SCALE_PROF) {
  const { Session } = await import('node:inspector/promises')
  const { writeFileSync } = await import('node:fs')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  setTimeout(
    async () => {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(`${process.env.SCALE_PROF}-${process.pid}.cpuprofile`, JSON.stringify(profile))
    },
    Number(process.env.SCALE_PROF_S ?? 60) * 1000,
  )
}
process.send({ op: 'ready' })
