#!/usr/bin/env node
// bench:files — file transfer node to node on loopback (/kaiwa/file/1.0.0, issue 15 §1)
//   against raw TCP on the same path, in the same run.
//   Three `kaiwa node` processes (a supernode, alice, bob) on 127.0.0.1; alice sends a file of
//   random bytes to bob (who has pinned alice and auto-accepts it). Measured:
//   - transfer rate: file size over the time from the first "sending" to "complete" (the
//     receiver wrote every chunk, checked each chunk's SHA-256 and the whole file's);
//   - end to end: from `sendFile` to "complete", which adds hashing the file for the offer;
//   - memory: each node's RSS before and its peak during the transfer (sampled every 50 ms);
//   - raw TCP: an iperf-style Node socket pair (two processes, 1 MiB writes, memory to
//     memory over 127.0.0.1), the ceiling of the same path.
//   Goals: >= 50 % of raw TCP; memory flat for 1 GB (peak RSS independent of the size).
//   npm run bench:files -- [--size MIB] [--gb]      (default 256 MiB; --gb: 1024 MiB)
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createApiClient } from '../dist/main/api/api-client.js'

const here = dirname(fileURLToPath(import.meta.url))
const BIN = join(here, '..', 'bin', 'kaiwa.js')
const { values } = parseArgs({
  options: { size: { type: 'string', default: '256' }, gb: { type: 'boolean', default: false } },
})
const MiB = 1024 * 1024
const SIZE_MIB = values.gb ? 1024 : Number(values.size)
if (!Number.isInteger(SIZE_MIB) || SIZE_MIB < 1) {
  process.stderr.write('bench:files: --size must be a whole number of MiB\n')
  process.exit(2)
}
const SIZE = SIZE_MIB * MiB
const say = (m) => process.stderr.write(`bench:files ${m}\n`)
const kids = new Set()
process.on('exit', () => {
  for (const k of kids) k.kill('SIGKILL')
})

const LOOPBACK = ['--no-mdns', '--no-upnp', '--listen', '/ip4/127.0.0.1/tcp/0']
const NO_EXTRAS = ['--sip-port', '0', '--turn-port', '0', '--log-level', 'warn']

async function startNode(name, args) {
  const data = await mkdtemp(join(dir, `${name}-`))
  const child = spawn(
    process.execPath,
    [BIN, 'node', '--data', data, ...LOOPBACK, ...NO_EXTRAS, ...args],
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

  const before = { alice: await rssMiB(alice.child.pid), bob: await rssMiB(bob.child.pid) }
  const peak = { ...before }
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak.alice = Math.max(peak.alice, await rssMiB(alice.child.pid))
      peak.bob = Math.max(peak.bob, await rssMiB(bob.child.pid))
      await sleep(50)
    }
  })()
  say(`alice sends ${SIZE_MIB} MiB to bob`)
  const t0 = performance.now()
  const { transfer } = await alice.api.sendFile({ to: 'bob', path: file })
  let sendingAt
  let last
  for (;;) {
    const t = (await alice.api.transfers({})).transfers.find((x) => x.id === transfer.id)
    if (t.status === 'sending' && sendingAt == null) sendingAt = performance.now()
    if (t.status === 'complete') break
    if (['failed', 'declined', 'cancelled', 'queued', 'mailed'].includes(t.status))
      throw new Error(`transfer ${t.status}: ${t.note}`)
    if (t.bytesDone !== last) last = t.bytesDone
    await sleep(25)
  }
  const t1 = performance.now()
  sampling = false
  await sampler
  const got = (await bob.api.files({})).files.find((f) => f.id === transfer.id)
  if (got == null || got.sha256 !== transfer.sha256)
    throw new Error('bob does not list the file with its SHA-256')
  const transferMBs = SIZE_MIB / ((t1 - (sendingAt ?? t0)) / 1000)
  const endToEndMBs = SIZE_MIB / ((t1 - t0) / 1000)
  say('raw TCP, iperf style, same loopback path')
  const raw = await rawTcp(SIZE)
  const result = {
    sizeMiB: SIZE_MIB,
    transferMiBps: Number(transferMBs.toFixed(1)),
    endToEndMiBps: Number(endToEndMBs.toFixed(1)),
    rawTcpMiBps: Number(raw.toFixed(1)),
    ofRawTcp: `${Math.round((100 * transferMBs) / raw)} %`,
    rssMiB: {
      alice: { before: Math.round(before.alice), peak: Math.round(peak.alice) },
      bob: { before: Math.round(before.bob), peak: Math.round(peak.bob) },
    },
  }
  process.stdout.write(
    [
      `file transfer node to node, ${SIZE_MIB} MiB over loopback (SHA-256 per chunk and whole file)`,
      `  transfer:    ${result.transferMiBps} MiB/s   (end to end with hashing the offer: ${result.endToEndMiBps} MiB/s)`,
      `  raw TCP:     ${result.rawTcpMiBps} MiB/s   (iperf-style Node socket pair, memory to memory)`,
      `  ratio:       ${result.ofRawTcp} of raw TCP (goal >= 50 %)`,
      `  memory RSS:  alice ${result.rssMiB.alice.before} -> peak ${result.rssMiB.alice.peak} MiB, bob ${result.rssMiB.bob.before} -> peak ${result.rssMiB.bob.peak} MiB`,
      JSON.stringify(result),
      '',
    ].join('\n'),
  )
} finally {
  for (const k of kids) k.kill('SIGTERM')
  await sleep(500)
  await rm(dir, { recursive: true, force: true })
}
