/**
 * The real clock path: one node runs in its own process under libfaketime
 * (`faketime '+7 minutes' node …`), so its Date.now() is really 7 min ahead,
 * and a node in this process measures it. Needs apt's `faketime`.
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import { clockService } from '../../../src/overlay/clock/clock-service.js'
import type { ClockService } from '../../../src/overlay/clock/clock-service.js'
import { plainNode, testLog } from '../rpc/plain-libp2p.js'
import { required } from '../../helpers/requirements.js'

const haveFaketime = required(
  spawnSync('faketime', ['-f', '+0', 'true']).status === 0,
  "apt's faketime",
)
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))

const children: ChildProcess[] = []
const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM')
})

/** Starts the fixture under faketime; resolves to its listen address. */
async function startShifted(shift: string): Promise<string> {
  const child = spawn(
    'faketime',
    [
      shift,
      process.execPath,
      '--experimental-transform-types',
      '--no-warnings',
      '--import',
      here('./fixtures/ts-register.mjs'),
      here('./fixtures/clock-server.ts'),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  children.push(child)
  const lines = createInterface({ input: child.stdout! })
  for await (const line of lines) return line.trim()
  throw new Error('the faketime node exited before printing its address')
}

describe.runIf(haveFaketime)('clockService under faketime', () => {
  it('sees a process whose system clock is 7 min ahead as +7 min', async () => {
    const addr = await startShifted('+7 minutes')
    const local = await plainNode<{ identify: Identify; clock: ClockService }>({
      identify: identify(),
      clock: clockService({ answer: false, firstSampleDelayMs: 0, log: testLog }),
    })
    nodes.push(local)
    const peer = (await local.dial(multiaddr(addr))).remotePeer.toString()
    // Measured by identify's announcement, with no test hook.
    await expect.poll(() => local.services.clock.offsets().length, { timeout: 15_000 }).toBe(1)
    const [sample] = local.services.clock.offsets()
    expect(sample!.peer).toBe(peer)
    expect(sample!.offsetMs).toBeGreaterThan(7 * 60_000 - 5_000)
    expect(sample!.offsetMs).toBeLessThan(7 * 60_000 + 5_000)
    const own = local.services.clock.ownSkew()
    expect(own.state).toBe('warn')
    expect(own.message).toContain('Your clock is 7 min slow compared with the network')
  })
})
