#!/usr/bin/env node
// bench:files — file transfer node to node (/kaiwa/file/1.0.0, issue 15 §1), directly on
//   loopback and through a supernode's TURN relay, against raw TCP on the same path, in the
//   same run.
//   Direct: three `kaiwa node` processes on 127.0.0.1 (a supernode, alice, bob); alice sends a
//   file of random bytes to bob (who has pinned alice and auto-accepts it).
//   Relayed (root: the NAT lab, bench/files-relayed.mjs): alice behind a symmetric NAT, bob
//   behind a port-restricted one, so the file goes WebRTC through the supernode's TURN, whose
//   allocations may relay 400 Mbit/s each way here (--turn-allocation-kbps; the default 4 Mbit/s
//   and the 20 Mbit/s relayed-bandwidth cap are policy, not the path's speed). Measured:
//   - transfer rate: file size over the time from the first "sending" to "complete" (the
//     receiver wrote every chunk, checked each chunk's SHA-256 and the whole file's);
//   - end to end: from `sendFile` to "complete", which adds hashing the file for the offer;
//   - memory: each node's RSS before and its peak during the transfer (sampled every 50 ms);
//   - raw TCP: an iperf-style Node socket pair (two processes, 1 MiB writes, memory to
//     memory over 127.0.0.1), the ceiling of the same path.
//   Goals: >= 50 % of raw TCP direct; >= 10 MB/s through TURN; memory flat for 1 GB (peak RSS
//   independent of the size).
//   - CPU: each node's CPU time (user + system, /proc) per MiB while sending (and the sender's
//     from sendFile on), which stays meaningful on a loaded machine where the rates do not.
//   npm run bench:files -- [--size MIB] [--gb] [--relay-size MIB] [--cpu-prof DIR]
//     (default 256 MiB; --gb: 1024 MiB; --relay-size: the relayed file, default 128, 0: skip;
//     --cpu-prof: V8 CPU profiles of the direct part's nodes into DIR)
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createApiClient } from '../dist/main/api/api-client.js'

const here = dirname(fileURLToPath(import.meta.url))
const BIN = join(here, '..', 'bin', 'kaiwa.js')
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    gb: { type: 'boolean', default: false },
    'relay-size': { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
})
const MiB = 1024 * 1024
const SIZE_MIB = values.gb ? 1024 : Number(values.size)
if (!Number.isInteger(SIZE_MIB) || SIZE_MIB < 1) {
  process.stderr.write('bench:files: --size must be a whole number of MiB\n')
  process.exit(2)
}
const SIZE = SIZE_MIB * MiB
const RELAY_MIB = Number(values['relay-size'] ?? 128)
if (!Number.isInteger(RELAY_MIB) || RELAY_MIB < 0) {
  process.stderr.write('bench:files: --relay-size must be a whole number of MiB\n')
  process.exit(2)
}
const RELAY_ALLOCATION_KBPS = 400_000
const say = (m) => process.stderr.write(`bench:files ${m}\n`)
const kids = new Set()
process.on('exit', () => {
  for (const k of kids) k.kill('SIGKILL')
})

const LOOPBACK = ['--no-mdns', '--no-upnp', '--listen', '/ip4/127.0.0.1/tcp/0']
const NO_EXTRAS = ['--sip-port', '0', '--turn-port', '0', '--bridge-port', '0']

async function startNode(name, args) {
  const data = await mkdtemp(join(dir, `${name}-`))
  const prof =
    values['cpu-prof'] != null
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          values['cpu-prof'],
          '--cpu-prof-name',
          `${name}.cpuprofile`,
        ]
      : []
  const child = spawn(
    process.execPath,
    [
      ...prof,
      BIN,
      'node',
      '--data',
      data,
      ...LOOPBACK,
      ...NO_EXTRAS,
      '--log-level',
      'warn',
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  kids.add(child)
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d))
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  // Claiming a name costs ~1-3 s of proof-of-work, much more on a loaded machine.
  const deadline = Date.now() + 180_000
  while (!out.includes('\n')) {
    if (child.exitCode != null || Date.now() > deadline)
      throw new Error(`${name} did not start: ${err.slice(-2000)}`)
    await sleep(50)
  }
  const ready = JSON.parse(out.split('\n')[0])
  const token = (await readFile(join(data, 'api-token'), 'utf8')).trim()
  return { name, child, ready, api: createApiClient({ url: ready.api, token, timeoutMs: 120_000 }) }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

