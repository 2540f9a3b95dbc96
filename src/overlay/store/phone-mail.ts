/**
 * Offline mail waiting for the account's phones (phone-mail.ts in
 * src/overlay/sip/), one entry per message, with which phones took it and
 * which still owe it. Kept at most `MAX_PHONE_MAIL` entries and the mailbox's
 * own 7 days: a phone that never comes back must not grow the store forever.
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from './json-collection.js'
import type { StoreOptions } from './json-collection.js'
import { phoneMailCollection } from './migrations/sip-gateway.js'
import type { StoredPhoneMail, StoredPhoneMailSchema } from './migrations/sip-gateway.js'

export type { StoredPhoneMail }

/** The supernode mailbox keeps mail 7 days; phones get the same window. */
export const PHONE_MAIL_RETENTION_MS = 7 * 24 * 3600_000
export const MAX_PHONE_MAIL = 500

export class PhoneMailStore {
  private readonly entries: JsonCollection<typeof StoredPhoneMailSchema>

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, phoneMailCollection, options)
  }

  async get(id: string): Promise<StoredPhoneMail | undefined> {
    return this.entries.get(id)
  }

  async put(mail: StoredPhoneMail): Promise<void> {
    await this.entries.put(mail.id, mail)
  }

  async delete(id: string): Promise<void> {
    await this.entries.delete(id)
  }

  /**
   * Entries still kept at `now`, oldest first; those past the retention, and
   * the oldest beyond `MAX_PHONE_MAIL`, are deleted on the way.
   */
  async kept(now: number): Promise<StoredPhoneMail[]> {
    const all = (await this.entries.list()).sort(
      (a, b) => a.receivedAt - b.receivedAt || a.id.localeCompare(b.id),
    )
    const keep: StoredPhoneMail[] = []
    for (const [i, m] of all.entries()) {
      const tooMany = all.length - i > MAX_PHONE_MAIL
      if (tooMany || now - m.receivedAt > PHONE_MAIL_RETENTION_MS) await this.delete(m.id)
      else keep.push(m)
    }
    return keep
  }
}
