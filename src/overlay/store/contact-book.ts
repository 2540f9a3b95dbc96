/**
 * The user's address book. Each contact pins the account key fingerprint seen
 * when it was added (trust on first use, or the fingerprint of a
 * `name#fingerprint` link); a later record under the same name with another
 * key is shown as a key change, never silently accepted.
 */
import type { Datastore } from 'interface-datastore'
import { z } from 'zod'
import { JsonCollection } from './json-collection.js'

export const PinnedContactSchema = z.object({
  name: z.string(),
  fingerprint: z.string(),
  addedAt: z.string(),
})
export type PinnedContact = z.infer<typeof PinnedContactSchema>

export class ContactBook {
  private readonly entries: JsonCollection<typeof PinnedContactSchema>

  constructor(datastore: Datastore, onDamaged?: (key: string) => void) {
    this.entries = new JsonCollection(datastore, '/kaiwa/contacts', PinnedContactSchema, onDamaged)
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
