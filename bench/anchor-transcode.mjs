#!/usr/bin/env node
// bench:sip, anchored part — what G.711 ↔ Opus transcoding at the media anchor
// costs (issue 12 §3: a stock SIP phone offering only PCMU/PCMA, a WebRTC leg
// speaking Opus). Runs the built transcoder (dist/overlay/media/transcode) on
// synthetic speech-like audio, one RTP packet at a time as the anchor calls it:
//   phone → overlay: PCMU 20 ms → G.711 decode, 8→48 kHz, Opus encode
//   overlay → phone: Opus 20 ms → Opus decode, 48→8 kHz, G.711 encode
// CPU time (process.cpuUsage: user + system) per 20 ms frame each way, the
// stages alone, and transcoded calls per core = 20 ms / (both ways).
// Reference, same run: a PCMU passthrough (copy the packet, rewrite SSRC,
// sequence number and timestamp), which is all a non-transcoded anchored
// call costs per packet.
//   node bench/anchor-transcode.mjs [--seconds 20] [--calls 40] [--runs 3] [--complexity 5]
import { parseArgs } from 'node:util'
import { g711Decode, g711Encode } from '../dist/overlay/media/transcode/g711.js'
import { OpusCodec } from '../dist/overlay/media/transcode/opus-codec.js'
import { Downsampler, Upsampler } from '../dist/overlay/media/transcode/resample.js'
import { parseRtp, serializeRtp } from '../dist/overlay/media/transcode/rtp.js'
import { G711OpusTranscoder } from '../dist/overlay/media/transcode/transcoder.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    calls: { type: 'string', default: '40' },
    runs: { type: 'string', default: '3' },
    complexity: { type: 'string', default: '5' },
  },
})
const FRAMES = Math.round((Number(values.seconds) * 1000) / 20)
const CALLS = Number(values.calls)
const RUNS = Number(values.runs)
const opus = { complexity: Number(values.complexity) }
const say = (m) => process.stderr.write(`anchor-transcode ${m}\n`)

/**
 * Speech-like 8 kHz audio: a glottal-ish harmonic series whose pitch glides
 * between 100 and 220 Hz, shaped by a 4 Hz syllable envelope with pauses,
 * plus a little noise (deterministic). Opus works harder on this than on a
 * pure tone or silence.
 */
function speechLike(samples) {
  const out = new Int16Array(samples)
  let phase = 0
  let seed = 12345
  for (let i = 0; i < samples; i++) {
    const t = i / 8000
    const f0 = 160 + 60 * Math.sin(2 * Math.PI * 0.7 * t)
    phase += (2 * Math.PI * f0) / 8000
    let v = 0
    for (let h = 1; h <= 15; h++) v += Math.sin(h * phase) / h ** 1.2
    const env = Math.max(0, Math.sin(2 * Math.PI * 2 * t)) ** 0.5
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    out[i] = Math.round(4000 * env * v + 300 * (seed / 0x7fffffff - 0.5))
  }
  return out
}

const pcm = speechLike(FRAMES * 160)
const phonePackets = Array.from({ length: FRAMES }, (_, i) =>
  serializeRtp({
    marker: i === 0,
    payloadType: 0,
    sequenceNumber: i & 0xffff,
    timestamp: i * 160,
    ssrc: 0x5151,
    payload: g711Encode('PCMU', pcm.subarray(i * 160, (i + 1) * 160)),
  }),
)

const init = () => ({
  phone: { codec: 'PCMU', telephoneEventPayloadType: 101 },
  overlay: { payloadType: 111, telephoneEventPayloadType: 126 },
  opus,
})

// The far end's Opus stream: the same audio, encoded once the way a browser
// would send it (libwebrtc: full band allowed, complexity 9), so decoding is
// not flattered by our own narrowband-only encoder settings.
const farEnd = new G711OpusTranscoder({
  ...init(),
  opus: { ...opus, maxBandwidth: 'fullband', complexity: 9 },
})
const opusPackets = phonePackets.flatMap((p) => farEnd.phoneToOverlay(p))
const opusBytes = opusPackets.reduce((n, p) => n + parseRtp(p).payload.length, 0)
farEnd.destroy()

