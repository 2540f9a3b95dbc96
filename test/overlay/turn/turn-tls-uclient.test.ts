/**
 * TURN over TLS (RFC 8656 §3.1) on the bridge port, against coturn's turnutils_uclient with -S
 * (TLS) -t (TCP): the bridge's PortDemux terminates TLS with the supernode's self-signed
 * certificate, sees STUN inside and hands the stream to our TurnServer, which relays to coturn's
 * turnutils_peer echo server with 0 % loss, over channels and with Send/Data indications. The
 * server counts the TLS connections and the allocations made over them, and keys them by the
 * client's real address (the per-client rate limit relies on it).
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateBridgeCertificate } from '../../../src/overlay/bridge/bridge-certificate.js'
import { PortDemux } from '../../../src/overlay/bridge/port-demux.js'
import type { RemoteAddress } from '../../../src/overlay/bridge/port-demux.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import { silentLogger } from '../../helpers/logger.js'
import { required } from '../../helpers/requirements.js'

const run = promisify(execFile)
const SECRET = 'uclient-tls-secret'
/** turnutils_peer listens here and on PEER_PORT + 1 (uclient's RTCP half). */
const PEER_PORT = 21480
const MESSAGES = 10

const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, bin)))
const haveCoturn = required(
  onPath('turnutils_uclient') && onPath('turnutils_peer'),
  "coturn's turnutils_uclient and turnutils_peer",
)

async function echoes(port: number): Promise<void> {
  const s = createSocket('udp4')
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      const answered = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 100)
        s.once('message', () => {
          clearTimeout(t)
          resolve(true)
        })
      })
      s.send('ping', port, '127.0.0.1')
      if (await answered) return
    }
    throw new Error(`turnutils_peer does not answer on port ${port}`)
  } finally {
    s.close()
  }
}

function summary(out: string) {
  const totals = /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m.exec(out)
  const loss =
    /Total lost packets (\d+) \(([\d.]+)%\), total send dropped (\d+) \(([\d.]+)%\)/.exec(out)
  if (!totals || !loss) throw new Error(`no summary in turnutils_uclient's output:\n${out}`)
  return {
    sent: Number(totals[1]),
    received: Number(totals[2]),
    lost: Number(loss[1]),
    lostPercent: Number(loss[2]),
  }
}

describe.runIf(haveCoturn)('coturn turnutils_uclient -S: TURN over TLS on the bridge port', () => {
  let peer: ChildProcess | undefined
  let dir = ''
  let server: TurnServer | undefined
  let demux: PortDemux | undefined
  const remotes: RemoteAddress[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaiwa-turns-'))
    peer = spawn('turnutils_peer', ['-L', '127.0.0.1', '-p', String(PEER_PORT)], {
      stdio: 'ignore',
    })
    await echoes(PEER_PORT)
    await echoes(PEER_PORT + 1)
  })
  afterAll(() => {
    peer?.kill()
    rmSync(dir, { recursive: true, force: true })
  })
  afterEach(async () => {
    await demux?.close()
    await server?.close()
    demux = undefined
    server = undefined
    remotes.length = 0
  })

  async function uclient(flags: string[]) {
    server = new TurnServer({ secret: SECRET, allowLoopback: true })
    await server.listen()
    const s = server
    demux = new PortDemux({
      host: '127.0.0.1',
      port: 0,
      tls: await loadOrCreateBridgeCertificate(dir),
      log: silentLogger,
      handlers: {
        http: (stream) => stream.destroy(),
        turn: (stream, remote) => {
          remotes.push(remote)
          return s.acceptTlsStream(stream, remote)
        },
      },
    })
    const { port } = await demux.listen()
    const c = issueTurnCredentials(SECRET, 'uclient', 600)
    const args = [...flags, '-u', c.username, '-w', c.password, '-p', String(port)]
    args.push('-n', String(MESSAGES), '-l', '160', '-e', '127.0.0.1', '-r', String(PEER_PORT))
    args.push('127.0.0.1')
    const out = await run('turnutils_uclient', args, { timeout: 60_000 }).then(
      (r) => r.stdout + r.stderr,
      (e: { code?: number; stdout?: string; stderr?: string }) => {
        throw new Error(`turnutils_uclient exited ${e.code}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
      },
    )
    return { out, stats: server.stats() }
  }

  const modes: [string, string[], number][] = [
    ['RTCP pairs over channels', ['-S', '-t'], 2 * MESSAGES],
    ['Send/Data indications (-s)', ['-S', '-t', '-s'], 2 * MESSAGES],
    ['without RTCP (-c)', ['-S', '-t', '-c'], MESSAGES],
  ]
  for (const [what, flags, messages] of modes) {
    it(`relays ${what} with 0 % loss`, async () => {
      const { out, stats } = await uclient(flags)
      expect(summary(out)).toEqual({ sent: messages, received: messages, lost: 0, lostPercent: 0 })
      expect(stats).toMatchObject({
        packetsToPeers: messages,
        packetsToClients: messages,
        packetsDropped: 0,
      })
      // Every allocation came over TLS, on as many TLS connections.
      expect(stats.tlsConnections).toBeGreaterThan(0)
      expect(stats.allocationsTls).toBe(stats.allocationsTotal)
      expect(stats.allocationsTotal).toBeGreaterThan(0)
      // The demux saw the client's own ephemeral ports on 127.0.0.1, not a proxy's.
      expect(remotes.length).toBe(stats.tlsConnections)
      for (const r of remotes) expect(r.address).toBe('127.0.0.1')
      expect(new Set(remotes.map((r) => r.port)).size).toBe(remotes.length)
    })
  }
})
