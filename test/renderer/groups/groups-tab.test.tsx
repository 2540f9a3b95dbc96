/**
 * The Groups tab over a scripted bridge: the list with unread counts, a
 * group's messages in the order every member shows (Lamport time, sender,
 * sequence) whatever order they arrive in, read marks, a live
 * `groupMessage` event, and a failed send said in the node's words.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { KaiwaBridge } from '../../../src/shared/api/bridge.js'
import type { ApiEvent, GroupJson, GroupMessageJson } from '../../../src/shared/api/contract.js'
import type { AppServices } from '../../../src/renderer/app/create-app.js'
import { createStore } from '../../../src/renderer/base/store.js'
import { createGroupsController } from '../../../src/renderer/groups/groups-controller.js'
import type { GroupsController } from '../../../src/renderer/groups/groups-controller.js'
import { GroupsView } from '../../../src/renderer/ui/GroupsView.js'
import { AppContext } from '../../../src/renderer/ui/app-context.js'

const G = 'a'.repeat(32)
const group: GroupJson = {
  id: G,
  name: 'Hikers',
  creator: 'ann',
  members: ['ann', 'ben', 'cat'],
  admins: ['ann'],
  version: 1,
  member: true,
  unread: 2,
  lastMessageAt: '2025-01-01T10:00:00.000Z',
}
const msg = (sender: string, seq: number, lamport: number, text: string): GroupMessageJson => ({
  id: `${sender}${seq}`.padEnd(32, '0'),
  group: G,
  direction: sender === 'ann' ? 'out' : 'in',
  sender,
  fingerprint: 'aaaa-bbbb-cccc-dddd',
  seq,
  lamport,
  sentAt: '2025-01-01T10:00:00.000Z',
  text,
  via: sender === 'ann' ? 'sent' : 'direct',
  ...(sender === 'ann' ? { delivered: ['ben'], stored: ['cat'], failed: [] } : {}),
})

function fakeBridge() {
  const calls: Array<[string, unknown]> = []
  let listener: ((e: ApiEvent) => void) | undefined
  const replies: Record<string, unknown> = {
    groups: { groups: [group] },
    // Out of order on purpose: cat's (lamport 2) before ben's (lamport 1).
    groupMessages: { messages: [msg('cat', 1, 2, 'second'), msg('ben', 1, 1, 'first')] },
    groupMarkRead: {},
  }
  const bridge = {
    call: async (method: string, input: unknown) => {
      calls.push([method, input])
      if (method === 'groupSend')
        throw Object.assign(new Error('you are no longer a member'), {
          code: 'invalid_input',
        })
      return replies[method]
    },
    onEvent: (l: (e: ApiEvent) => void) => {
      listener = l
      return () => {}
    },
    onConnection: () => () => {},
  } as unknown as KaiwaBridge
  return { bridge, calls, emit: (e: ApiEvent) => listener?.(e) }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

function render(groups: GroupsController): string {
  const session = { store: createStore({ name: 'ann' }) }
  return renderToStaticMarkup(
    <AppContext.Provider value={{ groups, session } as unknown as AppServices}>
      <GroupsView />
    </AppContext.Provider>,
  )
}

describe('Groups tab', () => {
  it('lists groups with unread counts and opens one in the shared order, marking it read', async () => {
    const { bridge, calls, emit } = fakeBridge()
    const groups = createGroupsController(bridge)
    await groups.refresh()
    expect(groups.totalUnread()).toBe(2)
    expect(render(groups)).toContain('Hikers, 2 unread')

    groups.open(G)
    await tick()
    await tick()
    const texts = groups.store.get().messages[G]!.map((m) => m.text)
    expect(texts).toEqual(['first', 'second'])
    expect(calls).toContainEqual(['groupMarkRead', { group: G }])
    expect(groups.totalUnread()).toBe(0)

    // A live message lands in order, once, even if the event repeats.
    const third = msg('ann', 1, 3, 'third')
    emit({ event: 'groupMessage', data: third })
    emit({ event: 'groupMessage', data: third })
    expect(groups.store.get().messages[G]!.map((m) => m.text)).toEqual(['first', 'second', 'third'])
    const html = render(groups)
    expect(html.indexOf('first')).toBeLessThan(html.indexOf('second'))
    expect(html).toContain('delivered to 1, kept for 1 offline')
    expect(html).not.toContain('sending…')
    expect(html).toContain('Remove ben from the group')
    groups.dispose()
  })

  it('reloads the groups when one came or changed with no message (another device, a member)', async () => {
    const { bridge, calls, emit } = fakeBridge()
    const groups = createGroupsController(bridge)
    await groups.refresh()
    const before = calls.filter(([m]) => m === 'groups').length
    emit({ event: 'groupChanged', data: { group: G } })
    await tick()
    expect(calls.filter(([m]) => m === 'groups').length).toBe(before + 1)
    groups.dispose()
  })

  it('says why a send failed', async () => {
    const { bridge } = fakeBridge()
    const groups = createGroupsController(bridge)
    await groups.refresh()
    groups.open(G)
    await groups.send('hello?')
    expect(groups.store.get().error).toBe('you are no longer a member')
    expect(render(groups)).toContain('That did not work: you are no longer a member')
  })
})
