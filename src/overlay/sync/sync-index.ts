/**
 * Which local history entry is which account-wide message (sync-wire.ts
 * message ids), both ways, and when each contact last changed: what makes
 * applying a sync event idempotent. Sync ids are hashed into the keys (they
 * hold a Call-ID, which may contain any character).
 */
import type { Datastore } from 'interface-datastore'
import { sha256 } from '@noble/hashes/sha2.js'
import { toString } from 'uint8arrays'
import { JsonCollection } from '../store/json-collection.js'
import type { StoreOptions } from '../store/json-collection.js'
import { syncContactsCollection, syncIndexCollection } from '../store/migrations/sync.js'
import type { StoredContactClockSchema, StoredSyncIndexSchema } from '../store/migrations/sync.js'

const hashed = (syncId: string): string =>
  'k' + toString(sha256(new TextEncoder().encode(syncId)).subarray(0, 20), 'base16')

export class SyncIndex {
  private readonly index: JsonCollection<typeof StoredSyncIndexSchema>
  private readonly clocks: JsonCollection<typeof StoredContactClockSchema>

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.index = new JsonCollection(datastore, syncIndexCollection, options)
    this.clocks = new JsonCollection(datastore, syncContactsCollection, options)
  }

  async localIdOf(syncId: string): Promise<string | undefined> {
    return (await this.index.get(hashed(syncId)))?.localId
  }

  async syncIdOf(localId: string): Promise<string | undefined> {
    if (!/^[0-9a-zA-Z-]{1,64}$/.test(localId)) return undefined
    return (await this.index.get('l' + localId))?.syncId
  }

  async link(syncId: string, localId: string): Promise<void> {
    const entry = { syncId, localId }
    await this.index.put(hashed(syncId), entry)
    await this.index.put('l' + localId, entry)
  }

  /** When `name` last changed here (contacts; SETTINGS_CLOCK for settings). */
  async changedAt(name: string): Promise<number | undefined> {
    return (await this.clocks.get(name))?.at
  }

  /** True (and remembered) when a contact change at `at` is newer than the last one applied. */
  async newerContactChange(name: string, at: number): Promise<boolean> {
    const last = (await this.clocks.get(name))?.at ?? -1
    if (at <= last) return false
    await this.clocks.put(name, { at })
    return true
  }
}
