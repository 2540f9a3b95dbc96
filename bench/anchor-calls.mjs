#!/usr/bin/env node
// bench:sip, anchored part — many concurrent anchored calls through two real
// media anchors (issue 12 §3), as two nodes would carry a phone-to-phone call:
//   phone A ─RTP/AVP─▶ anchor A ⇄ ICE + DTLS-SRTP on 127.0.0.1 ⇄ anchor B ─RTP/AVP─▶ phone B
// 20 ms frames at 50 packets/s each way. Passthrough: both phones speak PCMU.
// Transcoded: phone A offers only PCMU, phone B answers only Opus, so anchor
// B relays Opus and anchor A transcodes both ways (codec-plan.ts).
// Anchors A and B each run in their own child process (one node each), so
// process.cpuUsage() there is the anchor's own CPU (libdatachannel's ICE,
// DTLS and SRTP threads included); the phones and a direct loopback UDP
// baseline run here. Each call's RTP timestamps are linear end to end (the
// rewriter and the transcoder keep them so), which maps every packet received
// to the one sent, for loss and one-way latency; "added" is the anchored
// path's percentile minus the baseline's, both timed on this event loop.
// The ramp adds calls step by step until loss reaches 1 % or a call cannot
// be set up (3 attempts: on one host the libdatachannel DTLS race of
// webrtc-leg.ts, "Known limit", fails a few setups in a hundred). Both ends
// of every call and the phones share this machine, so it carries half the
// calls one node could.
//   node bench/anchor-calls.mjs [--mode both|passthrough|transcoded] [--seconds 5]
//     [--max-calls 400] [--steps 25,50,100,150,200,300,400]
//     [--transcoded-steps 10,20,40,60,90,120] [--parallel 8 (setups at once)]
//     [--ports LO-HI]   (every phone, RTP and ICE port inside LO-HI; default: any free ports)
import { fork } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

/** The phones' UDP sockets per side: calls share them, demultiplexed by the anchor's source port. */
const POOL = 8
/** Ports the phones take at the bottom of --ports: the pools and two baseline sockets. */
const PHONE_PORTS = 2 * POOL + 2
/**
 * The phone leg binds a random port in its range with 16 tries (phone-leg.ts),
 * so its range stays ≤ 70 % full; libjuice searches its ICE range port by port.
 */
const RTP_FILL = 0.72
const FRAME_MS = 20
const BASELINE_STREAMS = 4

class AnchorBenchError extends Error {
  static name = 'AnchorBenchError'
  constructor(message) {
    super(message)
    this.name = AnchorBenchError.name
  }
}

