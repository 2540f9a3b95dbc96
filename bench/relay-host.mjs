// Host measurements for bench/relay.mjs: free ports, STUN readiness, CPU time of processes,
// the host's busy share and the kernel's UDP drops, all from /proc (Linux).
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'

/** A port free on 127.0.0.1 for both TCP and UDP (TURN listens on both). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port
        s.close(() => resolve(p))
      })
    })
    const ok = await new Promise((resolve) => {
      const u = createSocket('udp4')
      u.once('error', () => resolve(false))
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (ok) return port
  }
}

/** Wait until a STUN Binding request to the port is answered. */
export async function waitStun(port, timeoutMs = 10_000) {
  const s = createSocket('udp4')
  await new Promise((r) => s.bind(0, '127.0.0.1', r))
  const req = Buffer.alloc(20)
  req.writeUInt16BE(0x0001, 0)
  req.writeUInt32BE(0x2112a442, 4)
  randomBytes(12).copy(req, 8)
  try {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const got = new Promise((r) => {
        s.once('message', () => r(true))
        setTimeout(() => r(false), 200)
      })
      s.send(req, port, '127.0.0.1')
      if (await got) return
    }
    throw new Error(`no STUN answer on port ${port}`)
  } finally {
    s.close()
  }
}

/** Pids whose parent is `pid` (the load children's C data planes). */
export function childrenOf(pid) {
  const out = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** CPU time (ns) of a process, all threads: sum of /proc/<pid>/task/<tid>/schedstat. */
export function cpuNs(pid) {
  let ns = 0
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0])
    }
  } catch {
    // a thread went away meanwhile: close enough
  }
  return ns
}

/**
 * Datagrams the kernel dropped for full receive buffers, per socket group: the server's listen
 * port, its relay ports, everything else (the load generators). From /proc/net/udp's drops column.
 */
export function kernelDrops(listenPort, relayRange) {
  const out = { listen: 0, relay: 0, load: 0 }
  for (const row of readFileSync('/proc/net/udp', 'utf8').trim().split('\n').slice(1)) {
    const cols = row.trim().split(/\s+/)
    const port = parseInt(cols[1].split(':')[1], 16)
    const drops = Number(cols[12])
    if (port === listenPort) out.listen += drops
    else if (port >= relayRange[0] && port <= relayRange[1]) out.relay += drops
    else out.load += drops
  }
  return out
}

/** Share of the host's CPU time not idle (all processes, including other users of the host). */
export function hostBusy() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const idle = f[3] + f[4]
  return { idle, total: f.reduce((a, b) => a + b, 0) }
}
