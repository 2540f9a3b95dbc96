/**
 * The account's devices as this device knows them: every peer id seen in
 * the account's record (or heard from as a verified sibling), when, and
 * whether it was removed. Removal is remembered for good, so a removed device
 * is never synced with again and never put back into the record by this one.
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from '../store/json-collection.js'
import type { StoreOptions } from '../store/json-collection.js'
import { devicesCollection } from '../store/migrations/sync.js'
import type { StoredDevice, StoredDeviceSchema } from '../store/migrations/sync.js'

export type KnownDevice = StoredDevice

export class DeviceBook {
  private readonly entries: JsonCollection<typeof StoredDeviceSchema>

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, devicesCollection, options)
  }

  list(): Promise<KnownDevice[]> {
    return this.entries.list()
  }

  get(peerId: string): Promise<KnownDevice | undefined> {
    return this.entries.get(peerId)
  }

  /** Note that `peerId` is a device of the account; true when it was not known before. */
  async saw(peerId: string, now = Date.now()): Promise<boolean> {
    const known = await this.entries.get(peerId)
    if (known?.removedAt != null) return false
    // lastSeen is coarse (a minute): this runs for every message synced.
    if (known != null && now - known.lastSeen < 60_000) return false
    await this.entries.put(peerId, {
      peerId,
      firstSeen: known?.firstSeen ?? now,
      lastSeen: now,
      removedAt: null,
    })
    return known == null
  }

  /** Mark `peerId` removed; false when it already was. */
  async remove(peerId: string, at = Date.now()): Promise<boolean> {
    const known = await this.entries.get(peerId)
    if (known?.removedAt != null) return false
    await this.entries.put(peerId, {
      peerId,
      firstSeen: known?.firstSeen ?? at,
      lastSeen: known?.lastSeen ?? at,
      removedAt: at,
    })
    return true
  }

  async isRemoved(peerId: string): Promise<boolean> {
    return (await this.entries.get(peerId))?.removedAt != null
  }

  async removed(): Promise<Set<string>> {
    return new Set((await this.list()).filter((d) => d.removedAt != null).map((d) => d.peerId))
  }
}
