// Shared helpers for the benchmarks: start nodes on loopback, percentiles, tables.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKaiwaNode } from '../dist/main/kaiwa-node.js'
import { createStderrLogger } from '../dist/main/logger.js'

const log = createStderrLogger('warn', 'bench')
const dirs = []

export const progress = (name) => (m) => process.stderr.write(`${name} ${m}\n`)

export async function startNode(opts) {
  const dataDir = await mkdtemp(join(tmpdir(), 'kaiwa-bench-'))
  dirs.push(dataDir)
  return startKaiwaNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    supernode: 'off',
    mdns: false,
    upnp: false,
    log,
    ...opts,
  })
}

export const tcpAddr = (n) =>
  n
    .addrs()
    .find((a) => !a.toString().includes('p2p-circuit'))
    .toString()

/** S supernodes and N-S clients, every client bootstrapped to every supernode. */
export async function startOverlay(N, S, say) {
  const sns = [await startNode({ supernode: 'on' })]
  for (let i = 1; i < S; i++)
    sns.push(await startNode({ supernode: 'on', bootstrap: [tcpAddr(sns[0])] }))
  const bootstrap = sns.map(tcpAddr)
  const clients = []
  for (let i = 0; i < N - S; i += 5) {
    const batch = Array.from({ length: Math.min(5, N - S - i) }, () => startNode({ bootstrap }))
    clients.push(...(await Promise.all(batch)))
    say?.(`${sns.length + clients.length}/${N} nodes up`)
  }
  const all = [...sns, ...clients]
  const deadline = Date.now() + 30_000
  const rt = (n) => n.libp2p().services.dht.routingTable.size
  while (all.some((n) => rt(n) === 0) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  await new Promise((r) => setTimeout(r, 2000))
  return { sns, clients, all, bootstrap }
}

export async function cleanup(nodes) {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

export function pct(xs, p) {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

export const ms = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`)

export function printTable(title, rows) {
  const w = Math.max(...rows.map((r) => r[0].length))
  console.log(`\n${title} (${new Date().toISOString()}, Node ${process.version})`)
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`)
}
