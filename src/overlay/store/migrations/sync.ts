/**
 * Stored forms of account sync (issue 15 §3; docs/storage.md). All four are
 * new, and written at version 2 (the versioned envelope) like every other
 * collection; version 1, bare JSON, is read through the usual envelopeV2
 * migration (`syncCollection` builds each spec the same way):
 * - `devices` (`/kaiwa/devices/<peer id>`): the account's devices this device
 *   has seen in its record or heard from, and which were removed;
 * - `sync-index` (`/kaiwa/sync-index/<k|l><id>`): a message's account-wide
 *   sync id ↔ its local history id, both ways (dedup, read marks);
 * - `sync-contacts` (`/kaiwa/sync-contacts/<name>`): when a contact was last
 *   changed, so the latest change wins on every device;
 * - `sync-outbox` (`/kaiwa/sync-outbox/<queued at>-<counter>`): sync events queued for one of
 *   the account's other devices and not yet taken by the overlay or the
 *   mailbox, so they survive a restart (sync-outbox.ts). The events are the
 *   canonical CBOR of sync-wire.ts's `{e: [...]}`, base64, checked again
 *   against the wire schema when they are read back.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

/** A sync collection under `/kaiwa/<name>`, at version 2, reading bare-JSON v1 through envelopeV2. */
function syncCollection<S extends z.ZodType>(name: string, schema: S): CollectionSpec<S> {
  return {
    name,
    location: { prefix: `/kaiwa/${name}` },
    version: 2,
    schema,
    migrations: [envelopeV2(schema)],
  }
}

export const StoredDeviceSchema = z.object({
  peerId: z.string(),
  firstSeen: z.number().int(),
  lastSeen: z.number().int(),
  /** When it was removed from the account; null while it belongs to it. */
  removedAt: z.number().int().nullable(),
})
export type StoredDevice = z.infer<typeof StoredDeviceSchema>

export const devicesCollection = syncCollection('devices', StoredDeviceSchema)

export const StoredSyncIndexSchema = z.object({ syncId: z.string(), localId: z.string() })
export type StoredSyncIndex = z.infer<typeof StoredSyncIndexSchema>

export const syncIndexCollection = syncCollection('sync-index', StoredSyncIndexSchema)

export const StoredContactClockSchema = z.object({ at: z.number().int() })

export const syncContactsCollection = syncCollection('sync-contacts', StoredContactClockSchema)

export const StoredOutboxEntrySchema = z.object({
  /** The entry's key: when it was queued and a counter, so keys sort in queue order. */
  id: z.string().regex(/^\d{15}-\d{6}$/),
  /** The device the events are for (a peer id string). */
  target: z.string().min(1).max(100),
  /** When they were queued (ms). */
  at: z.number().int().nonnegative(),
  /** base64 of the canonical CBOR `{e: SyncEvent[]}` (sync-wire.ts). */
  events: z
    .string()
    .min(1)
    .max(24 * 1024 * 1024),
})
export type StoredOutboxEntry = z.infer<typeof StoredOutboxEntrySchema>

export const syncOutboxCollection = syncCollection('sync-outbox', StoredOutboxEntrySchema)
