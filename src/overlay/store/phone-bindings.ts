/**
 * Phones' UDP registrations, kept so they survive a node restart until they
 * expire (RFC 3261 §10.3: a binding lasts its granted expiry, and a phone
 * does not re-register because its registrar restarted). Keyed by the
 * normalized contact URI; see migrations/sip-gateway.ts for the stored form.
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from './json-collection.js'
import type { StoreOptions } from './json-collection.js'
import { phoneBindingsCollection } from './migrations/sip-gateway.js'
import type { StoredPhoneBinding, StoredPhoneBindingSchema } from './migrations/sip-gateway.js'

export type { StoredPhoneBinding }

export class PhoneBindingStore {
  private readonly entries: JsonCollection<typeof StoredPhoneBindingSchema>

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, phoneBindingsCollection, options)
  }

  async put(binding: StoredPhoneBinding): Promise<void> {
    await this.entries.put(bindingKey(binding.contact), binding)
  }

  async delete(contact: string): Promise<void> {
    await this.entries.delete(bindingKey(contact))
  }

  /** Bindings still live at `now`; expired ones are deleted on the way. */
  async live(now: number): Promise<StoredPhoneBinding[]> {
    const out: StoredPhoneBinding[] = []
    for (const b of await this.entries.list()) {
      if (b.expiresAt > now) out.push(b)
      else await this.entries.delete(bindingKey(b.contact))
    }
    return out
  }
}

/** Contacts compare case-insensitively (as LocalRegistrar compares them). */
export function bindingKey(contact: string): string {
  return contact.trim().toLowerCase()
}
