/**
 * TURN on supernodes: a client asks its supernode for credentials over
 * /kaiwa/turn/1.0.0 (the control API's turnCredentials), and coturn's own
 * client relays through the supernode's TURN server with them.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dhtServers, freePort, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'

const run = promisify(execFile)
let sn: KaiwaNode
let client: KaiwaNode
let turnPort: number

/**
 * coturn's client: `clients` allocations relaying `messages` 172-byte packets (Send indications);
 * `extra` flags, e.g. -x for IPv6 relayed addresses.
 */
function uclient(
  username: string,
  password: string,
  messages: number,
  clients: number,
  extra: string[] = [],
) {
  return run(
    'turnutils_uclient',
    [
      '-y',
      '-c',
      '-s',
      ...extra,
      '-u',
      username,
      '-w',
      password,
      '-p',
      String(turnPort),
      '-n',
      String(messages),
      '-m',
      String(clients),
      '-l',
      '172',
      '-e',
      '127.0.0.1',
      '127.0.0.1',
    ],
    { timeout: 30_000 },
  )
}

describe('TURN on supernodes', () => {
  beforeAll(async () => {
    turnPort = await freePort()
    sn = await startTestNode({ supernode: 'on', turnPort })
    client = await startTestNode({ bootstrap: [tcpAddr(sn)] })
    await waitFor(() => dhtServers(client) > 0, 10_000, 'the client to see the supernode')
  }, 60_000)
  afterAll(async () => {
    await Promise.allSettled([client?.stop(), sn?.stop()])
  })

  it('shows the STUN/TURN address in the supernode status, and none on a client', async () => {
    const st = await sn.api.status({})
    expect(st.turn?.address).toBe(`127.0.0.1:${turnPort}`)
    expect(st.turn?.urls).toContain(`turn:127.0.0.1:${turnPort}?transport=udp`)
    expect((await client.api.status({})).turn).toBeNull()
  })

  it('issues short-lived credentials to an overlay peer, and coturn relays with them', async () => {
    const creds = await client.api.turnCredentials({})
    expect(creds.from).toBe(sn.peerId)
    expect(creds.username).toMatch(new RegExp(`^\\d+:${client.peerId}$`))
    expect(creds.expiresAt * 1000).toBeGreaterThan(Date.now())
    const { stdout, stderr } = await uclient(creds.username, creds.password, 20, 2)
    const out = stdout + stderr
    expect(out).toMatch(/Total lost packets 0 \(0\.0+%\)/)
    const stats = (await sn.api.status({})).turn!.stats
    expect(stats.allocationsTotal).toBeGreaterThan(0)
    expect(stats.bytesToPeers).toBeGreaterThan(0)
  })

  it('relays IPv6 too: a supernode on 127.0.0.1 has IPv6 relays on ::1 (uclient -x)', async () => {
    const creds = await client.api.turnCredentials({})
    const relayed = async () => (await sn.api.status({})).turn?.stats.packetsToPeers ?? 0
    const before = await relayed()
    const { stdout, stderr } = await uclient(creds.username, creds.password, 10, 1, ['-x'])
    expect(stdout + stderr).toMatch(/Total lost packets 0 \(0\.0+%\)/)
    // Relay threads other than the main one report their counters every 250 ms (turn-cluster.ts),
    // so `before` may still lack the previous test's last packets (CI saw 28): at least these 20.
    await expect
      .poll(async () => (await relayed()) - before, { timeout: 5000 })
      .toBeGreaterThanOrEqual(20)
  })

  it('names the supernode as STUN and TURN server, with credentials cached while valid', async () => {
    const servers = await client.turn.iceServers()
    expect(servers[0]!.urls).toEqual([`stun:127.0.0.1:${turnPort}`])
    expect(servers[1]!.urls).toContain(`turn:127.0.0.1:${turnPort}?transport=udp`)
    expect(servers[1]!.username).toMatch(new RegExp(`:${client.peerId}$`))
    // Reused while valid: the same object, no second request.
    expect(await client.turn.iceServers()).toBe(servers)
  })

  it('refuses credentials a client made up', async () => {
    const creds = await client.api.turnCredentials({})
    await expect(uclient(creds.username, 'not-the-password', 2, 1)).rejects.toThrow()
  })
})
