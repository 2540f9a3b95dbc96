/**
 * Stored form of the node settings (one key, `/kaiwa/settings`), by version.
 * v1: `{name, supernodeMode?, caps?}` as bare JSON (before versioning).
 * v2: the same value in the versioned envelope, with `name` always present.
 * v3: adds `bootstrap`, the supernode multiaddrs saved from invites (issue
 * 13), always present (`[]` for settings written before invites).
 * v4: adds `files`, the file-transfer settings (auto-accept size for pinned
 * contacts, largest file accepted, receive folder), each optional (absent:
 * the default), the object always present (`{}` for settings before files).
 * The enums and bounds are spelled out here rather than borrowed from the API
 * contract, so changing the API cannot silently change what is on disk.
 */
import { z } from 'zod'
import type { CollectionSpec, Migration } from '../versioned-collection.js'

const StoredCapsSchema = z
  .object({
    relayKbps: z.number().int().nonnegative().max(10_000_000),
    relayedCalls: z.number().int().nonnegative().max(100_000),
    storageMiB: z.number().int().nonnegative().max(1_000_000),
  })
  .partial()

export const StoredSettingsV1Schema = z.object({
  name: z.string().nullable().default(null),
  supernodeMode: z.enum(['off', 'auto', 'on']).optional(),
  caps: StoredCapsSchema.optional(),
})

export const StoredSettingsV2Schema = z.object({
  name: z.string().nullable(),
  supernodeMode: z.enum(['off', 'auto', 'on']).optional(),
  caps: StoredCapsSchema.optional(),
})
export type StoredSettingsV2 = z.infer<typeof StoredSettingsV2Schema>

/** At most this many saved bootstrap peers: a few invites' worth. */
export const MAX_STORED_BOOTSTRAP = 32

export const StoredSettingsV3Schema = StoredSettingsV2Schema.extend({
  bootstrap: z.array(z.string().min(1).max(512)).max(MAX_STORED_BOOTSTRAP),
})
export type StoredSettingsV3 = z.infer<typeof StoredSettingsV3Schema>

/** File-transfer settings; an absent field means the default (settings-store.ts). */
export const StoredFileSettingsSchema = z
  .object({
    /** Files from pinned contacts up to this size are accepted without asking. */
    autoAcceptMiB: z.number().int().nonnegative().max(1_000_000),
    /** Larger offers are refused outright. */
    maxMiB: z.number().int().positive().max(1_000_000),
    /** Where received files go (an absolute path). */
    receiveDir: z.string().min(1).max(4096),
  })
  .partial()

export const StoredSettingsV4Schema = StoredSettingsV3Schema.extend({
  files: StoredFileSettingsSchema,
})
export type StoredSettingsV4 = z.infer<typeof StoredSettingsV4Schema>

export const settingsV1ToV2: Migration = {
  from: 1,
  to: 2,
  // v1's parse fills in a missing name (null), which v2 requires.
  migrate: (entry) => StoredSettingsV1Schema.parse(entry),
}

export const settingsV2ToV3: Migration = {
  from: 2,
  to: 3,
  // Settings from before invites had no saved bootstrap peers.
  migrate: (entry) => ({ ...StoredSettingsV2Schema.parse(entry), bootstrap: [] }),
}

export const settingsV3ToV4: Migration = {
  from: 3,
  to: 4,
  // Settings from before file transfer had none: every file setting is its default.
  migrate: (entry) => ({ ...StoredSettingsV3Schema.parse(entry), files: {} }),
}

export const settingsCollection: CollectionSpec<typeof StoredSettingsV4Schema> = {
  name: 'settings',
  location: { key: '/kaiwa/settings' },
  version: 4,
  schema: StoredSettingsV4Schema,
  migrations: [settingsV1ToV2, settingsV2ToV3, settingsV3ToV4],
}
