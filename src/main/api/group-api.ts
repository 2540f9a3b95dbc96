/**
 * Group chat in the control API (issue 15 §2), over the node's GroupService:
 * create, list, send, read, and the membership changes. Group messages also
 * show in `inbox`, with a `group` field (`withGroupMessages`).
 */
import type { ApiOutput, GroupJson, GroupMessageJson, KaiwaApi } from '../../shared/api/contract.js'
import type { StoredMessageJson } from '../../shared/api/contract.js'
import {
  InvalidGroupChangeError,
  adminNames,
  memberNames,
} from '../../shared/groups/group-state.js'
import { InvalidInputError } from '../../shared/errors.js'
import { normalizeUserId } from '../../shared/user-id.js'
import type { Group } from '../../overlay/groups/group-store.js'
import type { GroupService } from '../../overlay/groups/group-service.js'
import type { StoredGroupMessage } from '../../overlay/store/migrations/groups.js'

export type GroupApi = Pick<
  KaiwaApi,
  | 'groupCreate'
  | 'groups'
  | 'groupSend'
  | 'groupMessages'
  | 'groupAdd'
  | 'groupRemove'
  | 'groupAdmin'
  | 'groupLeave'
  | 'groupRename'
  | 'groupMarkRead'
>

export type GroupsComponent = Pick<
  GroupService,
  | 'create'
  | 'list'
  | 'resolve'
  | 'send'
  | 'messages'
  | 'add'
  | 'remove'
  | 'promote'
  | 'leave'
  | 'rename'
  | 'markRead'
  | 'unread'
  | 'onMessage'
>

export function groupMessageJson(m: StoredGroupMessage): GroupMessageJson {
  const { id, group, direction, sender, fingerprint, seq, lamport, sentAt, text, via } = m
  return {
    id,
    group,
    direction,
    sender,
    fingerprint,
    seq,
    lamport,
    sentAt,
    text,
    via,
    ...(direction === 'out' ? { delivered: m.delivered, stored: m.stored, failed: m.failed } : {}),
  }
}

export function createGroupApi(
  groups: GroupsComponent,
  ownName: () => Promise<string | null>,
): GroupApi {
  const json = async (g: Group): Promise<GroupJson> => {
    const me = await ownName()
    const last = (await groups.messages(g.state.id, 1))[0]
    return {
      id: g.state.id,
      name: g.state.name,
      creator: g.state.creator,
      members: memberNames(g.state),
      admins: adminNames(g.state),
      version: g.state.version,
      member: me != null && g.state.members.has(me),
      unread: await groups.unread(g),
      lastMessageAt: last?.sentAt ?? null,
    }
  }
  const one = async (p: Promise<Group>): Promise<{ group: GroupJson }> => {
    try {
      return { group: await json(await p) }
    } catch (err) {
      // Not allowed by the group's rules (group-state.ts): the caller's mistake.
      if (err instanceof InvalidGroupChangeError) throw new InvalidInputError(err.message)
      throw err
    }
  }
  const users = (names: string[]): string[] => names.map((n) => normalizeUserId(n))
  return {
    groupCreate: ({ name, members }) => one(groups.create(name, users(members))),
    groups: async () => {
      const all = await Promise.all((await groups.list()).map(json))
      // Newest activity first, then by name.
      all.sort(
        (a, b) =>
          (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? '') ||
          a.name.localeCompare(b.name),
      )
      return { groups: all }
    },
    groupSend: async ({ group, text }) => {
      const res = await groups.send(group, text)
      return { ...res, message: groupMessageJson(res.message) }
    },
    groupMessages: async ({ group, limit }) => {
      const g = await groups.resolve(group)
      return { messages: (await groups.messages(g.state.id, limit)).map(groupMessageJson) }
    },
    groupAdd: ({ group, members }) => one(groups.add(group, users(members))),
    groupRemove: ({ group, member }) => one(groups.remove(group, normalizeUserId(member))),
    groupAdmin: ({ group, member }) => one(groups.promote(group, normalizeUserId(member))),
    groupLeave: ({ group }) => one(groups.leave(group)),
    groupRename: ({ group, name }) => one(groups.rename(group, name)),
    groupMarkRead: async ({ group }) => {
      await groups.markRead(group)
      return {}
    },
  }
}

/**
 * `inbox` with received group messages merged in by time, each with a
 * `group` field ({id, name}); `from` and `peer` are the sender's SIP URI.
 */
export async function withGroupMessages(
  messages: StoredMessageJson[],
  groups: Pick<GroupService, 'list' | 'messages'>,
  domain: string,
  limit?: number,
): Promise<ApiOutput<'inbox'>> {
  // Ordered by when this node stored each one (history IDs start with that time).
  const all: Array<[number, StoredMessageJson]> = messages.map((m) => [receivedMs(m), m])
  for (const g of await groups.list()) {
    for (const m of await groups.messages(g.state.id)) {
      if (m.direction !== 'in') continue
      const from = `sip:${m.sender}@${domain}`
      all.push([
        m.receivedAt,
        {
          id: `group-${m.group}-${m.id}`,
          direction: 'in',
          peer: from,
          from,
          to: `group:${m.group}`,
          date: new Date(m.receivedAt).toISOString(),
          contentType: 'text/plain',
          text: m.text,
          status: 'received',
          code: 200,
          ...(m.via === 'mailbox' ? { offline: true } : {}),
          fingerprint: m.fingerprint,
          group: { id: m.group, name: g.state.name },
        },
      ])
    }
  }
  const sorted = all.sort((a, b) => a[0] - b[0]).map(([, m]) => m)
  return { messages: limit != null ? sorted.slice(-limit) : sorted }
}

function receivedMs(m: StoredMessageJson): number {
  const t = Number(/^(\d{15})-/.exec(m.id)?.[1])
  return Number.isFinite(t) ? t : Date.parse(m.date)
}
