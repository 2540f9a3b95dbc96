/**
 * Who hears what happens in groups (group-service.ts): each message stored,
 * each change account sync sends on to the account's other devices, and each
 * group that changed with no message of its own to show it (the UI's list).
 */
import type { StoredGroupMessage } from '../store/migrations/groups.js'
import type { GroupChange } from './group-siblings.js'

export class GroupEvents {
  private readonly messages = new Set<(m: StoredGroupMessage) => void>()
  private readonly changes = new Set<(c: GroupChange) => void>()
  private readonly groups = new Set<(id: string) => void>()

  /** Called with each group message stored, in or out. */
  onMessage(listener: (m: StoredGroupMessage) => void): () => void {
    this.messages.add(listener)
    return () => this.messages.delete(listener)
  }

  /** Each change made or taken here (not one from a sibling device): account sync sends it on. */
  onChange(listener: (c: GroupChange) => void): () => void {
    this.changes.add(listener)
    return () => this.changes.delete(listener)
  }

  /** A group created, joined, left, changed or read, here or on another device (no message). */
  onGroup(listener: (id: string) => void): () => void {
    this.groups.add(listener)
    return () => this.groups.delete(listener)
  }

  message(m: StoredGroupMessage): void {
    for (const l of this.messages) l(m)
  }

  changed(c: GroupChange): void {
    for (const l of this.changes) l(c)
    if (c.kind === 'log') this.group(c.group.state.id)
    else if (c.kind === 'read') this.group(c.group)
  }

  group(id: string): void {
    for (const l of this.groups) l(id)
  }
}
