#!/usr/bin/env node
// Load generator child of bench/relay.mjs (started with fork, driven over IPC). Each stream is
// one TURN allocation on its own UDP socket with channel 0x4000 bound to this process's peer
// socket. During a run every stream sends a 172-byte payload (an Opus frame) every 20 ms as
// ChannelData; the peer echoes each payload back through the relay, so traffic crosses the
// server both ways. Payload: [0..3] stream index, [4] 1 inside the measured window,
// [8..15] send time (process.hrtime.bigint(), CLOCK_MONOTONIC: one clock for all processes).
// With `binary` (relay-load-c.mjs) the runs are made by that C program on the same ports; this
// process then only sets streams up and holds their ports between runs.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import {
  StunMethod,
  decodeStun,
  encodeStun,
  longTermKey,
} from '../dist/overlay/turn/stun-message.js'
import { issueTurnCredentials } from '../dist/overlay/turn/turn-credentials.js'

const PAYLOAD = 172
const PERIOD_MS = 20
const CHANNEL = 0x4000
const BUCKET_US = 10
const BUCKETS = 20_000 // 10 µs buckets up to 200 ms; the last one collects the rest
const HOST = '127.0.0.1'
/** dgram resolves every destination through dns.lookup and a nextTick; ours are IPs already. */
const ipLookup = (address, _family, cb) => cb(null, address, 4)

let cfg
let peer
const streams = []
const histUp = new Uint32Array(BUCKETS)
const histDown = new Uint32Array(BUCKETS)
const counts = { sentUp: 0, recvUp: 0, sentDown: 0, recvDown: 0 }

const record = (hist, sentAt) => {
  const us = Number(process.hrtime.bigint() - sentAt) / 1000
  hist[Math.min(BUCKETS - 1, Math.floor(us / BUCKET_US))]++
}

const bindSocket = (s, port) =>
  new Promise((resolve, reject) => {
    s.once('error', reject)
    s.bind(port, HOST, () => {
      s.off('error', reject)
      resolve()
    })
  })
const closeSocket = (s) => new Promise((resolve) => s.close(resolve))

async function openPeer(port = 0) {
  const s = createSocket({ type: 'udp4', lookup: ipLookup, recvBufferSize: 4 << 20 })
  await bindSocket(s, port)
  s.on('message', (msg, rinfo) => {
    if (msg.length < 16) return
    const flagged = msg[4] === 1
    if (flagged) {
      counts.recvUp++
      record(histUp, msg.readBigUInt64BE(8))
      counts.sentDown++
    }
    msg.writeBigUInt64BE(process.hrtime.bigint(), 8)
    s.send(msg, rinfo.port, rinfo.address)
  })
  s.on('error', () => {})
  return s
}

const attr = (m, name) => m.attributes.find((a) => a.name === name)?.value

class Stream {
  constructor(index) {
    this.index = index
    this.pending = new Map()
  }

  /** Bind a socket on `port` (0: any) connected to the server; the 5-tuple is the allocation. */
  async hold(port = 0) {
    this.sock = createSocket({ type: 'udp4', lookup: ipLookup })
    this.sock.on('message', (msg) => this.onMessage(msg))
    await bindSocket(this.sock, port)
    this.sock.on('error', () => {})
    this.port = this.sock.address().port
    await new Promise((resolve, reject) =>
      this.sock.connect(cfg.serverPort, HOST, (e) => (e ? reject(e) : resolve())),
    )
  }

  async open() {
    await this.hold()
    const creds = issueTurnCredentials(cfg.secret, `bench${cfg.child}x${this.index}`, 3600)
    this.key = longTermKey(creds.username, cfg.realm, creds.password)
    this.creds = creds
    const transport = [{ name: 'REQUESTED-TRANSPORT', value: 17 }]
    const first = await this.request(StunMethod.Allocate, transport, false)
    this.nonce = attr(first, 'NONCE')
    const alloc = await this.request(StunMethod.Allocate, transport, true)
    if (alloc.class !== 'success')
      throw new Error(`Allocate: ${JSON.stringify(attr(alloc, 'ERROR-CODE'))}`)
    await this.bind()
  }

  async bind() {
    const peerAddr = { family: 'IPv4', address: HOST, port: peer.address().port }
    const r = await this.request(
      StunMethod.ChannelBind,
      [
        { name: 'CHANNEL-NUMBER', value: CHANNEL },
        { name: 'XOR-PEER-ADDRESS', value: peerAddr },
      ],
      true,
    )
    if (r.class !== 'success')
      throw new Error(`ChannelBind: ${JSON.stringify(attr(r, 'ERROR-CODE'))}`)
    this.boundAt = Date.now()
  }

  /** One request, retransmitted every 500 ms up to 7 times (RFC 8489 §6.2.1, shortened). */
  request(method, attrs, authed) {
    const transactionId = new Uint8Array(randomBytes(12))
    const attributes = authed
      ? [
          ...attrs,
          { name: 'USERNAME', value: this.creds.username },
          { name: 'REALM', value: cfg.realm },
          { name: 'NONCE', value: this.nonce },
        ]
      : attrs
    const bytes = encodeStun(
      { method, class: 'request', transactionId, attributes },
      authed ? { integrityKey: this.key, fingerprint: true } : {},
    )
    const id = Buffer.from(transactionId).toString('hex')
    return new Promise((resolve, reject) => {
      let tries = 0
      const send = () => {
        if (++tries > 7) {
          this.pending.delete(id)
          return reject(new Error('no answer'))
        }
        this.sock.send(bytes)
        timer = setTimeout(send, 500)
      }
      let timer
      this.pending.set(id, (m) => {
        clearTimeout(timer)
        this.pending.delete(id)
        resolve(m)
      })
      send()
    })
  }

