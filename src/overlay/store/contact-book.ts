/**
 * The user's address book. Each contact pins the account key fingerprint seen
 * when it was added (trust on first use, or the fingerprint of a
 * `name#fingerprint` link); a later record under the same name with another
 * key is shown as a key change, never silently accepted.
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from './json-collection.js'
import type { StoreOptions } from './json-collection.js'
import { StoredContactSchema, contactsCollection } from './migrations/contacts.js'
import type { StoredContact } from './migrations/contacts.js'

/** The contact as the book hands it out (today the stored form is exactly this). */
export const PinnedContactSchema = StoredContactSchema
export type PinnedContact = StoredContact

/** Names remembered as "not a contact" before that memory is dropped. */
const MAX_REMEMBERED_MISSES = 10_000

/**
 * The composition root makes one book per node and hands it to everyone who
 * reads or writes contacts, so its memory of what is stored stays true: every
 * incoming request's sender is compared with the book (RFC 8224 §6.2 happens
 * per request), and a disk read per request was the largest per-message cost
 * bench:sip found on the receiving node.
 */
export class ContactBook {
  private readonly entries: JsonCollection<typeof StoredContactSchema>
  /** What the store holds for a name: the contact, or null for none. */
  private readonly known = new Map<string, PinnedContact | null>()
  private misses = 0
  /** Bumped by every write, so a read that raced one is not remembered. */
  private writes = 0
  private readonly listeners = new Set<(name: string, fingerprint: string | null) => void>()

  constructor(datastore: Datastore, onDamaged?: (key: string) => void, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, contactsCollection, { ...options, onDamaged })
  }

  /** Every contact, read from the store; the memory takes what it says. */
  async list(): Promise<PinnedContact[]> {
    const writes = this.writes
    const all = await this.entries.list()
    if (writes === this.writes) {
      for (const [name, v] of this.known) if (v !== null) this.known.delete(name)
      for (const c of all) this.known.set(c.name, c)
    }
    return all
  }

  async get(name: string): Promise<PinnedContact | undefined> {
    const hit = this.known.get(name)
    if (hit !== undefined) return hit ?? undefined
    const writes = this.writes
    const stored = await this.entries.get(name)
    if (writes === this.writes) this.remember(name, stored ?? null)
    return stored
  }

  /** Called after each pin (with the fingerprint) and removal (null): account sync. */
  onChanged(listener: (name: string, fingerprint: string | null) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Pin `fingerprint` for `name` (adding or re-trusting). */
  async pin(name: string, fingerprint: string, now = Date.now()): Promise<PinnedContact> {
    const existing = await this.entries.get(name)
    const entry = { name, fingerprint, addedAt: existing?.addedAt ?? new Date(now).toISOString() }
    this.writes++
    this.known.delete(name)
    await this.entries.put(name, entry)
    this.remember(name, entry)
    for (const l of this.listeners) l(name, fingerprint)
    return entry
  }

  async remove(name: string): Promise<void> {
    this.writes++
    this.known.delete(name)
    await this.entries.delete(name)
    this.remember(name, null)
    for (const l of this.listeners) l(name, null)
  }

  private remember(name: string, value: PinnedContact | null): void {
    if (value === null) {
      // Anyone can send from any name: bound the memory of names that are not contacts.
      if (++this.misses > MAX_REMEMBERED_MISSES) {
        for (const [k, v] of this.known) if (v === null) this.known.delete(k)
        this.misses = 1
      }
    }
    this.known.set(name, value)
  }
}
