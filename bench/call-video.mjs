#!/usr/bin/env node
// bench:call, video part (issue 14 §6) — 1:1 video calls between two real
// softphone UIs over a real overlay on loopback: a supernode (STUN/TURN on
// 127.0.0.1, ports in 27000-27999), two `kaiwa node --ui` clients, Debian's
// Chromium with the fake camera (a moving pattern) and one browser context
// (renderer process) per user. Each call goes through the UI only: the caller
// types the user ID and clicks "Video call", the callee clicks "Answer with
// video", and an in-page probe (an init script that only timestamps) records
//   - the click on Answer with video (capture phase, before React sees it);
//   - the first remote video frame on each side: every remote video track is
//     played in a detached <video> and requestVideoFrameCallback fires on the
//     first frame presented.
// Then, with the call up, each renderer's CPU (/proc ticks) over a window,
// against the same window idle before any call, and the received video's
// resolution, frame rate and bitrate (the UI's own stats). Goal: the first
// remote frame ≤ 500 ms after answer on loopback.
//   node bench/call-video.mjs [--calls 5] [--window 10] [--relay]
//   (npm run bench:call -- --video only ... runs it from bench/call.mjs)
/* global window, document, MediaStream, Element */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { pct, printTable, progress } from './lib.mjs'
import { rendererProcesses, stopChildren, killChildrenNow } from './call-procs.mjs'
import { button, f, sleep, startUiRig } from './call-ui.mjs'
const GOAL_FIRST_FRAME_MS = 500
const TICKS_PER_S = 100 // USER_HZ

/**
 * In the page: timestamps of the answer click and, per remote video track, of
 * its first RTP (the track unmutes), its first decoded frame (getStats polled
 * every 5 ms: inbound-rtp framesDecoded > 0) and its first presented frame
 * (requestVideoFrameCallback on a <video> playing it).
 */
export function installVideoProbe() {
  if (window.__vbench != null) return
  const now = () => performance.timeOrigin + performance.now()
  const V = { answerAt: null, audio: [], unmuted: [], decoded: [], presented: [] }
  window.__vbench = V
  window.addEventListener(
    'click',
    (e) => {
      const b = e.target instanceof Element ? e.target.closest('button') : null
      if (b != null && b.textContent.trim() === 'Answer with video') V.answerAt = now()
    },
    true,
  )
  const Base = window.RTCPeerConnection
  window.RTCPeerConnection = class extends Base {
    constructor(...args) {
      super(...args)
      this.addEventListener('track', (e) => {
        // Audio's first RTP too: the same path's figure, to compare under the same load.
        if (e.track.kind === 'audio')
          e.track.addEventListener('unmute', () => V.audio.push(now()), { once: true })
        if (e.track.kind !== 'video') return
        const track = e.track
        track.addEventListener('unmute', () => V.unmuted.push(now()), { once: true })
        const el = document.createElement('video')
        el.muted = true
        el.srcObject = new MediaStream([track])
        el.requestVideoFrameCallback(() => {
          V.presented.push(now())
          el.srcObject = null
        })
        void el.play().catch(() => {})
        const poll = async () => {
          const report = await this.getStats(track).catch(() => null)
          let decoded = 0
          report?.forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') decoded += s.framesDecoded ?? 0
          })
          if (decoded > 0) V.decoded.push(now())
          else if (this.connectionState !== 'closed') setTimeout(poll, 5)
        }
        void poll()
      })
    }
  }
}

const stats = (p) => p.evaluate(() => window.__kaiwaCallStats?.() ?? null)

/** CPU of every renderer together over `seconds`, as a share of one core. */
async function cpuOver(seconds) {
  const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0)
  const before = sum(rendererProcesses())
  await sleep(seconds * 1000)
  return (sum(rendererProcesses()) - before) / TICKS_PER_S / seconds
}

