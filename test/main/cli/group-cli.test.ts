/**
 * `kaiwa group …` against real `kaiwa node` processes on loopback (a
 * supernode; ann, ben and cat): create prints the ID, send says who got it,
 * the inbox shows group messages with their `group`, admins remove, a
 * removed member cannot send (exit 1), a non-admin cannot add, usage errors
 * exit 2, and a member can leave.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '../../helpers/nodes.js'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../../helpers/cli.js'
import type { NodeProcess, RunResult } from '../../helpers/cli.js'
import { createApiClient } from '../../../src/main/api/api-client.js'
import type { KaiwaApi } from '../../../src/shared/api/contract.js'

let home: string
const dir = (n: string): string => join(home, n)
const kaiwa = (...args: string[]): Promise<RunResult> => runKaiwa(args, home)
const ok = (r: RunResult): string => {
  expect(r.code, `exit code; stderr:\n${r.stderr}`).toBe(0)
  return r.stdout
}
let id = ''
/** Each node's control API, for waiting on conditions without a process per poll. */
const apis: Record<string, KaiwaApi> = {}
const groupOf = async (n: string) => (await apis[n]!.groups({})).groups.find((g) => g.id === id)

beforeAll(async () => {
  await assertBuilt()
  home = await tempDir('hgrp-cli-')
  const sn = await spawnNode(['--data', dir('sn'), '--supernode', 'on', ...LOOPBACK], home)
  for (const n of ['ann', 'ben', 'cat']) {
    const p: NodeProcess = await spawnNode(
      ['--data', dir(n), '--bootstrap', sn.ready.addrs[0]!, '--name', n, ...LOOPBACK],
      home,
    )
    const token = (await readFile(join(dir(n), 'api-token'), 'utf8')).trim()
    apis[n] = createApiClient({ url: p.ready.api, token })
  }
}, 180_000)

afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

describe('kaiwa group', () => {
  it('creates a group and prints its ID', async () => {
    id = ok(
      await kaiwa('group', 'create', 'Hikers', '--members', 'ben,cat', '--data', dir('ann')),
    ).trim()
    expect(id).toMatch(/^[0-9a-f]{32}$/)
    for (const n of ['ben', 'cat'])
      await waitFor(async () => (await groupOf(n)) != null, 30_000, `${n} to know the group`)
    const [g] = JSON.parse(ok(await kaiwa('group', 'list', '--data', dir('cat')))) as Array<
      Record<string, unknown>
    >
    expect(g).toMatchObject({ id, name: 'Hikers', members: ['ann', 'ben', 'cat'], admins: ['ann'] })
  })

  it('sends by group name, and the inbox shows it with a group field', async () => {
    const out = ok(await kaiwa('group', 'send', 'Hikers', 'trail at nine', '--data', dir('ann')))
    expect(out).toMatch(/^delivered to 2 \(message [0-9a-f]{32}\)/)
    const inbox = JSON.parse(ok(await kaiwa('inbox', '--data', dir('ben')))) as Array<
      Record<string, unknown>
    >
    expect(inbox.find((m) => m.text === 'trail at nine')).toMatchObject({
      from: 'sip:ann@kaiwa',
      group: { id, name: 'Hikers' },
    })
    const msgs = JSON.parse(ok(await kaiwa('group', 'messages', id, '--data', dir('cat'))))
    expect(msgs).toMatchObject([{ sender: 'ann', text: 'trail at nine', seq: 1, via: 'direct' }])
  })

  it('lets the admin remove a member, who can then no longer send', async () => {
    const g = JSON.parse(ok(await kaiwa('group', 'remove', id, 'cat', '--data', dir('ann'))))
    expect(g.members).toEqual(['ann', 'ben'])
    await waitFor(
      async () => (await groupOf('cat'))?.member === false,
      30_000,
      'cat to learn it was removed',
    )
    // show prints what the node holds.
    expect(JSON.parse(ok(await kaiwa('group', 'show', id, '--data', dir('cat'))))).toMatchObject({
      member: false,
    })
    const refused = await kaiwa('group', 'send', id, 'still here?', '--data', dir('cat'))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('no longer a member')
  })

  it('refuses a change by a member who is not an admin, and bad usage', async () => {
    const r = await kaiwa('group', 'add', id, 'cat', '--data', dir('ben'))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ben is not an admin')
    const usage = await kaiwa('group', 'create', 'NoOne', '--data', dir('ann'))
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('needs --members')
    expect((await kaiwa('group', 'fly', '--data', dir('ann'))).code).toBe(2)
    const unknown = await kaiwa('group', 'send', 'Nope', 'x', '--data', dir('ann'))
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no group "Nope"')
  })

  it('lets a member leave', async () => {
    expect(ok(await kaiwa('group', 'leave', 'Hikers', '--data', dir('ben')))).toContain(
      `left "Hikers" (${id})`,
    )
    await waitFor(
      async () => (await groupOf('ann'))?.members.join() === 'ann',
      30_000,
      'ann to see ben leave',
    )
  })
})