if (process.argv[2] === '--anchor-host') await anchorHost(JSON.parse(process.argv[3]))
else {
  await main().catch((err) => {
    process.stderr.write(`anchor-calls: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(err instanceof AnchorBenchError ? 2 : 1)
  })
}

/** Child process: one MediaAnchor, driven over the IPC channel. */
async function anchorHost(cfg) {
  const { MediaAnchor } = await import('../dist/overlay/media/media-anchor.js')
  const anchor = new MediaAnchor({
    bindAddress: '127.0.0.1',
    maxCalls: 100_000,
    ...(cfg.ice != null ? { icePortRange: cfg.ice, rtpPortRange: cfg.rtp } : {}),
  })
  const usage = () => ({
    cpu: process.cpuUsage(),
    at: performance.timeOrigin + performance.now(),
    rss: process.memoryUsage().rss,
  })
  process.on('disconnect', () => process.exit(0))
  process.on('message', async ({ id, op, arg }) => {
    try {
      const result =
        op === 'cross' ? await anchor.cross(arg) : op === 'usage' ? usage() : anchor.end(arg)
      process.send({ id, ok: true, result })
    } catch (err) {
      process.send({ id, ok: false, error: err instanceof Error ? err.message : String(err) })
    }
  })
  process.send({ id: -1, ok: true })
}

function startHost(name, cfg) {
  const child = fork(fileURLToPath(import.meta.url), ['--anchor-host', JSON.stringify(cfg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map()
  let next = 0
  child.on('message', (m) => {
    const w = waiting.get(m.id)
    waiting.delete(m.id)
    if (m.ok) w?.resolve(m.result)
    else w?.reject(new AnchorBenchError(`anchor ${name}: ${m.error}`))
  })
  child.on('exit', (code) => {
    for (const w of waiting.values())
      w.reject(new AnchorBenchError(`anchor ${name} exited (${code})`))
    waiting.clear()
  })
  const call = (op, arg, id = next++) =>
    new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject })
      if (id >= 0) child.send({ id, op, arg })
    })
  return { name, child, call, ready: call(null, null, -1) }
}

function parseRange(text, what) {
  const m = /^(\d+)-(\d+)$/.exec(text)
  const [lo, hi] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN]
  if (!(lo >= 1024 && hi <= 65535 && hi - lo >= 100))
    throw new AnchorBenchError(`${what} must be LO-HI within 1024-65535, at least 100 ports wide`)
  return [lo, hi]
}

/** Port ranges for the phones and both anchors, and how many calls they can hold. */
function portPlan(spec) {
  if (spec == null) return { phones: 0, a: {}, b: {}, cap: Infinity }
  const [lo, hi] = parseRange(spec, '--ports')
  const half = Math.floor((hi - lo + 1 - PHONE_PORTS) / 2)
  const cap = Math.floor((half - 2) / (1 + 1 / RTP_FILL))
  const side = (from) => ({ ice: [from, from + cap + 1], rtp: [from + cap + 2, from + half - 1] })
  return { phones: lo, a: side(lo + PHONE_PORTS), b: side(lo + PHONE_PORTS + half), cap }
}

function numberList(text, what) {
  const xs = text.split(',').map(Number)
  if (xs.some((x) => !Number.isInteger(x) || x < 1))
    throw new AnchorBenchError(`${what} must be positive integers separated by commas`)
  return xs
}

async function main() {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'both' },
      seconds: { type: 'string', default: '5' },
      'max-calls': { type: 'string', default: '400' },
      steps: { type: 'string', default: '25,50,100,150,200,300,400' },
      'transcoded-steps': { type: 'string', default: '10,20,40,60,90,120' },
      ports: { type: 'string' },
      parallel: { type: 'string', default: '8' },
    },
  })
  const seconds = Number(values.seconds)
  const maxCalls = Number(values['max-calls'])
  const parallel = Number(values.parallel)
  if (!(seconds >= 1 && maxCalls >= 1 && parallel >= 1))
    throw new AnchorBenchError('--seconds, --max-calls and --parallel must be numbers ≥ 1')
  if (!['both', 'passthrough', 'transcoded'].includes(values.mode))
    throw new AnchorBenchError('--mode is both, passthrough or transcoded')
  const plan = portPlan(values.ports)
  const steps = {
    passthrough: numberList(values.steps, '--steps'),
    transcoded: numberList(values['transcoded-steps'], '--transcoded-steps'),
  }
  const { pct, printTable, progress } = await import('./lib.mjs')
  const say = progress('anchor-calls')
  const load = loadavg()
  let hosts = []
  let [A, B] = hosts
  /** The anchors' own CPU with no call, taken off the per-call figures. */
  let idle = [0, 0]
  process.on('exit', () => hosts.forEach((h) => h.child.kill('SIGKILL')))
  const phones = await createPhones(plan.phones, await audio())
  const modes = values.mode === 'both' ? ['passthrough', 'transcoded'] : [values.mode]
  const results = {}
  for (const mode of modes) {
    // Fresh anchor processes per mode; killing them frees every call at once
    // (closing hundreds of peer connections one by one takes a minute).
    hosts = [startHost('A', plan.a), startHost('B', plan.b)]
    ;[A, B] = hosts
    await Promise.all(hosts.map((h) => h.ready))
    idle = (await cpuRates(1000)).rates
    const counts = steps[mode].filter((n) => n <= Math.min(maxCalls, plan.cap))
    results[mode] = await ramp(mode, counts)
    await Promise.all(
      hosts.map((h) => new Promise((resolve) => h.child.once('exit', resolve).kill('SIGKILL'))),
    )
  }
  phones.close()
  report()
  process.exit(0)

  /** Add calls step by step; measure each step; stop at ≥ 1 % loss or a failed setup. */
  async function ramp(mode, counts) {
    const calls = []
    const out = []
    let retries = 0
    for (const n of counts) {
      say(`${mode}: setting up calls ${calls.length + 1}..${n}`)
      let failed = 0
      const t0 = performance.now()
      const todo = Array.from({ length: n - calls.length }, (_, j) => calls.length + j)
      while (todo.length > 0) {
        const batch = todo.splice(0, parallel)
        const got = await Promise.allSettled(batch.map((i) => setupCall(mode, i)))
        for (const r of got) {
          if (r.status === 'fulfilled') {
            calls.push(r.value)
            retries += r.value.attempts - 1
          } else {
            failed++
            say(`${mode}: ${r.reason.message}`)
          }
        }
      }
      const setupS = (performance.now() - t0) / 1000
      const step = await measure(calls.length)
      out.push({ ...step, n: calls.length, failed, retries, setupS })
      say(
        `${mode} ${calls.length} calls: loss ${(step.loss * 100).toFixed(2)} %, p99 ${step.p99.toFixed(1)} ms`,
      )
      if (failed > 0 || step.loss >= 0.01) break
    }
    for (const c of calls) phones.remove(c)
    return out
  }

  /** One call, up to 3 attempts: SDP across both anchors, then media flowing both ways. */
  async function setupCall(mode, i) {
    let last
    for (let attempt = 1; attempt <= 3; attempt++) {
      const idA = `${mode}-${i}-${attempt}-a`
      const idB = `${mode}-${i}-${attempt}-b`
      try {
        const call = await connect(mode, i, idA, idB)
        return { ...call, idA, idB, attempts: attempt }
      } catch (err) {
        last = err
        await Promise.allSettled([A.call('end', idA), B.call('end', idB)])
      }
    }
    throw new AnchorBenchError(`call ${i} failed 3 setups: ${last.message}`)
  }

  async function connect(mode, i, idA, idB) {
    const cross = (host, callId, kind, direction, sdp) =>
      host.call('cross', { callId, kind, direction, sdp })
    const pB = phones.portFor('b', i)
    const offerA = phoneSdp(phones.portFor('a', i), '0')
    const webrtcOffer = await cross(A, idA, 'offer', 'phone-to-overlay', offerA)
    const offerB = await cross(B, idB, 'offer', 'overlay-to-phone', webrtcOffer)
    const answerB =
      mode === 'passthrough' ? phoneSdp(pB, '0') : phoneSdp(pB, '111', 'rtpmap:111 opus/48000/2')
    const webrtcAnswer = await cross(B, idB, 'answer', 'phone-to-overlay', answerB)
    // The SIP answer's trip across the overlay (rtp-phone.ts overlayHop): applying it
    // within microseconds makes the same-host DTLS race far more likely.
    await sleep(150)
    const answerA = await cross(A, idA, 'answer', 'overlay-to-phone', webrtcAnswer)
    const call = phones.add(i, mode, audioPort(answerA), audioPort(offerB))
    const until = Date.now() + 10_000
    while (!phones.flowing(call)) {
      if (Date.now() > until) {
        phones.remove(call)
        throw new AnchorBenchError('no media both ways within 10 s')
      }
      await sleep(20)
    }
    return call
  }

  /** Warm up 1 s, then `seconds` of measured media; loss and latency over packets sent in that window. */
  async function measure(n) {
    phones.resetReceived()
    await sleep(1000)
    const p0 = process.cpuUsage()
    const w0 = performance.now()
    const { rates, rss, kernel } = await cpuRates(seconds * 1000)
    const w1 = performance.now()
    const pCpu = process.cpuUsage(p0)
    await sleep(500) // packets sent at the window's end still arriving
    const m = phones.analyse(w0, w1)
    const cpuPerCall = (i) => (rates[i] - idle[i]) / n
    const loss = (d) => (d.sent === 0 ? 1 : 1 - d.got / d.sent)
    const sent = m.ab.sent + m.ba.sent
    return {
      loss: sent === 0 ? 1 : 1 - (m.ab.got + m.ba.got) / sent,
      lossAB: loss(m.ab),
      lossBA: loss(m.ba),
      p50: pct([...m.ab.lat, ...m.ba.lat], 50) ?? NaN,
      p99: pct([...m.ab.lat, ...m.ba.lat], 99) ?? NaN,
      p99AB: pct(m.ab.lat, 99) ?? NaN,
      p99BA: pct(m.ba.lat, 99) ?? NaN,
      base50: pct(m.base, 50) ?? NaN,
      base99: pct(m.base, 99) ?? NaN,
      cpuA: cpuPerCall(0),
      cpuB: cpuPerCall(1),
      rss,
      kernel,
      phonesCpu: (pCpu.user + pCpu.system) / ((w1 - w0) * 10),
    }
  }

  /** Each anchor process's CPU, µs per second, over the next `ms`. */
  async function cpuRates(ms) {
    const u0 = await Promise.all(hosts.map((h) => h.call('usage')))
    await sleep(ms)
    const u1 = await Promise.all(hosts.map((h) => h.call('usage')))
    const rate = (i, what) => (u1[i].cpu[what] - u0[i].cpu[what]) / ((u1[i].at - u0[i].at) / 1000)
    return {
      rates: hosts.map((_, i) => rate(i, 'user') + rate(i, 'system')),
      kernel: hosts.map((_, i) => rate(i, 'system') / (rate(i, 'user') + rate(i, 'system'))),
      rss: u1.map((u) => u.rss / 2 ** 20),
    }
  }

  function report() {
    const us = (x) => `${Math.round(x)} µs/s (${(x / 1e4).toFixed(2)} % of a core)`
    const perCent = (x) => `${(x * 100).toFixed(2)} %`
    const f = (x) => x.toFixed(2)
    const added = (s) => `+${f(s.p50 - s.base50)} / +${f(s.p99 - s.base99)} ms`
    const rows = [
      ['machine', `${availableParallelism()} cores, load ${load.map(f).join(' ')} at start`],
      ['media', `20 ms frames, 50 packets/s each way per call, ${seconds} s measured per step`],
      ['ports', values.ports == null ? 'any free' : `${values.ports} (room for ${plan.cap} calls)`],
    ]
    for (const [mode, steps] of Object.entries(results)) {
      for (const s of steps) {
        rows.push([
          `${mode}, ${s.n} calls`,
          `loss ${perCent(s.loss)} (A→B ${perCent(s.lossAB)}, B→A ${perCent(s.lossBA)}); ` +
            `one-way p50 ${f(s.p50)}, p99 ${f(s.p99)} ms (A→B ${f(s.p99AB)}, B→A ${f(s.p99BA)}); ` +
            `baseline ${f(s.base50)} / ${f(s.base99)} ms`,
        ])
        rows.push([
          '',
          `CPU per call: A ${Math.round(s.cpuA)}, B ${Math.round(s.cpuB)} µs/s; ` +
            `kernel ${(s.kernel[0] * 100).toFixed(0)} / ${(s.kernel[1] * 100).toFixed(0)} %; ` +
            `RSS ${s.rss[0].toFixed(0)} / ${s.rss[1].toFixed(0)} MiB; ` +
            `bench phones ${s.phonesCpu.toFixed(0)} % of a core; setup ${s.setupS.toFixed(0)} s, retries ${s.retries}` +
            (s.failed > 0 ? `; ${s.failed} calls failed 3 setups` : ''),
        ])
      }
      const clean = steps.filter((s) => s.loss < 0.01 && s.failed === 0).at(-1)
      const most = mode === 'passthrough' ? '  (goal ≥ 200)' : ''
      rows.push([`${mode}: most calls with < 1 % loss`, `${clean?.n ?? 'none'}${most}`])
      const fast = steps.filter((s) => s.loss < 0.01 && s.failed === 0 && s.p99 - s.base99 <= 5)
      rows.push([
        `${mode}: most with < 1 % loss and ≤ 5 ms p99 added`,
        `${fast.at(-1)?.n ?? 'none'}`,
      ])
      if (clean == null) continue
      // Busier anchors take more packets per thread wake-up, so the cost per call
      // falls as calls are added: the first step is the dear end, the last clean one the cheap.
      const cpu = (s) => (mode === 'passthrough' ? (s.cpuA + s.cpuB) / 2 : s.cpuA)
      const [dear, cheap] = [cpu(steps[0]), cpu(clean)]
      const where = mode === 'passthrough' ? 'each anchor' : 'the transcoding anchor (A)'
      rows.push([
        `${mode}: CPU per anchored call`,
        `${us(dear)} at ${steps[0].n} calls … ${us(cheap)} at ${clean.n}, ${where}`,
      ])
      const goal = mode === 'transcoded' ? '  (goal ≥ 30)' : ''
      rows.push([
        `${mode}: calls per core`,
        `${Math.floor(1e6 / dear)} … ${Math.floor(1e6 / cheap)}${goal}`,
      ])
      rows.push([
        `${mode}: added latency p50 / p99`,
        `${added(steps[0])} at ${steps[0].n} calls, ${added(clean)} at ${clean.n}; ` +
          'both anchors and the DTLS-SRTP hop (goal ≤ 5 ms p99)',
      ])
    }
    printTable('bench:sip anchored calls (phone → anchor A ⇄ DTLS-SRTP ⇄ anchor B → phone)', rows)
  }
}

/** A stock phone's plain RTP/AVP SDP (offer or answer). */
function phoneSdp(port, formats, ...attrs) {
  return [
    'v=0',
    'o=phone 42 1 IN IP4 127.0.0.1',
    's=call',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${formats}`,
    ...attrs.map((a) => `a=${a}`),
    'a=sendrecv',
    '',
  ].join('\r\n')
}

function audioPort(sdp) {
  const m = /^m=audio (\d+) /m.exec(sdp)
  if (m == null) throw new AnchorBenchError('an anchor SDP has no m=audio line')
  return Number(m[1])
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * The phones: a pool of UDP sockets per side (a: callers, b: callees) that
 * calls share, each call's two RTP streams, and a baseline of streams sent
 * socket to socket with no anchor between.
 */
async function createPhones(portBase, media) {
  const byPort = new Map() // an anchor's phone-leg port → the stream it delivers
  const bySsrc = new Map() // baseline streams
  const sending = new Set()
  const live = new Set()
  const bind = async (k) => {
    const sock = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 })
    await new Promise((resolve, reject) => {
      sock.once('error', reject)
      sock.bind(portBase === 0 ? 0 : portBase + k, '127.0.0.1', resolve)
    })
    return sock
  }
  const pools = { a: [], b: [] }
  for (let k = 0; k < POOL; k++) {
    pools.a.push(await bind(k))
    pools.b.push(await bind(POOL + k))
  }
  const base = [await bind(2 * POOL), await bind(2 * POOL + 1)]
  const record = (s, msg, at) => {
    if (s == null) return
    s.rts.push(msg.readUInt32BE(4))
    s.rat.push(at)
  }
  for (const sock of [...pools.a, ...pools.b])
    sock.on('message', (msg, from) => record(byPort.get(from.port), msg, performance.now()))
  for (const sock of base)
    sock.on('message', (msg) => record(bySsrc.get(msg.readUInt32BE(8)), msg, performance.now()))

  const rand = (bits) => Math.floor(Math.random() * 2 ** bits)
  /** One RTP stream (RFC 3550 §5.1): packet k carries seq0 + k and ts0 + k·tick. */
  const stream = (sock, dest, pt, payloads, tick, rtick) => {
    const s = {
      sock,
      dest,
      pt,
      payloads,
      tick,
      rtick,
      ssrc: rand(32),
      seq0: rand(16),
      ts0: rand(32),
    }
    Object.assign(s, { sends: [], rts: [], rat: [], nextAt: performance.now() + rand(4) * 5 })
    sending.add(s)
    return s
  }
  const send = (s) => {
    const k = s.sends.length
    const payload = s.payloads[k % s.payloads.length]
    const b = Buffer.allocUnsafe(12 + payload.length)
    b[0] = 0x80
    b[1] = s.pt
    b.writeUInt16BE((s.seq0 + k) & 0xffff, 2)
    b.writeUInt32BE((s.ts0 + k * s.tick) >>> 0, 4)
    b.writeUInt32BE(s.ssrc, 8)
    payload.copy(b, 12)
    s.sends.push(performance.now())
    s.sock.send(b, s.dest, '127.0.0.1')
  }
  // A phone's audio clock keeps running: a late timer sends the frames it owes at once.
  const timer = setInterval(() => {
    const now = performance.now()
    for (const s of sending) for (; s.nextAt <= now; s.nextAt += FRAME_MS) send(s)
  }, 1)
  const baseline = []
  for (let k = 0; k < BASELINE_STREAMS; k++) {
    for (const [from, to] of [base, [...base].reverse()]) {
      const s = stream(from, to.address().port, 0, media.pcmu, 160, 160)
      bySsrc.set(s.ssrc, s)
      baseline.push(s)
    }
  }
  return {
    portFor: (side, i) => pools[side][i % POOL].address().port,
    /** Phone A sends to anchor A's port `toA`; phone B to anchor B's `toB`. */
    add(i, mode, toA, toB) {
      const pass = mode === 'passthrough'
      const ab = stream(pools.a[i % POOL], toA, 0, media.pcmu, 160, pass ? 160 : 960)
      const ba = pass
        ? stream(pools.b[i % POOL], toB, 0, media.pcmu, 160, 160)
        : stream(pools.b[i % POOL], toB, 111, media.opus, 960, 160)
      byPort.set(toB, ab)
      byPort.set(toA, ba)
      const call = { ab, ba, toA, toB }
      live.add(call)
      return call
    },
    flowing: (c) => c.ab.rts.length > 0 && c.ba.rts.length > 0,
    remove(c) {
      sending.delete(c.ab)
      sending.delete(c.ba)
      byPort.delete(c.toA)
      byPort.delete(c.toB)
      live.delete(c)
    },
    resetReceived() {
      for (const s of [...baseline, ...[...live].flatMap((c) => [c.ab, c.ba])]) {
        s.rts = []
        s.rat = []
      }
    },
    analyse(w0, w1) {
      const out = { ab: { sent: 0, got: 0, lat: [] }, ba: { sent: 0, got: 0, lat: [] }, base: [] }
      for (const c of live) {
        for (const dir of ['ab', 'ba']) {
          const r = align(c[dir], w0, w1, out[dir].lat)
          out[dir].sent += r.sent
          out[dir].got += r.got
        }
      }
      for (const s of baseline) align(s, w0, w1, out.base)
      return out
    },
    close() {
      clearInterval(timer)
      for (const sock of [...pools.a, ...pools.b, ...base]) sock.close()
    },
  }
}

/** How many of the ascending `xs` are ≤ t. */
function countUpTo(xs, t) {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (xs[mid] <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Packets of stream `s` sent in [w0, w1), how many arrived, and their one-way
 * times (pushed to `lat`). The anchors rewrite SSRC, sequence numbers and
 * timestamp bases, but timestamps stay linear, so received packet j is send
 * index k0 + u_j, u_j its timestamp distance from the first received in frames.
 * k0 is the largest value that sends no packet after it was received: exact
 * as soon as one packet of the stream took less than a frame (20 ms).
 */
function align(s, w0, w1, lat) {
  const lo = countUpTo(s.sends, w0 - 1e-9)
  const hi = countUpTo(s.sends, w1 - 1e-9)
  const n = s.rts.length
  if (n === 0) return { sent: hi - lo, got: 0 }
  const u = new Array(n)
  let k0 = Infinity
  for (let j = 0; j < n; j++) {
    u[j] = Math.round(((s.rts[j] - s.rts[0]) | 0) / s.rtick)
    k0 = Math.min(k0, countUpTo(s.sends, s.rat[j]) - 1 - u[j])
  }
  const seen = new Uint8Array(Math.max(0, hi - lo))
  let got = 0
  for (let j = 0; j < n; j++) {
    const k = k0 + u[j]
    if (k < lo || k >= hi || seen[k - lo] === 1) continue
    seen[k - lo] = 1
    got++
    lat.push(s.rat[j] - s.sends[k])
  }
  return { sent: hi - lo, got }
}

/**
 * 10 s of speech-like audio (pitch gliding 100–220 Hz, syllable envelope,
 * a little noise), as PCMU payloads and as a browser's Opus (fullband,
 * complexity 9), as bench/anchor-transcode.mjs makes it.
 */
async function audio() {
  const { g711Encode } = await import('../dist/overlay/media/transcode/g711.js')
  const { G711OpusTranscoder } = await import('../dist/overlay/media/transcode/transcoder.js')
  const { parseRtp, serializeRtp } = await import('../dist/overlay/media/transcode/rtp.js')
  const frames = 500
  const pcm = new Int16Array(frames * 160)
  let phase = 0
  let seed = 12345
  for (let i = 0; i < pcm.length; i++) {
    const t = i / 8000
    phase += (2 * Math.PI * (160 + 60 * Math.sin(2 * Math.PI * 0.7 * t))) / 8000
    let v = 0
    for (let h = 1; h <= 15; h++) v += Math.sin(h * phase) / h ** 1.2
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const env = Math.max(0, Math.sin(2 * Math.PI * 2 * t)) ** 0.5
    pcm[i] = Math.round(4000 * env * v + 300 * (seed / 0x7fffffff - 0.5))
  }
  const pcmu = Array.from({ length: frames }, (_, i) =>
    Buffer.from(g711Encode('PCMU', pcm.subarray(i * 160, (i + 1) * 160))),
  )
  const far = new G711OpusTranscoder({
    phone: { codec: 'PCMU' },
    overlay: { payloadType: 111 },
    opus: { maxBandwidth: 'fullband', complexity: 9 },
  })
  const opus = pcmu
    .flatMap((payload, i) =>
      far.phoneToOverlay(
        serializeRtp({
          marker: false,
          payloadType: 0,
          sequenceNumber: i,
          timestamp: i * 160,
          ssrc: 1,
          payload,
        }),
      ),
    )
    .map((p) => Buffer.from(parseRtp(p).payload))
  far.destroy()
  return { pcmu, opus }
}