async function retry(what, fn, ms = 60_000) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${err.message}`, { cause: err })
      await sleep(250)
    }
  }
}

async function randomFile(path, size) {
  const out = createWriteStream(path)
  for (let left = size; left > 0; left -= MiB) {
    if (!out.write(randomBytes(Math.min(MiB, left)))) await new Promise((r) => out.once('drain', r))
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())))
}

/** CPU time (user + system) of process `pid` so far, in ms (proc(5): utime, stime in ticks). */
async function cpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Linux's USER_HZ is 100 on every architecture Node runs on.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10
}

/** Read and write system calls of process `pid` so far (proc(5) io: syscr, syscw). */
async function syscalls(pid) {
  const io = await readFile(`/proc/${pid}/io`, 'utf8').catch(() => '')
  return {
    r: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? 0),
    w: Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? 0),
  }
}

async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

/** iperf-style raw TCP: a sink process and a source process, 1 MiB writes, memory to memory. */
async function rawTcp(size) {
  const sinkCode = `
    const net = require('node:net')
    const srv = net.createServer((s) => {
      let got = 0; const t0 = process.hrtime.bigint()
      s.on('data', (d) => { got += d.length })
      s.on('end', () => { process.stdout.write(JSON.stringify({ got, ns: String(process.hrtime.bigint() - t0) }) + '\\n'); srv.close() })
    })
    srv.listen(0, '127.0.0.1', () => process.stdout.write(srv.address().port + '\\n'))`
  const sourceCode = `
    const net = require('node:net')
    const buf = Buffer.alloc(1024 * 1024, 7)
    let left = ${size}
    const s = net.connect(Number(process.argv[1]), '127.0.0.1', () => {
      const pump = () => {
        while (left > 0) { const n = Math.min(left, buf.length); left -= n; if (!s.write(n === buf.length ? buf : buf.subarray(0, n))) return s.once('drain', pump) }
        s.end()
      }
      pump()
    })`
  const sink = spawn(process.execPath, ['-e', sinkCode], { stdio: ['ignore', 'pipe', 'inherit'] })
  kids.add(sink)
  let out = ''
  sink.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  while (!out.includes('\n')) await sleep(10)
  const port = out.split('\n')[0]
  const source = spawn(process.execPath, ['-e', sourceCode, port], { stdio: 'inherit' })
  kids.add(source)
  while (out.split('\n').length < 3) await sleep(10)
  const res = JSON.parse(out.split('\n')[1])
  return res.got / MiB / (Number(res.ns) / 1e9)
}

/** `from` sends `file` to `to`; the rates and both nodes' RSS before and at peak. */
async function transfer(from, to, file, sizeMiB) {
  const before = { sender: await rssMiB(from.child.pid), receiver: await rssMiB(to.child.pid) }
  const peak = { ...before }
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak.sender = Math.max(peak.sender, await rssMiB(from.child.pid))
      peak.receiver = Math.max(peak.receiver, await rssMiB(to.child.pid))
      await sleep(50)
    }
  })()
  say(`${from.name} sends ${sizeMiB} MiB to ${to.name}`)
  const cpu0 = { sender: await cpuMs(from.child.pid), receiver: await cpuMs(to.child.pid) }
  const monoUs = { from: 0, to: 0 }
  let cpuSending
  let ioSending
  const t0 = performance.now()
  const { transfer: sent } = await from.api.sendFile({ to: to.name, path: file })
  let sendingAt
  for (;;) {
    const t = (await from.api.transfers({})).transfers.find((x) => x.id === sent.id)
    if (t.status === 'sending' && sendingAt == null) {
      sendingAt = performance.now()
      // CLOCK_MONOTONIC in µs, the clock of V8's profile timestamps (to cut a profile to the transfer).
      monoUs.from = Number(process.hrtime.bigint() / 1000n)
      cpuSending = { sender: await cpuMs(from.child.pid), receiver: await cpuMs(to.child.pid) }
      ioSending = { sender: await syscalls(from.child.pid), receiver: await syscalls(to.child.pid) }
    }
    if (t.status === 'complete') break
    if (['failed', 'declined', 'cancelled', 'queued', 'mailed'].includes(t.status))
      throw new Error(`transfer ${t.status}: ${t.note}`)
    // Each poll costs the sender a store listing: often enough to time the transfer, no more.
    await sleep(100)
  }
  const t1 = performance.now()
  monoUs.to = Number(process.hrtime.bigint() / 1000n)
  const cpu1 = { sender: await cpuMs(from.child.pid), receiver: await cpuMs(to.child.pid) }
  const io1 = { sender: await syscalls(from.child.pid), receiver: await syscalls(to.child.pid) }
  const perMiB = (k, rw) => round((io1[k][rw] - (ioSending ?? io1)[k][rw]) / sizeMiB)
  sampling = false
  await sampler
  const got = (await to.api.files({})).files.find((f) => f.id === sent.id)
  if (got == null || got.sha256 !== sent.sha256)
    throw new Error(`${to.name} does not list the file with its SHA-256`)
  const round = (n) => Number(n.toFixed(1))
  return {
    transferMiBps: round(sizeMiB / ((t1 - (sendingAt ?? t0)) / 1000)),
    endToEndMiBps: round(sizeMiB / ((t1 - t0) / 1000)),
    // From the first "sending" on (the transfer itself), and from sendFile on (which adds
    // hashing the file for the offer, on the sender).
    cpuMsPerMiB: {
      sender: round((cpu1.sender - (cpuSending ?? cpu0).sender) / sizeMiB),
      receiver: round((cpu1.receiver - (cpuSending ?? cpu0).receiver) / sizeMiB),
      senderFromSendFile: round((cpu1.sender - cpu0.sender) / sizeMiB),
    },
    // read and write system calls per MiB while sending (sockets and files)
    syscallsPerMiB: {
      sender: { read: perMiB('sender', 'r'), write: perMiB('sender', 'w') },
      receiver: { read: perMiB('receiver', 'r'), write: perMiB('receiver', 'w') },
    },
    rssMiB: {
      sender: { before: Math.round(before.sender), peak: Math.round(peak.sender) },
      receiver: { before: Math.round(before.receiver), peak: Math.round(peak.receiver) },
    },
    monoUs,
  }
}

const dir = await mkdtemp(join(tmpdir(), 'hfile-bench-'))
try {
  say(`writing a ${SIZE_MIB} MiB file of random bytes`)
  const file = join(dir, 'payload.bin')
  await randomFile(file, SIZE)
  say('starting a supernode, alice and bob (kaiwa node processes on 127.0.0.1)')
  const sn = await startNode('sn', ['--supernode', 'on'])
  const boot = sn.ready.addrs.find((a) => a.includes('/tcp/') && !a.includes('p2p-circuit'))
  const alice = await startNode('alice', ['--bootstrap', boot, '--name', 'alice'])
  const bob = await startNode('bob', ['--bootstrap', boot, '--name', 'bob'])
  await retry('bob pins alice', () => bob.api.contactAdd({ name: 'alice' }))
  await retry('alice finds bob', () => alice.api.lookup({ name: 'bob' }))
  await bob.api.settingsUpdate({ files: { autoAcceptMiB: SIZE_MIB + 1, maxMiB: SIZE_MIB + 1 } })
  const direct = await transfer(alice, bob, file, SIZE_MIB)
  for (const k of [sn, alice, bob]) k.child.kill('SIGTERM')
  let relayed
  let relayedSkipped = RELAY_MIB === 0 ? 'skipped (--relay-size 0)' : null
  if (relayedSkipped == null) {
    const { relayedTransfer, relayedUnavailable } = await import('./files-relayed.mjs')
    const why = relayedUnavailable()
    if (why != null) relayedSkipped = `skipped: ${why}`
    else
      relayed = await relayedTransfer({
        sizeMiB: RELAY_MIB,
        allocationKbps: RELAY_ALLOCATION_KBPS,
        say,
      })
  }
  say('raw TCP, iperf style, same loopback path')
  const raw = await rawTcp(SIZE)
  const result = {
    sizeMiB: SIZE_MIB,
    transferMiBps: direct.transferMiBps,
    endToEndMiBps: direct.endToEndMiBps,
    rawTcpMiBps: Number(raw.toFixed(1)),
    ofRawTcp: `${Math.round((100 * direct.transferMiBps) / raw)} %`,
    cpuMsPerMiB: direct.cpuMsPerMiB,
    syscallsPerMiB: direct.syscallsPerMiB,
    rssMiB: direct.rssMiB,
    ...(values['cpu-prof'] != null ? { profileWindowUs: direct.monoUs } : {}),
    relayed: relayed ?? relayedSkipped,
    loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
  }
  process.stdout.write(
    [
      `file transfer node to node, ${SIZE_MIB} MiB over loopback (SHA-256 per chunk and whole file)`,
      `  transfer:    ${result.transferMiBps} MiB/s   (end to end with hashing the offer: ${result.endToEndMiBps} MiB/s)`,
      `  raw TCP:     ${result.rawTcpMiBps} MiB/s   (iperf-style Node socket pair, memory to memory)`,
      `  ratio:       ${result.ofRawTcp} of raw TCP (goal >= 50 %)`,
      `  CPU:         alice ${result.cpuMsPerMiB.sender} ms/MiB, bob ${result.cpuMsPerMiB.receiver} ms/MiB (user + system, while sending; alice from sendFile on: ${result.cpuMsPerMiB.senderFromSendFile})`,
      `  memory RSS:  alice ${result.rssMiB.sender.before} -> peak ${result.rssMiB.sender.peak} MiB, bob ${result.rssMiB.receiver.before} -> peak ${result.rssMiB.receiver.peak} MiB`,
      relayed != null
        ? [
            `through a supernode's TURN relay (WebRTC, NAT lab: symmetric ↔ port-restricted NAT), ${RELAY_MIB} MiB`,
            `  transfer:    ${relayed.transferMiBps} MiB/s   (end to end: ${relayed.endToEndMiBps} MiB/s; goal >= 10 MB/s = 9.5 MiB/s)`,
            `  set-up:      ${relayed.setupSeconds} s from sendFile to sending (the offer's hashing, failed direct dials, the TURN dial)`,
            `  TURN:        the supernode relayed ${relayed.turnRelayedMiB} MiB during it (allocation limit ${relayed.allocationKbps / 1000} Mbit/s each way)`,
            `  CPU:         alice ${relayed.cpuMsPerMiB.alice} ms/MiB, bob ${relayed.cpuMsPerMiB.bob} ms/MiB, supernode ${relayed.cpuMsPerMiB.supernode} ms/MiB`,
          ].join('\n')
        : `through a supernode's TURN relay: ${relayedSkipped}`,
      `load average at the end: ${result.loadAverage.join(' ')} (${cpus().length} cores)`,
      JSON.stringify(result),
      '',
    ].join('\n'),
  )
} finally {
  for (const k of kids) k.kill('SIGTERM')
  await sleep(500)
  await rm(dir, { recursive: true, force: true })
}
