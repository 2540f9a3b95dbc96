// bench:sip anchored part's phones: the stock phones at both ends of every
// anchored call (a shared pool of UDP sockets per side), their plain RTP/AVP
// SDP, the RTP streams they send at 50 packets/s, a direct loopback baseline,
// the alignment of received packets to sent ones for loss and one-way latency,
// and the speech-like audio they send as PCMU or Opus. Split from
// bench/anchor-calls.mjs, which runs the anchors, the ramp and the report.
import { createSocket } from 'node:dgram'

/** The phones' UDP sockets per side: calls share them, demultiplexed by the anchor's source port. */
const POOL = 8
/** Ports the phones take at the bottom of --ports: the pools and two baseline sockets. */
export const PHONE_PORTS = 2 * POOL + 2
const FRAME_MS = 20
const BASELINE_STREAMS = 4

/** A stock phone's plain RTP/AVP SDP (offer or answer). */
export function phoneSdp(port, formats, ...attrs) {
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

/**
 * The phones: a pool of UDP sockets per side (a: callers, b: callees) that
 * calls share, each call's two RTP streams, and a baseline of streams sent
 * socket to socket with no anchor between.
 */
export async function createPhones(portBase, media) {
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
export async function audio() {
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
