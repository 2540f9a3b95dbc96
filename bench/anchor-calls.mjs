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
// This file runs the anchors, the ramp and the report; the phones, their RTP
// streams and the loss/latency alignment are bench/anchor-calls-phones.mjs.
//   node bench/anchor-calls.mjs [--mode both|passthrough|transcoded] [--seconds 5]
//     [--max-calls 400] [--steps 25,50,100,150,200,300,400]
//     [--transcoded-steps 10,20,40,60,90,120] [--parallel 8 (setups at once)]
//     [--ports LO-HI]   (every phone, RTP and ICE port inside LO-HI; default: any free ports)
import { fork } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PHONE_PORTS, audio, createPhones, phoneSdp } from './anchor-calls-phones.mjs'

/**
 * The phone leg binds a random port in its range with 16 tries (phone-leg.ts),
 * so its range stays ≤ 70 % full; libjuice searches its ICE range port by port.
 */
const RTP_FILL = 0.72

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

function audioPort(sdp) {
  const m = /^m=audio (\d+) /m.exec(sdp)
  if (m == null) throw new AnchorBenchError('an anchor SDP has no m=audio line')
  return Number(m[1])
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}