export async function runVideoBench(opts = {}) {
  const say = opts.say ?? progress('bench:call video')
  const CALLS = opts.calls ?? 5
  const WINDOW_S = opts.windowS ?? 10
  const home = await mkdtemp(join(tmpdir(), 'kaiwa-bench-video-'))
  let browser
  try {
    const rig = await startUiRig({
      home,
      users: ['vcaller', 'vcallee'],
      turnPorts: [27000, 900],
      relayPorts: '27900-27999',
      probe: installVideoProbe,
      relay: opts.relay === true,
      parallel: true,
      say,
    })
    browser = rig.browser
    const { pages } = rig
    await sleep(2000)
    const idle = await cpuOver(WINDOW_S)
    say(`both renderers idle: ${(idle * 100).toFixed(0)} % of a core`)

    const [caller, callee] = pages
    const results = []
    for (let i = 0; i < CALLS; i++) {
      for (const p of pages) {
        await p.evaluate(() =>
          Object.assign(window.__vbench, {
            answerAt: null,
            audio: [],
            unmuted: [],
            decoded: [],
            presented: [],
          }),
        )
      }
      await caller.getByRole('textbox', { name: 'User ID', exact: true }).fill('vcallee')
      await button(caller, 'Video call').click()
      await button(callee, 'Answer with video').click()
      const first = async (p) => {
        await p.waitForFunction(() => window.__vbench.presented.length > 0, undefined, {
          timeout: 30_000,
        })
        return p.evaluate(() => window.__vbench)
      }
      const [a, b] = await Promise.all([first(caller), first(callee)])
      const answerAt = b.answerAt
      const since = (t) => (t == null ? null : t - answerAt)
      const r = {
        callerFirstFrame: since(a.presented[0]),
        calleeFirstFrame: since(b.presented[0]),
        callerAudio: since(a.audio[0]),
        calleeAudio: since(b.audio[0]),
        callerRtp: since(a.unmuted[0]),
        calleeRtp: since(b.unmuted[0]),
        callerDecoded: since(a.decoded[0]),
        calleeDecoded: since(b.decoded[0]),
      }
      await sleep(3000) // past the ramp-up of congestion control
      const cpu = await cpuOver(WINDOW_S)
      const [sa, sb] = await Promise.all([stats(caller), stats(callee)])
      Object.assign(r, {
        cpu,
        path: sa?.path,
        recvCaller: sa?.video?.inbound,
        recvCallee: sb?.video?.inbound,
      })
      results.push(r)
      const v = sb?.video?.inbound
      say(
        `call ${i + 1}/${CALLS} after answer: caller RTP ${f(r.callerRtp)} decoded ` +
          `${f(r.callerDecoded)} shown ${f(r.callerFirstFrame)}; callee RTP ${f(r.calleeRtp)} ` +
          `decoded ${f(r.calleeDecoded)} shown ${f(r.calleeFirstFrame)}; renderers ` +
          `${(cpu * 100).toFixed(0)} % of a core; ${r.path}; ` +
          `${v?.width}×${v?.height} ${v?.fps} fps ${v?.kbps} kbit/s`,
      )
      await button(caller, 'Hang up').click()
      await button(callee, 'Mute').waitFor({ state: 'detached' })
      await sleep(500)
    }
    report(results, idle, WINDOW_S, opts.relay === true)
    return results
  } finally {
    await browser?.close().catch(() => {})
    await stopChildren()
    await rm(home, { recursive: true, force: true }).catch(() => {})
  }
}

function report(results, idle, windowS, relay) {
  const both = (k1, k2) => results.flatMap((r) => [r[k1], r[k2]]).filter((x) => x != null)
  const row = (label, xs) => [
    label,
    `p50 ${f(pct(xs, 50))}, p90 ${f(pct(xs, 90))}, max ${f(Math.max(...xs))}`,
  ]
  const shown = both('callerFirstFrame', 'calleeFirstFrame')
  const met = Math.max(...shown) <= GOAL_FIRST_FRAME_MS ? 'met' : 'not met'
  printTable(
    `video calls, answer → (both sides; ${results.length} calls, loopback` +
      `${relay ? ', relay only' : ''}, load ${loadavg()[0].toFixed(2)})`,
    [
      row('first audio RTP (for comparison)', both('callerAudio', 'calleeAudio')),
      row('first video RTP (track unmuted)', both('callerRtp', 'calleeRtp')),
      row('first frame decoded (getStats)', both('callerDecoded', 'calleeDecoded')),
      row('first frame shown (requestVideoFrameCallback)', shown),
      [`goal: first frame ≤ ${GOAL_FIRST_FRAME_MS} ms`, met],
    ],
  )
  const cpu = results.map((r) => r.cpu)
  const avg = cpu.reduce((a, b) => a + b, 0) / cpu.length
  const core = (x) => `${(x * 100).toFixed(0)} % of a core`
  printTable(`renderer CPU (${windowS} s windows, both renderers of the call together)`, [
    ['idle, no call', core(idle)],
    ['in a 1:1 video call', `${core(avg)} (max ${core(Math.max(...cpu))})`],
    ['per side, the call alone ((in call − idle) / 2)', core((avg - idle) / 2)],
  ])
  const v = results.at(-1)?.recvCallee
  if (v != null)
    console.log(
      `  last call, callee receives ${v.width}×${v.height}, ${v.fps} fps, ${v.kbps} kbit/s`,
    )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '5' },
      window: { type: 'string', default: '10' },
      relay: { type: 'boolean', default: false },
    },
  })
  const stop = () => {
    killChildrenNow()
    process.exit(130)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  runVideoBench({
    calls: Number(values.calls),
    windowS: Number(values.window),
    relay: values.relay,
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      killChildrenNow()
      process.exit(1)
    },
  )
}
