/**
 * Stored forms of account sync (issue 15 §3; docs/storage.md). All three are
 * new, and written at version 2 (the versioned envelope) like every other
 * collection; version 1, bare JSON, is read through the usual envelopeV2
 * migration:
 * - `devices` (`/kaiwa/devices/<peer id>`): the account's devices this device
 *   has seen in its record or heard from, and which were removed;
 * - `sync-index` (`/kaiwa/sync-index/<k|l><id>`): a message's account-wide
 *   sync id ↔ its local history id, both ways (dedup, read marks);
 * - `sync-contacts` (`/kaiwa/sync-contacts/<name>`): when a contact was last
 *   changed, so the latest change wins on every device.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

export const StoredDeviceSchema = z.object({
  peerId: z.string(),
  firstSeen: z.number().int(),
  lastSeen: z.number().int(),
  /** When it was removed from the account; null while it belongs to it. */
  removedAt: z.number().int().nullable(),
})
export type StoredDevice = z.infer<typeof StoredDeviceSchema>

export const devicesCollection: CollectionSpec<typeof StoredDeviceSchema> = {
  name: 'devices',
  location: { prefix: '/kaiwa/devices' },
  version: 2,
  schema: StoredDeviceSchema,
  migrations: [envelopeV2(StoredDeviceSchema)],
}

export const StoredSyncIndexSchema = z.object({ syncId: z.string(), localId: z.string() })
export type StoredSyncIndex = z.infer<typeof StoredSyncIndexSchema>

export const syncIndexCollection: CollectionSpec<typeof StoredSyncIndexSchema> = {
  name: 'sync-index',
  location: { prefix: '/kaiwa/sync-index' },
  version: 2,
  schema: StoredSyncIndexSchema,
  migrations: [envelopeV2(StoredSyncIndexSchema)],
}

export const StoredContactClockSchema = z.object({ at: z.number().int() })

export const syncContactsCollection: CollectionSpec<typeof StoredContactClockSchema> = {
  name: 'sync-contacts',
  location: { prefix: '/kaiwa/sync-contacts' },
  version: 2,
  schema: StoredContactClockSchema,
  migrations: [envelopeV2(StoredContactClockSchema)],
}
