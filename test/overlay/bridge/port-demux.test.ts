/**
 * The bridge port's first-bytes demultiplexer with real sockets on loopback: a TLS client whose
 * first plaintext is HTTP goes to the HTTP handler, one whose first plaintext is STUN goes to
 * TURN, each with nothing consumed and with its real address; a WebSocket upgrade over TLS works
 * end to end through an http.Server fed the TLS stream (the overlay's path); plain text, garbage
 * and garbage inside TLS are closed with a log line; first bytes trickled one at a time (both
 * the TLS records and the plaintext inside) are still classified; a client that never speaks, or
 * finishes TLS and then says nothing, is closed at the timeout.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { connect as netConnect, createServer as createNetServer } from 'node:net'
import type { Server as NetServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { WebSocket, WebSocketServer } from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateBridgeCertificate } from '../../../src/overlay/bridge/bridge-certificate.js'
import type { BridgeCertificate } from '../../../src/overlay/bridge/bridge-certificate.js'
import {
  PortDemux,
  classifyPlaintext,
  isTlsHandshake,
} from '../../../src/overlay/bridge/port-demux.js'
import type { RemoteAddress } from '../../../src/overlay/bridge/port-demux.js'
import type { Logger } from '../../../src/shared/logger.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A STUN Binding request (RFC 8489 §5): type 0x0001, length 0, magic cookie, transaction ID. */
function stunBinding(): Buffer {
  return Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)])
}