  onMessage(msg) {
    const b0 = msg[0]
    if (b0 >= 0x40 && b0 <= 0x7f) {
      if (msg.length >= 20 && msg[8] === 1) {
        counts.recvDown++
        record(histDown, msg.readBigUInt64BE(12))
      }
      return
    }
    try {
      const m = decodeStun(new Uint8Array(msg.buffer, msg.byteOffset, msg.length))
      this.pending.get(Buffer.from(m.transactionId).toString('hex'))?.(m)
    } catch {
      // not for us
    }
  }

  sendFrame(flag) {
    const b = Buffer.allocUnsafe(4 + PAYLOAD)
    b.writeUInt16BE(CHANNEL, 0)
    b.writeUInt16BE(PAYLOAD, 2)
    b.writeUInt32BE(this.index, 4)
    b[8] = flag
    b.writeBigUInt64BE(process.hrtime.bigint(), 12)
    this.sock.send(b)
  }
}

/** Open streams until there are `count`, `parallel` at a time. */
async function grow(count, parallel = 32) {
  let failed = 0
  let lastError
  const todo = []
  for (let i = streams.length; i < count; i++) todo.push(i)
  const worker = async () => {
    for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
      const s = new Stream(i)
      try {
        await s.open()
        streams.push(s)
      } catch (e) {
        failed++
        lastError = String(e)
        s.sock?.close()
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  // Permissions last 300 s (RFC 8656 §9); rebind streams older than 2 minutes before a run.
  const stale = streams.filter((s) => Date.now() - s.boundAt > 120_000)
  await Promise.all(stale.map((s) => s.bind().catch(() => {})))
  return { failed, lastError }
}

/**
 * Send for warmMs + measureMs from t0 (absolute hrtime, ns); only the measured window's
 * packets are flagged and counted. Stream i sends at phase i·20ms/n, so sends are spread evenly.
 */
async function run({ t0, warmMs, measureMs, drainMs }) {
  counts.sentUp = counts.recvUp = counts.sentDown = counts.recvDown = 0
  histUp.fill(0)
  histDown.fill(0)
  const n = streams.length
  const start = BigInt(t0)
  const msSince = () => Number(process.hrtime.bigint() - start) / 1e6
  const measureFrom = warmMs
  const end = warmMs + measureMs
  let k = 0
  let cycle = 0
  let next = 0 // due time (ms since t0) of stream k's next packet: cycle·20 ms + k·20 ms/n
  let maxLag = 0
  while (msSince() < 0) await new Promise((r) => setTimeout(r, 1))
  await new Promise((resolve) => {
    const tick = () => {
      const now = msSince()
      if (now >= end) {
        clearInterval(timer)
        return resolve()
      }
      if (now - next > maxLag) maxLag = now - next
      while (next <= now && next < end) {
        const flag = next >= measureFrom ? 1 : 0
        streams[k].sendFrame(flag)
        if (flag) counts.sentUp++
        if (++k === n) {
          k = 0
          cycle++
        }
        next = cycle * PERIOD_MS + (k * PERIOD_MS) / n
      }
    }
    const timer = setInterval(tick, 1)
  })
  await new Promise((r) => setTimeout(r, drainMs))
  const sparse = (h) => {
    const out = []
    for (let i = 0; i < h.length; i++) if (h[i]) out.push([i, h[i]])
    return out
  }
  const hist = { histUp: sparse(histUp), histDown: sparse(histDown) }
  return { ...counts, sendErrors: 0, maxLagMs: maxLag, ...hist }
}

/** A run by the C data plane: release the ports, let it use them, then hold them again. */
async function runNative({ t0, warmMs, measureMs, drainMs }) {
  const peerPort = peer.address().port
  await Promise.all([...streams.map((s) => closeSocket(s.sock)), closeSocket(peer)])
  const args = [cfg.serverPort, peerPort, t0, warmMs, measureMs, drainMs].map(String)
  const child = spawn(cfg.binary, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  process.send({ type: 'dataPlane', pid: child.pid })
  child.stdin.end(streams.map((s) => s.port).join('\n'))
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise((resolve) => child.once('exit', resolve))
  peer = await openPeer(peerPort)
  await Promise.all(streams.map((s) => s.hold(s.port)))
  if (code !== 0) throw new Error(`relay-load exited with ${code}`)
  return JSON.parse(out)
}

process.on('message', async (m) => {
  try {
    if (m.type === 'init') {
      cfg = m
      peer = await openPeer()
      process.send({ type: 'ready' })
    } else if (m.type === 'grow') {
      const r = await grow(m.count)
      process.send({ type: 'grown', streams: streams.length, ...r })
    } else if (m.type === 'run') {
      process.send({ type: 'result', ...(await (cfg.binary ? runNative(m) : run(m))) })
    } else if (m.type === 'close') {
      for (const s of streams) s.sock.close()
      peer?.close()
      process.exit(0)
    }
  } catch (e) {
    process.send({ type: 'error', error: String(e?.stack ?? e) })
  }
})
process.on('disconnect', () => process.exit(0))
