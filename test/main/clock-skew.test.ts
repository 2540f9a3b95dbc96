/**
 * A node whose clock is wrong, as a user's laptop can be: real `kaiwa node`
 * processes, one run under apt's libfaketime so its whole process (Date, the
 * signatures' timestamps, the DHT records) lives minutes or hours ahead. The
 * network keeps working for a node a few minutes off and tells its user; a
 * node hours off is refused and told why.
 */
import { spawnSync } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { required } from '../helpers/requirements.js'

const haveFaketime = required(
  spawnSync('faketime', ['-f', '+0', 'true']).status === 0,
  "apt's faketime",
)

let home: string
let supernode: NodeProcess

const kaiwa = (...args: string[]) => runKaiwa(args, home)
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CLI JSON, checked by the assertions
type Json = Record<string, any>
const json = (r: { code: number | null; stdout: string; stderr: string }): Json => {
  if (r.code !== 0) throw new Error(`kaiwa exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Json
}

async function clockOf(dataDir: string): Promise<{ state: string; message: string }> {
  return json(await kaiwa('status', '--data', dataDir)).clock as { state: string; message: string }
}

describe.runIf(haveFaketime)('a node with a skewed clock', () => {
  beforeAll(async () => {
    await assertBuilt()
    home = await tempDir('kaiwa-clock-')
    supernode = await spawnNode(
      ['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK],
      home,
    )
    await spawnNode(
      [
        '--data',
        join(home, 'alice'),
        '--bootstrap',
        supernode.ready.addrs[0]!,
        '--name',
        'alice',
        ...LOOPBACK,
      ],
      home,
    )
  }, 120_000)

  afterAll(async () => {
    await stopAllNodes()
    if (home != null) await rm(home, { recursive: true, force: true })
  })

  it('a few minutes fast: still works both ways, and the user is told to fix the clock', async () => {
    const dir = join(home, 'bob')
    const bob = await spawnNode(
      ['--data', dir, '--bootstrap', supernode.ready.addrs[0]!, '--name', 'bob', ...LOOPBACK],
      home,
      60_000,
      ['faketime', '+3 minutes'],
    )
    expect(bob.ready.name).toBe('bob')
    await waitFor(async () => (await clockOf(dir)).state === 'warn', 20_000, "bob's clock check")
    expect((await clockOf(dir)).message).toMatch(/3 min fast.*automatic time \(NTP\)/s)
    expect((await clockOf(join(home, 'alice'))).state).toBe('ok')
    const toAlice = await kaiwa('message', 'alice', 'hello from the future', '--data', dir)
    expect(toAlice.stdout).toMatch(/^delivered to alice/)
    const toBob = await kaiwa('message', 'bob', 'hi bob', '--data', join(home, 'alice'))
    expect(toBob.stdout).toMatch(/^delivered to bob/)
    const inbox = json(await kaiwa('inbox', '--data', join(home, 'alice')))
    expect(JSON.stringify(inbox)).toContain('hello from the future')
    await bob.stop()
  }, 120_000)

  it('hours fast: its claim is refused, saying the clock is the cause', async () => {
    const dir = join(home, 'carol')
    const carol = await spawnNode(
      ['--data', dir, '--bootstrap', supernode.ready.addrs[0]!, ...LOOPBACK],
      home,
      60_000,
      ['faketime', '+7 hours'],
    )
    await waitFor(async () => (await clockOf(dir)).state === 'warn', 20_000, "carol's clock check")
    expect((await clockOf(dir)).message).toMatch(/7 h fast/)
    const claim = await kaiwa('claim', 'carol', '--data', dir)
    expect(claim.code).not.toBe(0)
    expect(claim.stderr).toMatch(/7 h fast.*automatic time \(NTP\)/s)
    // Nobody stored it: the name is not there for alice either.
    const lookup = await kaiwa('lookup', 'carol', '--data', join(home, 'alice'))
    expect(lookup.code).not.toBe(0)
    await carol.stop()
  }, 120_000)
})
