/**
 * coturn's turnutils_uclient, an independent RFC 5766 client, against our TURN server with the
 * server's default options (only allowLoopback, since client, server and peer share 127.0.0.1)
 * and the client's default modes, each with 0 % loss:
 * - default: RTP/RTCP pairs (its first Allocate carries EVEN-PORT with the R bit, the next one
 *   the RESERVATION-TOKEN it got, RFC 8656 §7.2) over channels, whose numbers it picks from RFC
 *   5766 §11's 0x4000-0x7FFF;
 * - -c: no RTCP allocations (EVEN-PORT without R bit, or none, at random);
 * - -s: Send/Data indications instead of channels;
 * - -t: TCP to the server (ChannelData padded, RFC 8656 §12.5);
 * - -y: client to client, each client's peer the other's relayed address;
 * - -g: DONT-FRAGMENT in every Allocate;
 * - -y -x: client to client on IPv6 relays (the server given host6 ::1).
 * The peer is coturn's turnutils_peer, an echo server on 127.0.0.1 (the port and the one above,
 * for the RTCP half).
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ReservationTable } from '../../../src/overlay/turn/relay-reservations.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import type { TurnServerOptions } from '../../../src/overlay/turn/turn-server.js'
import { required } from '../../helpers/requirements.js'

const run = promisify(execFile)
const SECRET = 'uclient-secret'
/** turnutils_peer listens here and on PEER_PORT + 1 (the RTCP peer of uclient's pairs). */
const PEER_PORT = 36480
const MESSAGES = 10

const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, bin)))
const haveCoturn = required(
  onPath('turnutils_uclient') && onPath('turnutils_peer'),
  "coturn's turnutils_uclient and turnutils_peer",
)

/** Resolve once the UDP echo server on 127.0.0.1:port answers. */
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

/** The figures of uclient's summary lines. */
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
    sendDropped: Number(loss[3]),
  }
}

describe.runIf(haveCoturn)('coturn turnutils_uclient in its default modes', () => {
  let peer: ChildProcess | undefined
  let server: TurnServer | undefined

  beforeAll(async () => {
    peer = spawn('turnutils_peer', ['-L', '127.0.0.1', '-p', String(PEER_PORT)], {
      stdio: 'ignore',
    })
    await echoes(PEER_PORT)
    await echoes(PEER_PORT + 1)
  })
  afterAll(() => {
    peer?.kill()
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await server?.close()
    server = undefined
  })

  async function uclient(flags: string[], opts: Partial<TurnServerOptions> = {}) {
    server = new TurnServer({ secret: SECRET, allowLoopback: true, ...opts })
    const { port } = await server.listen()
    const c = issueTurnCredentials(SECRET, 'uclient', 600)
    const args = [...flags, '-u', c.username, '-w', c.password, '-p', String(port)]
    args.push('-n', String(MESSAGES), '-l', '160', '-e', '127.0.0.1', '-r', String(PEER_PORT))
    args.push('127.0.0.1')
    const out = await run('turnutils_uclient', args, { timeout: 30_000 }).then(
      (r) => r.stdout + r.stderr,
      (e: { code?: number; stdout?: string; stderr?: string }) => {
        throw new Error(`turnutils_uclient exited ${e.code}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
      },
    )
    return { out, stats: server.stats() }
  }

  // Messages per mode: -n per session; RTCP pairs double the sessions, -y doubles them again.
  const modes: [string, string[], number][] = [
    ['without RTCP (-c), over channels', ['-c'], MESSAGES],
    ['with Send/Data indications (-s)', ['-s'], 2 * MESSAGES],
    ['over TCP (-t)', ['-t'], 2 * MESSAGES],
    ['client to client (-y)', ['-y'], 4 * MESSAGES],
    ['with DONT-FRAGMENT (-g)', ['-g'], 2 * MESSAGES],
  ]
  const lossless = (messages: number) => ({
    sent: messages,
    received: messages,
    lost: 0,
    lostPercent: 0,
    sendDropped: 0,
  })
  const relayedAll = (messages: number) => ({
    packetsToPeers: messages,
    packetsToClients: messages,
    packetsDropped: 0,
  })

  it('relays RTCP pairs over channels (the default) with 0 % loss', async () => {
    const add = vi.spyOn(ReservationTable.prototype, 'add')
    const take = vi.spyOn(ReservationTable.prototype, 'take')
    const { out, stats } = await uclient([])
    expect(summary(out)).toEqual(lossless(2 * MESSAGES))
    expect(stats).toMatchObject(relayedAll(2 * MESSAGES))
    // Its probe and RTCP Allocates carry EVEN-PORT with the R bit, each reserving an odd port
    // N+1; its RTP Allocate carries the probe's RESERVATION-TOKEN and gets that port.
    expect(add).toHaveBeenCalledTimes(2)
    for (const [endpoint] of add.mock.calls) expect(endpoint.port % 2).toBe(1)
    expect(take).toHaveBeenCalledTimes(1)
    expect(take.mock.results[0]?.value?.endpoint).toBe(add.mock.calls[0]![0])
  })

  for (const [what, flags, messages] of modes) {
    it(`relays ${what} with 0 % loss`, async () => {
      const { out, stats } = await uclient(flags)
      expect(summary(out)).toEqual(lossless(messages))
      expect(stats).toMatchObject(relayedAll(messages))
    })
  }

  it('relays RTCP pairs client to client on IPv6 relays (-y -x) with 0 % loss', async () => {
    // The R bit reserves N+1 on the IPv6 relay address; the token's Allocate gets it there.
    const { out, stats } = await uclient(['-y', '-x'], { host6: '::1' })
    expect(summary(out)).toEqual(lossless(4 * MESSAGES))
    expect(stats).toMatchObject(relayedAll(4 * MESSAGES))
  })
})
