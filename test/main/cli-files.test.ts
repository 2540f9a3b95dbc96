/**
 * `kaiwa send-file` and `kaiwa files` with real `kaiwa node` processes on
 * loopback (issue 15 §1): a file delivered and listed with its SHA-256, and an
 * 80 MB transfer whose receiver is killed (SIGKILL) part-way and restarted:
 * it resumes from the chunks the receiver had verified, never from the start.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient } from '../../src/main/api/api-client.js'
import type { KaiwaApi } from '../../src/shared/api/contract.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'

const MiB = 1024 * 1024
let home: string
let sn: NodeProcess
let alice: NodeProcess
let bob: NodeProcess
const dirs: Record<string, string> = {}

async function api(node: NodeProcess): Promise<KaiwaApi> {
  const token = (await readFile(join(node.ready.dataDir, 'api-token'), 'utf8')).trim()
  return createApiClient({ url: node.ready.api, token })
}

async function startUser(name: string): Promise<NodeProcess> {
  return spawnNode(
    ['--data', dirs[name]!, '--bootstrap', sn.ready.addrs[0]!, '--name', name, ...LOOPBACK],
    home,
    150_000,
  )
}

beforeAll(async () => {
  await assertBuilt()
  home = await tempDir('hfile-cli-')
  for (const n of ['sn', 'alice', 'bob']) dirs[n] = join(home, n)
  sn = await spawnNode(['--data', dirs.sn!, '--supernode', 'on', ...LOOPBACK], home)
  alice = await startUser('alice')
  bob = await startUser('bob')
  const b = await api(bob)
  await waitFor(
    async () => (await b.contactAdd({ name: 'alice' }).catch(() => null)) != null,
    60_000,
    'bob to pin alice',
  )
  await b.settingsUpdate({ files: { autoAcceptMiB: 100 } })
  const a = await api(alice)
  await waitFor(
    async () => (await a.lookup({ name: 'bob' }).catch(() => null)) != null,
    60_000,
    'alice to find bob',
  )
}, 400_000)
afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('kaiwa send-file and kaiwa files', () => {
  it('delivers a file, shows progress on stderr, and lists it with its SHA-256', async () => {
    const path = join(home, 'hello.bin')
    const bytes = randomBytes(3 * MiB)
    await writeFile(path, bytes)
    const sent = await runKaiwa(['send-file', 'bob', path, '--data', dirs.alice!], home, 120_000)
    expect(sent.code, sent.stderr).toBe(0)
    expect(sent.stdout).toMatch(
      /^delivered hello\.bin to bob \(3145728 bytes, sha256 [0-9a-f]{64}\)/,
    )
    expect(sent.stderr).toMatch(/hello\.bin → bob: /)
    const listed = await runKaiwa(['files', '--data', dirs.bob!], home)
    expect(listed.code).toBe(0)
    const files = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
    const sha = createHash('sha256').update(bytes).digest('hex')
    const got = files.find((f) => f.name === 'hello.bin')!
    expect(got).toMatchObject({ sender: 'alice', size: 3 * MiB, sha256: sha })
    expect(typeof got.time).toBe('string')
    expect(
      createHash('sha256')
        .update(await readFile(String(got.path)))
        .digest('hex'),
    ).toBe(sha)
  }, 180_000)

  it('resumes after the receiver is killed part-way and restarted, not from the start', async () => {
    // 80 MB, killed at 40 %: room for the kill to land before the end on a fast machine.
    const size = 80 * MiB
    const path = join(home, 'eighty.bin')
    const bytes = randomBytes(size)
    await writeFile(path, bytes)
    const a = await api(alice)
    const { transfer } = await a.sendFile({ to: 'bob', path })
    await waitFor(
      async () => {
        const t = (await a.transfers({})).transfers.find((x) => x.id === transfer.id)
        return (t?.bytesDone ?? 0) >= size * 0.4 || t?.status === 'complete'
      },
      120_000,
      'the transfer to pass 40 %',
    )
    await bob.stop('SIGKILL')
    const atKill = (await a.transfers({})).transfers.find((x) => x.id === transfer.id)!
    expect(atKill.status).not.toBe('complete')
    bob = await startUser('bob')
    await waitFor(
      async () =>
        (await a.transfers({})).transfers.find((x) => x.id === transfer.id)?.status === 'complete',
      180_000,
      'the resumed transfer',
    )
    const done = (await a.transfers({})).transfers.find((x) => x.id === transfer.id)!
    // Bob kept every chunk it had saved as verified before the kill; only chunks it had
    // acknowledged but not yet saved (at most 16 MiB) went again, far less than half.
    expect(done.resumedFrom).toBeGreaterThan(0)
    expect(done.sessionBytes).toBe(size - done.resumedFrom!)
    const resent = Math.max(0, atKill.bytesDone - done.resumedFrom!)
    expect(resent).toBeLessThan(size / 2)
    const listed = JSON.parse(
      (await runKaiwa(['files', '--data', dirs.bob!], home)).stdout,
    ) as Array<{ name: string; sha256: string }>
    expect(listed.find((f) => f.name === 'eighty.bin')?.sha256).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    )
  }, 400_000)
})
