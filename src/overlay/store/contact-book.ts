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

export class ContactBook {
  private readonly entries: JsonCollection<typeof StoredContactSchema>

  constructor(datastore: Datastore, onDamaged?: (key: string) => void, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, contactsCollection, { ...options, onDamaged })
  }

  list(): Promise<PinnedContact[]> {
    return this.entries.list()
  }

  get(name: string): Promise<PinnedContact | undefined> {
    return this.entries.get(name)
  }

  /** Pin `fingerprint` for `name` (adding or re-trusting). */
  async pin(name: string, fingerprint: string, now = Date.now()): Promise<PinnedContact> {
    const existing = await this.entries.get(name)
    const entry = { name, fingerprint, addedAt: existing?.addedAt ?? new Date(now).toISOString() }
    await this.entries.put(name, entry)
    return entry
  }

  remove(name: string): Promise<void> {
    return this.entries.delete(name)
  }
}
