/**
 * Groups and group messages in the node's datastore (the versioned `groups`
 * and `group-messages` collections, store/migrations/groups.ts), with the
 * replayed state of each group and the IDs of its messages kept in memory:
 * a message whose ID is already here is a duplicate (a retransmission, the
 * same mail held by several supernodes, a link and the mailbox both).
 */
import type { Datastore } from 'interface-datastore'
import { fromString, toString } from 'uint8arrays'
import type { Logger } from '../../shared/logger.js'
import { decodeGroupEntry, encodeGroupEntry } from '../../shared/groups/group-log.js'
import type { GroupEntry } from '../../shared/groups/group-log.js'
import { replay } from '../../shared/groups/group-state.js'
import type { GroupState } from '../../shared/groups/group-state.js'
import { orderKey } from '../../shared/groups/group-wire.js'
import { JsonCollection } from '../store/json-collection.js'
import { groupMessagesCollection, groupsCollection } from '../store/migrations/groups.js'
import type {
  StoredGroup,
  StoredGroupMessage,
  StoredGroupSchema,
  StoredGroupMessageSchema,
} from '../store/migrations/groups.js'

export interface Group {
  stored: StoredGroup
  log: GroupEntry[]
  state: GroupState
}

export const encodeLog = (log: readonly GroupEntry[]): string[] =>
  log.map((e) => toString(encodeGroupEntry(e), 'base64'))

export const decodeLog = (entries: readonly string[]): GroupEntry[] =>
  entries.map((b) => decodeGroupEntry(fromString(b, 'base64')))

/** A message's key within its group: the display order (group-wire.ts). */
export const messageKey = (m: Pick<StoredGroupMessage, 'lamport' | 'sender' | 'seq'>): string =>
  orderKey(m)

/**
 * Where a message is stored: its order key, then its ID. Two devices of one
 * account sending to a group at the same instant, before either saw the
 * other's message, give both messages the same (Lamport time, sender, seq);
 * with the order key alone the second write replaced the first on disk. Keys
 * written before this (the order key alone) are still read (`list` scans the
 * prefix) and are moved to this form when the message is next updated.
 */
const storageKey = (m: StoredGroupMessage): string => `${m.group}/${messageKey(m)} ${m.id}`
const legacyKey = (m: StoredGroupMessage): string => `${m.group}/${messageKey(m)}`

export class GroupStore {
  private readonly groups: JsonCollection<typeof StoredGroupSchema>
  private readonly messages: JsonCollection<typeof StoredGroupMessageSchema>
  private loaded: Promise<void> | undefined
  private readonly byId = new Map<string, Group>()
  /** Per group: message ID → order key, and every message in order. */
  private readonly ids = new Map<string, Map<string, string>>()
  private readonly lists = new Map<string, StoredGroupMessage[]>()

  constructor(
    datastore: Datastore,
    private readonly log: Logger,
  ) {
    this.groups = new JsonCollection(datastore, groupsCollection, { log })
    this.messages = new JsonCollection(datastore, groupMessagesCollection, { log })
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      for (const stored of await this.groups.list()) {
        try {
          const log = decodeLog(stored.log)
          this.byId.set(stored.id, { stored, log, state: replay(log) })
        } catch (err) {
          // Written by this node after the same checks: only a damaged disk gets here.
          this.log.warn(`group ${stored.id} has an unreadable log and is skipped: ${String(err)}`)
        }
      }
      const all = await this.messages.list()
      for (const m of all) this.remember(m)
      for (const list of this.lists.values()) list.sort(byKey)
    })()
    return this.loaded
  }

  private remember(m: StoredGroupMessage): void {
    let ids = this.ids.get(m.group)
    if (ids == null) this.ids.set(m.group, (ids = new Map()))
    // A message under both key forms (a stop between update's put and delete) is listed once.
    if (ids.has(m.id)) return
    ids.set(m.id, messageKey(m))
    let list = this.lists.get(m.group)
    if (list == null) this.lists.set(m.group, (list = []))
    list.push(m)
  }

  async get(id: string): Promise<Group | undefined> {
    await this.load()
    return this.byId.get(id)
  }

  async all(): Promise<Group[]> {
    await this.load()
    return [...this.byId.values()]
  }

  /** Write a group (its log replayed into `state` by the caller). */
  async save(group: Group): Promise<void> {
    await this.load()
    const stored = { ...group.stored, log: encodeLog(group.log) }
    await this.groups.put(stored.id, stored)
    this.byId.set(stored.id, { ...group, stored })
  }

  async has(group: string, messageId: string): Promise<boolean> {
    await this.load()
    return this.ids.get(group)?.has(messageId) === true
  }

  /** Store a message; false (and nothing written) when its ID is already stored. */
  async add(m: StoredGroupMessage): Promise<boolean> {
    await this.load()
    if (this.ids.get(m.group)?.has(m.id) === true) return false
    await this.messages.put(storageKey(m), m)
    this.remember(m)
    const list = this.lists.get(m.group)!
    // Usually the newest: keep the list sorted without a full sort.
    if (list.length > 1 && byKey(list.at(-2)!, m) > 0) list.sort(byKey)
    return true
  }

  /** Replace a stored outgoing message (its delivery outcome). */
  async update(m: StoredGroupMessage): Promise<void> {
    await this.load()
    await this.messages.put(storageKey(m), m)
    // Written before storage keys carried the ID: drop that copy once this one is on disk.
    if ((await this.messages.get(legacyKey(m)))?.id === m.id)
      await this.messages.delete(legacyKey(m))
    const list = this.lists.get(m.group) ?? []
    const i = list.findIndex((x) => x.id === m.id)
    if (i >= 0) list[i] = m
  }

  /** A group's messages in display order (the newest `limit`). */
  async list(group: string, limit?: number): Promise<StoredGroupMessage[]> {
    await this.load()
    const list = this.lists.get(group) ?? []
    return limit != null ? list.slice(-limit) : [...list]
  }
}

/** Display order; messages in the same place (see storageKey) by ID, the same on every device. */
function byKey(a: StoredGroupMessage, b: StoredGroupMessage): number {
  const x = messageKey(a)
  const y = messageKey(b)
  return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
