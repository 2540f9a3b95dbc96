/**
 * Group chat between real nodes on loopback (issue 15 §2): a supernode and
 * five users. ann creates a group of five; eve goes offline, messages are
 * sealed into her mailbox, and she catches up when she returns; every member
 * shows the messages in the same order; a message that arrives twice is
 * stored once; dan is removed, hears of it, stops receiving, and can no
 * longer send; the inbox shows group messages with their `group`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startClient, startTestNode, waitFor } from '../../helpers/nodes.js'

const NAMES = ['ann', 'ben', 'cat', 'dan', 'eve'] as const
type Name = (typeof NAMES)[number]

let sn: KaiwaNode
const nodes = {} as Record<Name, KaiwaNode>
const stopped = new Set<KaiwaNode>()
let group = ''

const texts = async (n: Name): Promise<string[]> =>
  (await nodes[n].api.groupMessages({ group })).messages.map((m) => m.text)

async function waitForTexts(n: Name, want: string[], what: string): Promise<void> {
  await waitFor(
    async () => {
      const got = await texts(n).catch((): string[] => [])
      return want.every((t) => got.includes(t))
    },
    30_000,
    what,
  )
}

describe('group chat', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    for (const n of NAMES) nodes[n] = await startClient(sn, { name: n })
  }, 120_000)
  afterAll(async () => {
    await Promise.allSettled(
      [sn, ...Object.values(nodes)].filter((n) => !stopped.has(n)).map((n) => n.stop()),
    )
  })

  it('creates a group of five that every member sees, with one admin', async () => {
    const { group: g } = await nodes.ann.api.groupCreate({
      name: 'Hikers',
      members: ['ben', 'cat', 'dan', 'eve'],
    })
    group = g.id
    expect(g).toMatchObject({
      name: 'Hikers',
      creator: 'ann',
      members: ['ann', 'ben', 'cat', 'dan', 'eve'],
      admins: ['ann'],
      member: true,
      version: 1,
    })
    for (const n of NAMES) {
      await waitFor(
        async () => (await nodes[n].api.groups({})).groups.some((x) => x.id === group),
        20_000,
        `${n} to know the group`,
      )
      const seen = (await nodes[n].api.groups({})).groups.find((x) => x.id === group)!
      expect(seen.members).toEqual(['ann', 'ben', 'cat', 'dan', 'eve'])
    }
  })

  it('delivers to members online and seals for the one offline, who catches up', async () => {
    const eveDir = nodes.eve.dataDir
    await nodes.eve.stop()
    stopped.add(nodes.eve)
    const first = await nodes.ann.api.groupSend({ group, text: 'trail at nine' })
    expect(first.delivered).toEqual(['ben', 'cat', 'dan'])
    expect(first.stored).toEqual(['eve'])
    expect(first.failed).toEqual([])
    await waitForTexts('ben', ['trail at nine'], 'ben to receive the first message')
    // ben answers after seeing it; cat sends too.
    const second = await nodes.ben.api.groupSend({ group, text: 'I bring water' })
    expect(second.stored).toEqual(['eve'])
    expect(second.message.lamport).toBeGreaterThan(first.message.lamport)
    await nodes.cat.api.groupSend({ group, text: 'see you there' })

    nodes.eve = await startClient(sn, { name: 'eve', dataDir: eveDir })
    stopped.delete(nodes.eve)
    await waitForTexts(
      'eve',
      ['trail at nine', 'I bring water', 'see you there'],
      'eve to collect the group messages from her mailbox',
    )
    const mail = (await nodes.eve.api.groupMessages({ group })).messages
    expect(mail.every((m) => m.via === 'mailbox' && m.direction === 'in')).toBe(true)
    // The inbox lists them too, each with its group.
    const inbox = (await nodes.eve.api.inbox({})).messages.filter((m) => m.group != null)
    expect(inbox.map((m) => m.text).sort()).toEqual(
      ['I bring water', 'see you there', 'trail at nine'].sort(),
    )
    expect(inbox[0]).toMatchObject({ group: { id: group, name: 'Hikers' }, offline: true })
    expect(inbox.find((m) => m.text === 'I bring water')!.from).toBe('sip:ben@kaiwa')
  })

  it('shows the same order on every member, and ben after ann', async () => {
    for (const n of NAMES)
      await waitForTexts(n, ['trail at nine', 'I bring water', 'see you there'], `${n} to catch up`)
    const orders = await Promise.all(NAMES.map(texts))
    for (const o of orders) expect(o).toEqual(orders[0])
    const o = orders[0]!
    expect(o.indexOf('trail at nine')).toBeLessThan(o.indexOf('I bring water'))
    const groups = (await nodes.eve.api.groups({})).groups
    expect(groups.find((g) => g.id === group)!.unread).toBe(3)
    await nodes.eve.api.groupMarkRead({ group })
    expect((await nodes.eve.api.groups({})).groups.find((g) => g.id === group)!.unread).toBe(0)
  })

  it('removes a member, who hears of it, gets nothing more and cannot send', async () => {
    const { group: after } = await nodes.ann.api.groupRemove({ group, member: 'dan' })
    expect(after.members).toEqual(['ann', 'ben', 'cat', 'eve'])
    await waitFor(
      async () =>
        (await nodes.dan.api.groups({})).groups.find((g) => g.id === group)?.member === false,
      20_000,
      'dan to learn he was removed',
    )
    await waitFor(
      async () =>
        (await nodes.eve.api.groups({})).groups.find((g) => g.id === group)?.members.length === 4,
      20_000,
      'eve to apply the removal',
    )
    const res = await nodes.ann.api.groupSend({ group, text: 'dan is out' })
    expect([...res.delivered, ...res.stored].sort()).toEqual(['ben', 'cat', 'eve'])
    await waitForTexts('eve', ['dan is out'], 'eve to get the message after the removal')
    expect(await texts('dan')).not.toContain('dan is out')
    await expect(nodes.dan.api.groupSend({ group, text: 'still here?' })).rejects.toThrow(
      /no longer a member/,
    )
    // dan keeps what he had received.
    expect(await texts('dan')).toContain('trail at nine')
  })

  it('lets a member leave and refuses a non-admin change', async () => {
    await expect(nodes.ben.api.groupAdd({ group, members: ['dan'] })).rejects.toThrow(
      /not an admin/,
    )
    const { group: left } = await nodes.cat.api.groupLeave({ group })
    expect(left.member).toBe(false)
    await waitFor(
      async () =>
        (await nodes.ann.api.groups({})).groups.find((g) => g.id === group)?.members.join() ===
        'ann,ben,eve',
      20_000,
      'ann to see cat leave',
    )
  })

  it('settles two admins changing the group at once the same way on every member', async () => {
    await nodes.ann.api.groupAdmin({ group, member: 'ben' })
    const same = ['ann', 'ben', 'eve'] as const
    await waitFor(
      async () => (await nodes.eve.api.groups({})).groups[0]!.admins.join() === 'ann,ben',
      20_000,
      'eve to see ben made an admin',
    )
    const before = (await nodes.eve.api.groups({})).groups[0]!.version
    // Both sign on the same state before either hears of the other (most runs):
    // ann is senior, so her change wins the race; ben's node then makes his
    // change again on top of hers. Either way every member ends with both.
    await Promise.all([
      nodes.ann.api.groupRename({ group, name: 'Summit' }),
      nodes.ben.api.groupAdd({ group, members: ['cat'] }),
    ])
    const view = async (n: Name): Promise<string> => {
      const g = (await nodes[n].api.groups({})).groups.find((x) => x.id === group)!
      return JSON.stringify([g.version, g.name, g.members, g.admins])
    }
    await waitFor(
      async () => {
        const views = await Promise.all(same.map(view))
        return new Set(views).size === 1 && views[0]!.includes('"cat"')
      },
      30_000,
      'ann, ben and eve to hold the same membership log, with both changes',
    )
    const [version, name, members] = JSON.parse(await view('eve')) as [number, string, string[]]
    expect([version, name, members]).toEqual([before + 2, 'Summit', ['ann', 'ben', 'cat', 'eve']])
  })
})