/** CPU µs per call of `fn(i)` over `n` calls, after a warm-up. */
function cpuPerCall(n, fn, warm = Math.min(200, n)) {
  for (let i = 0; i < warm; i++) fn(i)
  const c0 = process.cpuUsage()
  for (let i = 0; i < n; i++) fn(i)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / n
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** One run: `calls` transcoders, fed round-robin (each gets every frame), per direction. */
function run(calls) {
  const ts = Array.from({ length: calls }, () => new G711OpusTranscoder(init()))
  // Each call needs its own in-order stream: frame f goes to every call, then frame f + 1.
  const up = cpuPerCall(
    FRAMES * calls,
    (i) => {
      ts[i % calls].phoneToOverlay(phonePackets[Math.floor(i / calls)])
    },
    0,
  )
  const down = cpuPerCall(
    opusPackets.length * calls,
    (i) => {
      ts[i % calls].overlayToPhone(opusPackets[Math.floor(i / calls)])
    },
    0,
  )
  const drops = ts.reduce(
    (n, t) => n + t.stats.overlayToPhone.decodeErrors + t.stats.phoneToOverlay.failures,
    0,
  )
  for (const t of ts) t.destroy()
  if (drops > 0) throw new Error(`${drops} packets failed in the benchmark`)
  return { up, down }
}

/** Stage costs per 20 ms frame, each alone. */
function stages() {
  const codec = new OpusCodec(opus)
  const upS = new Upsampler()
  const downS = new Downsampler()
  const frames8 = Array.from({ length: FRAMES }, (_, i) => pcm.subarray(i * 160, (i + 1) * 160))
  const frames48 = frames8.map((f) => upS.process(f))
  const enc = frames48.map((f) => codec.encode(f))
  const payloads = phonePackets.map((p) => parseRtp(p).payload)
  const out = {
    g711: cpuPerCall(FRAMES, (i) => g711Encode('PCMU', g711Decode('PCMU', payloads[i]))),
    up: cpuPerCall(FRAMES, (i) => upS.process(frames8[i])),
    down: cpuPerCall(FRAMES, (i) => downS.process(frames48[i])),
    encode: cpuPerCall(FRAMES, (i) => codec.encode(frames48[i])),
    decode: cpuPerCall(FRAMES, (i) => codec.decode(enc[i])),
  }
  codec.destroy()
  return out
}

/** The reference: what relaying a PCMU packet without transcoding costs. */
function passthrough() {
  let seq = 0
  return cpuPerCall(FRAMES * 10, (i) => {
    const out = Buffer.from(phonePackets[i % FRAMES])
    out.writeUInt16BE((seq = (seq + 1) & 0xffff), 2)
    out.writeUInt32BE((i * 160) >>> 0, 4)
    out.writeUInt32BE(0x1234, 8)
  })
}

say(`${FRAMES} frames (${values.seconds} s of audio) × ${RUNS} runs, 1 and ${CALLS} calls`)
run(2) // warm-up: let the JIT compile every path before anything is timed
const single = []
const many = []
const refs = []
for (let r = 0; r < RUNS; r++) {
  single.push(run(1))
  many.push(run(CALLS))
  refs.push(passthrough())
  say(`run ${r + 1}/${RUNS} done`)
}
const st = stages()
const pick = (rs, k) => median(rs.map((x) => x[k]))
const us = (x) => `${x.toFixed(1)} µs`
const perCore = (both) => Math.floor(20_000 / both)

const s1 = { up: pick(single, 'up'), down: pick(single, 'down') }
const sN = { up: pick(many, 'up'), down: pick(many, 'down') }
const ref = median(refs)
const rows = [
  [
    'audio',
    `${FRAMES} × 20 ms frames of speech-like PCMU, Opus complexity ${opus.complexity}, medians of ${RUNS} runs`,
  ],
  [
    'far end (browser-like Opus)',
    `${((opusBytes * 8) / (opusPackets.length * 20)).toFixed(1)} kbit/s, TOC config ${parseRtp(opusPackets[100]).payload[0] >> 3}`,
  ],
  ['phone → overlay, 1 call', `${us(s1.up)} CPU per frame`],
  ['overlay → phone, 1 call', `${us(s1.down)} CPU per frame`],
  ['transcoded calls per core, 1 call', `${perCore(s1.up + s1.down)}`],
  [`phone → overlay, ${CALLS} calls`, `${us(sN.up)} CPU per frame`],
  [`overlay → phone, ${CALLS} calls`, `${us(sN.down)} CPU per frame`],
  [`transcoded calls per core, ${CALLS} calls`, `${perCore(sN.up + sN.down)}  (goal ≥ 30)`],
  ['stages: G.711 dec+enc', us(st.g711)],
  ['stages: 8→48 kHz / 48→8 kHz', `${us(st.up)} / ${us(st.down)}`],
  ['stages: Opus encode / decode', `${us(st.encode)} / ${us(st.decode)}`],
  [
    'reference: PCMU passthrough',
    `${us(ref)} CPU per packet (${perCore(2 * ref).toLocaleString('en')} calls per core)`,
  ],
]
const w = Math.max(...rows.map((r) => r[0].length))
console.log(
  `\nbench:sip anchored transcoding (${new Date().toISOString()}, Node ${process.version})`,
)
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`)
