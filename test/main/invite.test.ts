/**
 * Opt-in supernodes and invites with the real `kaiwa` command (issue 13): a
 * node started with defaults is a client that says it has no supernode; a
 * network starts only with `--supernode on`; alice (joined to it) prints an
 * invite with `kaiwa invite`; a fresh node started with `--join LINK` is on
 * the network, has alice pinned with the link's key, and can message her; a
 * link with one character changed in any part is refused before the node
 * starts.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { assertBuilt, LOOPBACK, runKaiwa, spawnNode, stopAllNodes } from '../helpers/cli.js'
import type { NodeProcess, RunResult } from '../helpers/cli.js'

let home: string
let sn: NodeProcess

const kaiwa = (...args: string[]): Promise<RunResult> => runKaiwa(args, home)
const json = (r: RunResult): Record<string, unknown> => {
  expect(r.code, `exit code; stderr:\n${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

beforeAll(async () => {
  await assertBuilt()
  home = await tempDir('h13a-invite-')
}, 60_000)

afterAll(async () => {
  await stopAllNodes()
  if (home != null) await rm(home, { recursive: true, force: true })
})

/** One character of `part` (the name, the invite data or the fingerprint) changed. */
function tamper(link: string, part: 'name' | 'data' | 'fingerprint'): string {
  const m = /^kaiwa:([^?]+)\?invite=([^#]+)#(.+)$/.exec(link)!
  const [, name, data, fp] = m as unknown as [string, string, string, string]
  const swap = (s: string, i: number): string =>
    s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1)
  if (part === 'name') return `kaiwa:${swap(name, 0)}?invite=${data}#${fp}`
  if (part === 'data')
    return `kaiwa:${name}?invite=${swap(data, Math.floor(data.length / 2))}#${fp}`
  return `kaiwa:${name}?invite=${data}#${swap(fp, 0)}`
}

describe('supernodes are opt-in', () => {
  it('a node started with defaults and no bootstrap is a client with no supernode, and says so', async () => {
    const lone = await spawnNode(['--data', join(home, 'lone'), ...LOOPBACK], home)
    expect(lone.ready.role).toBe('client')
    const status = json(await kaiwa('status', '--data', join(home, 'lone')))
    expect(status).toMatchObject({ role: 'client', supernodeMode: 'off', supernodes: [] })
    expect(status.hint).toMatch(/no supernode.*--join LINK.*--supernode on/)
    // `kaiwa invite` cannot say how to reach a network this node is not on.
    const invite = await kaiwa('invite', '--data', join(home, 'lone'))
    expect(invite.code).toBe(1)
    expect(invite.stderr).toMatch(/claim a user ID first/)
    await lone.stop()
  })

  it('--supernode on starts a network', async () => {
    sn = await spawnNode(['--data', join(home, 'sn'), '--supernode', 'on', ...LOOPBACK], home)
    expect(sn.ready.role).toBe('supernode')
    const status = json(await kaiwa('status', '--data', join(home, 'sn')))
    expect(status.hint).toBeUndefined()
  })
})

describe('invites', () => {
  let link: string

  it('alice, claimed and on the network, prints an invite', async () => {
    const alice = await spawnNode(
      ['--data', join(home, 'alice'), '--bootstrap', sn.ready.addrs[0]!, '--name', 'alice'],
      home,
    )
    await waitFor(
      async () =>
        ((json(await kaiwa('status', '--data', join(home, 'alice'))).supernodes as string[])
          .length ?? 0) > 0,
      20_000,
      'alice to attach to the supernode',
    )
    const r = await kaiwa('invite', '--data', join(home, 'alice'))
    expect(r.code, `${r.stderr}\n${alice.stderr()}`).toBe(0)
    link = r.stdout.trim()
    expect(link).toMatch(/^kaiwa:alice\?invite=[A-Za-z0-9_-]+#[a-z2-7-]+$/)
    const status = json(await kaiwa('status', '--data', join(home, 'alice')))
    expect(link.endsWith(`#${status.fingerprint as string}`)).toBe(true)
  })

  it.each(['name', 'data', 'fingerprint'] as const)(
    'refuses a link with one character of its %s changed, before starting',
    async (part) => {
      const r = await kaiwa(
        'node',
        '--data',
        join(home, `tampered-${part}`),
        '--join',
        tamper(link, part),
        ...LOOPBACK,
      )
      expect([1, 2]).toContain(r.code)
      expect(r.stderr).toMatch(/invalid invite link/)
    },
  )

  it('a fresh node started with --join is on the network, has alice pinned, and messages her', async () => {
    const dir = join(home, 'dave')
    const dave = await spawnNode(
      ['--data', dir, '--name', 'dave', '--join', link, ...LOOPBACK],
      home,
    )
    const aliceFp = json(await kaiwa('status', '--data', join(home, 'alice'))).fingerprint
    await waitFor(
      async () => {
        const r = await kaiwa('status', '--data', dir)
        return (
          r.code === 0 && (JSON.parse(r.stdout).supernodes as string[]).includes(sn.ready.peerId)
        )
      },
      20_000,
      'the joined node to attach to the supernode',
    )
    // The pin happens in the background after start-up; the log says when.
    await waitFor(() => dave.stderr().includes("joined alice's network"), 30_000, 'the join')
    const token = (await import('node:fs/promises')).readFile(join(dir, 'api-token'), 'utf8')
    const res = await fetch(`${dave.ready.api}/api/v1/contacts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await token).trim()}`,
        'content-type': 'application/json',
      },
      body: '{}',
    })
    const { contacts } = (await res.json()) as { contacts: Array<Record<string, unknown>> }
    expect(contacts).toEqual([expect.objectContaining({ name: 'alice', fingerprint: aliceFp })])

    const sent = await kaiwa('message', 'alice', 'hello from an invite', '--data', dir)
    expect(sent.code, sent.stderr).toBe(0)
    expect(sent.stdout).toMatch(/delivered to alice/)
    const inbox = json(await kaiwa('inbox', '--data', join(home, 'alice'))) as unknown as Array<{
      text: string
    }>
    expect(inbox.map((m) => m.text)).toContain('hello from an invite')

    // The invite's supernodes were saved: a restart without --join finds the network again.
    await dave.stop()
    const again = await spawnNode(['--data', dir, ...LOOPBACK], home)
    await waitFor(
      async () => {
        const r = await kaiwa('status', '--data', dir)
        return r.code === 0 && (JSON.parse(r.stdout).supernodes as string[]).length > 0
      },
      20_000,
      'the restarted node to find the saved supernode',
    )
    await again.stop()
  })
})
