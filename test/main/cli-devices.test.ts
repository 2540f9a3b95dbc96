/**
 * `kaiwa device list|remove` with real `kaiwa node` processes on loopback
 * (issue 15 §3): alice on two devices (the second restored from the first's
 * backup through the control API, as the UI's first run does) and bob. A
 * message bob sends reaches both of alice's devices, one alice sends from one
 * device shows on the other; the devices list; removing the second device
 * drops it from alice's record; bad input gets a clear error.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient } from '../../src/main/api/api-client.js'
import type { KaiwaApi } from '../../src/shared/api/contract.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess } from '../helpers/cli.js'

let home: string
const dirs: Record<string, string> = {}
const nodes: Record<string, NodeProcess> = {}

async function api(name: string): Promise<KaiwaApi> {
  const node = nodes[name]!
  const token = (await readFile(join(node.ready.dataDir, 'api-token'), 'utf8')).trim()
  return createApiClient({ url: node.ready.api, token })
}

const start = (name: string, extra: string[]): Promise<NodeProcess> =>
  spawnNode(
    ['--data', dirs[name]!, '--bootstrap', nodes.sn!.ready.addrs[0]!, ...extra, ...LOOPBACK],
    home,
    150_000,
  )

const texts = async (name: string): Promise<string[]> =>
  (await (await api(name)).conversation({ peer: 'bob' })).messages.map(
    (m) => `${m.direction}:${m.text}`,
  )

beforeAll(async () => {
  await assertBuilt()
  home = await tempDir('hmd-cli-')
  for (const n of ['sn', 'alice1', 'alice2', 'bob']) dirs[n] = join(home, n)
  nodes.sn = await spawnNode(['--data', dirs.sn!, '--supernode', 'on', ...LOOPBACK], home)
  nodes.alice1 = await start('alice1', ['--name', 'alice'])
  nodes.bob = await start('bob', ['--name', 'bob'])
  nodes.alice2 = await start('alice2', [])
  const { backup } = await (await api('alice1')).identityExport({ passphrase: 'correct horse' })
  await (await api('alice2')).identityImport({ backup, passphrase: 'correct horse' })
}, 400_000)
afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('kaiwa device', () => {
  it('lists both devices of the account, and both hold the conversation', async () => {
    const a2 = nodes.alice2!.ready.peerId
    await waitFor(
      async () => {
        const r = await runKaiwa(['device', 'list', '--data', dirs.alice1!], home)
        return r.code === 0 && r.stdout.includes(a2)
      },
      90_000,
      'device 1 to list device 2',
    )
    const listed = JSON.parse(
      (await runKaiwa(['device', 'list', '--data', dirs.alice1!], home)).stdout,
    ) as Array<{ peerId: string; self: boolean; removed: boolean }>
    expect(listed.find((d) => d.self)?.peerId).toBe(nodes.alice1!.ready.peerId)
    expect(listed.find((d) => d.peerId === a2)).toMatchObject({ self: false, removed: false })

    const sent = await runKaiwa(
      ['message', 'bob', 'typed on device 1', '--data', dirs.alice1!],
      home,
    )
    expect(sent.code, sent.stderr).toBe(0)
    const back = await runKaiwa(['message', 'alice', 'to every device', '--data', dirs.bob!], home)
    expect(back.code, back.stderr).toBe(0)
    for (const n of ['alice1', 'alice2'])
      await waitFor(
        async () => {
          const got = await texts(n).catch((): string[] => [])
          return got.includes('out:typed on device 1') && got.includes('in:to every device')
        },
        60_000,
        `${n} to show both messages`,
      )
  }, 240_000)

  it('removes the second device: the record stops listing it', async () => {
    const a2 = nodes.alice2!.ready.peerId
    const removed = await runKaiwa(['device', 'remove', a2, '--data', dirs.alice1!], home)
    expect(removed.code, removed.stderr).toBe(0)
    const after = JSON.parse(removed.stdout) as Array<{ peerId: string; removed: boolean }>
    expect(after.find((d) => d.peerId === a2)?.removed).toBe(true)
    await waitFor(
      async () => {
        const r = await runKaiwa(['lookup', 'alice', '--data', dirs.bob!], home)
        if (r.code !== 0) return false
        const record = JSON.parse(r.stdout) as { devices: Array<{ peerId: string }> }
        return !record.devices.some((d) => d.peerId === a2)
      },
      90_000,
      "alice's record to stop listing device 2",
    )
  }, 150_000)

  it('says what is wrong with bad input', async () => {
    const self = await runKaiwa(
      ['device', 'remove', nodes.alice1!.ready.peerId, '--data', dirs.alice1!],
      home,
    )
    expect(self.code).toBe(1)
    expect(self.stderr).toMatch(/another device of the account/)
    const unknown = await runKaiwa(['device', 'remove', 'nobody', '--data', dirs.alice1!], home)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no device nobody/)
    const usage = await runKaiwa(['device', 'rename', '--data', dirs.alice1!], home)
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/kaiwa device list/)
  }, 60_000)
})