function capturingLog(lines: string[]): Logger {
  const log: Logger = {
    debug: (m) => void lines.push(`debug ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    child: () => log,
  }
  return log
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Resolves when the socket is closed (by the server). */
const closed = (s: Socket) =>
  new Promise<void>((resolve) => {
    if (s.destroyed) return resolve()
    s.once('close', () => resolve())
  })

/** The first `n` bytes a handed-over stream yields (proves nothing was consumed before it). */
function firstData(stream: TLSSocket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0)
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < n) return
      stream.off('data', onData)
      resolve(buf.subarray(0, n))
    }
    stream.on('data', onData)
  })
}

describe('first bytes', () => {
  it('tells TLS handshakes from anything else', () => {
    expect(isTlsHandshake(Buffer.from([0x16]))).toBeUndefined()
    expect(isTlsHandshake(Buffer.from([0x16, 0x03, 0x01]))).toBe(true)
    expect(isTlsHandshake(Buffer.from('GET /'))).toBe(false)
    expect(isTlsHandshake(Buffer.from([0x16, 0x02]))).toBe(false)
  })
  it('tells STUN from HTTP from anything else, waiting for enough bytes', () => {
    const stun = stunBinding()
    for (let n = 1; n < 8; n++) expect(classifyPlaintext(stun.subarray(0, n))).toBeUndefined()
    expect(classifyPlaintext(stun.subarray(0, 8))).toBe('stun')
    expect(classifyPlaintext(Buffer.from([0, 1, 0, 0, 1, 2, 3, 4]))).toBe('unknown')
    expect(classifyPlaintext(Buffer.from('GE'))).toBeUndefined()
    expect(classifyPlaintext(Buffer.from('GET '))).toBe('http')
    expect(classifyPlaintext(Buffer.from('POST '))).toBe('unknown')
    expect(classifyPlaintext(Buffer.from('GEX'))).toBe('unknown')
  })
})

describe('PortDemux on loopback', () => {
  let dir: string
  let cert: BridgeCertificate
  let demux: PortDemux | undefined
  let port = 0
  let lines: string[] = []
  let got: Array<{ kind: 'http' | 'turn'; stream: TLSSocket; remote: RemoteAddress }> = []
  const extra: Array<{ close(): unknown }> = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaiwa-demux-'))
    cert = await loadOrCreateBridgeCertificate(dir)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  async function start(opts: { timeoutMs?: number; turn?: boolean } = {}): Promise<void> {
    lines = []
    got = []
    demux = new PortDemux({
      host: '127.0.0.1',
      port: 0,
      tls: cert,
      log: capturingLog(lines),
      firstBytesTimeoutMs: opts.timeoutMs ?? 10_000,
      handlers: {
        http: (stream, remote) => void got.push({ kind: 'http', stream, remote }),
        turn: (stream, remote) => {
          if (opts.turn === false) return false
          got.push({ kind: 'turn', stream, remote })
          return true
        },
      },
    })
    port = (await demux.listen()).port
  }

  afterEach(async () => {
    for (const x of extra.splice(0)) x.close()
    for (const g of got) g.stream.destroy()
    await demux?.close()
    demux = undefined
  })

  const tls = (opts: { socket?: Socket } = {}) =>
    new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () =>
        resolve(s),
      )
      s.once('error', reject)
    })

  it('hands HTTP inside TLS to the HTTP handler, nothing consumed, with the real address', async () => {
    await start()
    const c = await tls()
    const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
    c.write(request)
    const g = await waitFor('the HTTP handler', () => got[0])
    expect(g.kind).toBe('http')
    expect(g.remote).toEqual({ address: '127.0.0.1', port: c.localPort })
    expect((await firstData(g.stream, request.length)).toString()).toBe(request)
    c.destroy()
  })

  it('hands STUN inside TLS to TURN, nothing consumed, with the real address', async () => {
    await start()
    const c = await tls()
    const msg = stunBinding()
    c.write(msg)
    const g = await waitFor('the TURN handler', () => got[0])
    expect(g.kind).toBe('turn')
    expect(g.remote).toEqual({ address: '127.0.0.1', port: c.localPort })
    expect((await firstData(g.stream, msg.length)).equals(msg)).toBe(true)
    c.destroy()
  })

  it('closes STUN inside TLS when TURN is off', async () => {
    await start({ turn: false })
    const c = await tls()
    c.write(stunBinding())
    await closed(c)
    expect(lines.join('\n')).toMatch(/TURN is off/)
  })

  it('carries a WebSocket upgrade over TLS end to end (the overlay path)', async () => {
    await start()
    const http = createHttpServer((_q, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({ noServer: true })
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(d))),
    )
    extra.push(wss, http)
    // Feed streams the demux classified as HTTP into the (unbound) HTTP server.
    const feeding = setInterval(() => {
      for (const g of got.splice(0)) http.emit('connection', g.stream)
    }, 5)
    extra.push({ close: () => clearInterval(feeding) })
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false })
    const echo = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('over the bridge'))
      ws.once('message', (d: Buffer) => resolve(d.toString()))
      ws.once('error', reject)
    })
    expect(echo).toBe('over the bridge')
    ws.terminate()
  })

  it('closes plain text and garbage before TLS, with a log line', async () => {
    await start()
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0x00, 0x13])]) {
      const s = netConnect(port, '127.0.0.1')
      s.on('error', () => undefined)
      s.write(bytes)
      await closed(s)
    }
    expect(lines.some((l) => /^info bridge: closed 127\.0\.0\.1:\d+: not TLS/.test(l))).toBe(true)
    // The second refusal within a minute is only a debug line.
    expect(lines.filter((l) => l.startsWith('info'))).toHaveLength(1)
    expect(lines.filter((l) => /not TLS/.test(l))).toHaveLength(2)
    expect(got).toHaveLength(0)
  })

  it('closes garbage inside TLS, with a log line', async () => {
    await start()
    const c = await tls()
    c.write(Buffer.from('\x13/multistream/1.0.0\n'))
    await closed(c)
    expect(lines.join('\n')).toMatch(/neither STUN nor HTTP inside TLS/)
    expect(got).toHaveLength(0)
  })

  it('classifies first bytes trickled one at a time, in TLS records and inside them', async () => {
    await start()
    // A proxy that passes the client's first 200 bytes (the ClientHello) one per write.
    const proxy: NetServer = createNetServer((inbound) => {
      const out = netConnect(port, '127.0.0.1')
      out.on('error', () => inbound.destroy())
      inbound.on('error', () => out.destroy())
      out.pipe(inbound)
      let budget = 200
      inbound.on('data', (chunk: Buffer) => {
        inbound.pause()
        void (async () => {
          for (const b of chunk) {
            out.write(Buffer.from([b]))
            if (budget-- > 0) await sleep(1)
          }
          inbound.resume()
        })()
      })
    })
    extra.push(proxy)
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const raw = netConnect((proxy.address() as { port: number }).port, '127.0.0.1')
    raw.setNoDelay(true)
    const c = await tls({ socket: raw })
    const msg = stunBinding()
    for (const b of msg.subarray(0, 8)) {
      c.write(Buffer.from([b]))
      await sleep(20)
    }
    c.write(msg.subarray(8))
    const g = await waitFor('the TURN handler', () => got[0])
    expect(g.kind).toBe('turn')
    expect((await firstData(g.stream, msg.length)).equals(msg)).toBe(true)
    c.destroy()
  })

  it('closes a client that never sends, and one silent after TLS, at the timeout', async () => {
    await start({ timeoutMs: 400 })
    const silent = netConnect(port, '127.0.0.1')
    silent.on('error', () => undefined)
    const afterTls = await tls()
    await Promise.all([closed(silent), closed(afterTls)])
    expect(lines.join('\n')).toMatch(/no TLS and application bytes in time/)
    expect(got).toHaveLength(0)
  })
})
