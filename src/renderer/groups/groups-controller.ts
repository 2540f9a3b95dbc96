/**
 * Group chat in the UI (issue 15 §2): the groups list with unread counts,
 * the open group's messages in the order every member shows (Lamport time,
 * sender, sequence), sending, creating a group and changing its members.
 * Everything goes through the node (`groups`, `groupMessages`, `groupSend`,
 * …); new messages arrive as the node's `groupMessage` event.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { GroupJson, GroupMessageJson } from '../../shared/api/contract.js'
import { compareGroupOrder } from '../../shared/groups/group-wire.js'
import { toApiError } from '../bridge/api-error.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'

export interface GroupsState {
  groups: GroupJson[]
  /** The group on screen. */
  open: string | undefined
  /** Messages per group ID, in display order. */
  messages: Record<string, GroupMessageJson[]>
  /** The last error to show (list, send or a change), in the node's words. */
  error: string | undefined
  /** A send in progress (the composer waits). */
  sending: boolean
}

export interface GroupsController {
  store: Store<GroupsState>
  refresh(): Promise<void>
  open(id: string): void
  close(): void
  send(text: string): Promise<void>
  /** Create a group; resolves with its ID (undefined when it failed: see `error`). */
  create(name: string, members: string[]): Promise<string | undefined>
  add(member: string): Promise<void>
  remove(member: string): Promise<void>
  leave(): Promise<void>
  totalUnread(): number
  dispose(): void
}

/** The order every member shows (group-wire.ts). */
export const byOrder = compareGroupOrder

export function createGroupsController(bridge: KaiwaBridge): GroupsController {
  const store = createStore<GroupsState>({
    groups: [],
    open: undefined,
    messages: {},
    error: undefined,
    sending: false,
  })
  const fail = (err: unknown): void => store.patch({ error: toApiError(err).message })

  async function refresh(): Promise<void> {
    try {
      const { groups } = await bridge.call('groups', {})
      store.patch({ groups })
    } catch (err) {
      if (toApiError(err).code !== 'disconnected') fail(err)
    }
  }

  async function load(id: string): Promise<void> {
    try {
      const { messages } = await bridge.call('groupMessages', { group: id, limit: 500 })
      store.set((s) => ({ ...s, messages: { ...s.messages, [id]: [...messages].sort(byOrder) } }))
      await markRead(id)
    } catch (err) {
      if (toApiError(err).code !== 'disconnected') fail(err)
    }
  }

  async function markRead(id: string): Promise<void> {
    const g = store.get().groups.find((x) => x.id === id)
    if (g == null || g.unread === 0) return
    store.set((s) => ({
      ...s,
      groups: s.groups.map((x) => (x.id === id ? { ...x, unread: 0 } : x)),
    }))
    await bridge.call('groupMarkRead', { group: id }).catch(() => {})
  }

  function merge(m: GroupMessageJson): void {
    store.set((s) => {
      const list = (s.messages[m.group] ?? []).filter((x) => x.id !== m.id)
      return { ...s, messages: { ...s.messages, [m.group]: [...list, m].sort(byOrder) } }
    })
  }

  const offEvents = bridge.onEvent((e) => {
    // A group that came or changed with no message (another device, a member's change).
    if (e.event === 'groupChanged') {
      void refresh()
      return
    }
    if (e.event !== 'groupMessage') return
    merge(e.data)
    if (store.get().open === e.data.group) void markRead(e.data.group)
    // Unread counts, a group first heard of, the last message time.
    void refresh()
  })
  let wasDown = false
  const offConnection = bridge.onConnection((state) => {
    if (state !== 'open') wasDown = true
    else if (wasDown) {
      wasDown = false
      void refresh()
      const open = store.get().open
      if (open != null) void load(open)
    }
  })

  const change = async (call: () => Promise<{ group: GroupJson }>): Promise<void> => {
    try {
      const { group } = await call()
      store.set((s) => ({
        ...s,
        error: undefined,
        groups: s.groups.map((g) => (g.id === group.id ? group : g)),
      }))
    } catch (err) {
      fail(err)
    }
  }
  const current = (): string => store.get().open ?? ''

  return {
    store,
    refresh,
    open(id) {
      store.patch({ open: id, error: undefined })
      void load(id)
    },
    close: () => store.patch({ open: undefined }),
    async send(text) {
      const group = current()
      store.patch({ sending: true, error: undefined })
      try {
        const r = await bridge.call('groupSend', { group, text })
        merge(r.message)
        if (r.failed.length > 0)
          store.patch({ error: r.failed.map((f) => `${f.member}: ${f.reason}`).join('; ') })
      } catch (err) {
        fail(err)
      } finally {
        store.patch({ sending: false })
      }
    },
    async create(name, members) {
      try {
        const { group } = await bridge.call('groupCreate', { name, members })
        store.set((s) => ({ ...s, error: undefined, groups: [group, ...s.groups] }))
        return group.id
      } catch (err) {
        fail(err)
        return undefined
      }
    },
    add: (member) => change(() => bridge.call('groupAdd', { group: current(), members: [member] })),
    remove: (member) => change(() => bridge.call('groupRemove', { group: current(), member })),
    leave: () => change(() => bridge.call('groupLeave', { group: current() })),
    totalUnread: () => store.get().groups.reduce((n, g) => n + g.unread, 0),
    dispose() {
      offEvents()
      offConnection()
    },
  }
}
