import { afterAll, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startKaiwaNode } from '../../../src/main/kaiwa-node.js'
import type { ElectionTuning } from '../../../src/overlay/election/election-service.js'
import { createStderrLogger } from '../../../src/main/logger.js'
import { reservedRelays } from '../../../src/overlay/node/relay-keeper.js'
import {
  freePort,
  LOG_LEVEL,
  TEST_CLAIM_POW_BITS,
  tcpAddr,
  tempDir,
  waitFor,
} from '../../helpers/nodes.js'

// The real policy, with the clock's long waits shortened: decisions every
// 300 ms, no client dwell time, no uptime or uplink bar, and loopback counted
// as public (a one-host network has no public address to confirm). A new
// supernode serves at least 10 minutes (the hysteresis) unless a test says otherwise.
const fast = (supernodeDwellMs = 600_000): Partial<ElectionTuning> => ({
  intervalMs: 300,
  handoffMs: 1500,
  assumePublic: true,
  thresholds: { minUplinkKbps: 0, minUptimeMs: 0 },
  policy: { minClientDwellMs: 0, minSupernodeDwellMs: supernodeDwellMs, minSupernodes: 2 },
})

const nodes: KaiwaNode[] = []
async function start(
  mode: 'on' | 'auto' | 'off',
  bootstrap: string[],
  name?: string,
  election = fast(),
): Promise<KaiwaNode> {
  const n = await startKaiwaNode({
    dataDir: await tempDir(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    supernode: mode,
    mdns: false,
    upnp: false,
    ...(name != null ? { name } : {}),
    // Capable supernodes run TURN (its port is part of "reachable").
    turnPort: await freePort(),
    turnHost: '127.0.0.1',
    election,
    claimPowBits: TEST_CLAIM_POW_BITS,
    log: createStderrLogger(LOG_LEVEL, 'election-test'),
  })
  nodes.push(n)
  return n
}

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  await Promise.allSettled(nodes.map((n) => rm(n.dataDir, { recursive: true, force: true })))
})

const supernodeCount = (ns: KaiwaNode[]): number =>
  ns.filter((n) => n.role() === 'supernode').length

describe('supernode election on real nodes', () => {
  it('promotes a capable candidate below the floor; the new supernode serves', async () => {
    const founder = await start('on', [])
    const boot = [tcpAddr(founder)]
    const candidates = [await start('auto', boot), await start('auto', boot)]
    // One supernode is below the floor of two: exactly one candidate should step up.
    await waitFor(() => supernodeCount(candidates) >= 1, 30_000, 'a promotion')
    const promoted = candidates.find((n) => n.role() === 'supernode')!
    // It serves: a client attached only to it can claim a name and be found.
    const client = await start('off', [tcpAddr(promoted)], 'carol')
    expect((await founder.api.lookup({ name: 'carol' })).record.name).toBe('carol')
    expect(promoted.election.ownReport().clients).toBeGreaterThanOrEqual(1)
    expect((await client.api.status({})).supernodes).toContain(promoted.peerId)
    // Hysteresis: at the floor, nothing flaps.
    const before = supernodeCount(candidates)
    await new Promise((r) => setTimeout(r, 3000))
    expect(supernodeCount(candidates)).toBe(before)
  })

  it('a supernode with little load steps down above the floor and hands its clients off', async () => {
    // Supernodes that may step down as soon as they are allowed to (no dwell time).
    const a = await start('on', [], 'erin', fast(0))
    const boot = [tcpAddr(a)]
    const b = await start('on', boot, undefined, fast(0))
    const c = await start('on', boot, undefined, fast(0))
    const all = [a, b, c]
    const client = await start('off', all.map(tcpAddr), 'dave')
    await waitFor(
      () => reservedRelays(client.libp2p()).length >= 2,
      30_000,
      'the client to hold two relay reservations',
    )
    // One relay the client holds goes `auto` (the others stay `on`, so exactly one can leave).
    const held = reservedRelays(client.libp2p())
    const gone = [b, c].find((n) => held.includes(n.peerId))!
    await gone.api.settingsUpdate({ supernodeMode: 'auto' })
    await waitFor(() => gone.role() === 'client', 30_000, 'the auto supernode to step down')
    // Handed off: the client's reservations moved off the node that left.
    await waitFor(
      () => {
        const now = reservedRelays(client.libp2p())
        return now.length >= 1 && !now.includes(gone.peerId)
      },
      30_000,
      'the client to hold reservations elsewhere',
    )
    // Still reachable through the overlay.
    const res = await a.api.message({ to: 'dave', text: 'still here?' })
    expect(res.status).toBe('delivered')
    expect(supernodeCount(all)).toBe(2)
  })
})
