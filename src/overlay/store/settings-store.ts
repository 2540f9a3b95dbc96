/**
 * Persistent node settings (claimed name, supernode mode, caps, saved
 * bootstrap peers), kept as the
 * single-entry `settings` collection (`/kaiwa/settings`, versioned: see
 * store/migrations/settings.ts). Settings that cannot be read are moved to
 * quarantine and reported, and the node runs on defaults; it does not refuse
 * to start over them, and their bytes are kept for recovery.
 */
import { join } from 'node:path'
import { z } from 'zod'
import type { Datastore } from 'interface-datastore'
import {
  FileSettingsSchema,
  SupernodeCapsSchema,
  SupernodeModeSchema,
} from '../../shared/api/contract.js'
import type { FileSettings, SupernodeCaps } from '../../shared/api/contract.js'
import type { StoreOptions } from './json-collection.js'
import { MAX_STORED_BOOTSTRAP, settingsCollection } from './migrations/settings.js'
import type { StoredSettingsV4 } from './migrations/settings.js'
import { quarantineEntry } from './quarantine.js'
import { entryKey, openCollection, readEntry, scan, writeEntry } from './versioned-collection.js'

const SETTINGS_KEY = entryKey(settingsCollection, 'settings')

/** The settings as callers use them (the API's enums); mapped to the stored form explicitly. */
export const SettingsSchema = z.object({
  name: z.string().nullable().default(null),
  /** Set from the UI; a `--supernode` flag overrides it for that run. */
  supernodeMode: SupernodeModeSchema.optional(),
  caps: SupernodeCapsSchema.partial().optional(),
  /**
   * Supernode multiaddrs (with /p2p/) saved from joined invites; the node
   * dials them at every start, with `--bootstrap` and the default list.
   * Absent when there are none.
   */
  bootstrap: z.array(z.string().min(1).max(512)).max(MAX_STORED_BOOTSTRAP).optional(),
  /** File transfer: auto-accept size, largest file, receive folder; absent: the defaults. */
  files: FileSettingsSchema.partial().optional(),
})
export type Settings = z.infer<typeof SettingsSchema>

/**
 * What a supernode spends for others unless the user caps it lower: enough
 * for ~100 attached clients and a few dozen relayed calls on a home uplink.
 */
export const DEFAULT_CAPS: SupernodeCaps = {
  relayKbps: 20_000,
  relayedCalls: 100,
  storageMiB: 256,
}

export function effectiveCaps(settings: Settings): SupernodeCaps {
  return { ...DEFAULT_CAPS, ...settings.caps }
}

/**
 * File transfer unless the user changes it: files from pinned contacts up to
 * 25 MiB arrive without asking, nothing over 4 GiB is accepted, and files go
 * to DIR/received (the data directory's; Settings can choose another folder).
 */
export function effectiveFileSettings(settings: Settings, dataDir: string): FileSettings {
  return {
    autoAcceptMiB: 25,
    maxMiB: 4096,
    receiveDir: join(dataDir, 'received'),
    ...settings.files,
  }
}

function toStored(s: Settings): StoredSettingsV4 {
  return {
    name: s.name,
    bootstrap: [...(s.bootstrap ?? [])],
    files: { ...s.files },
    ...(s.supernodeMode !== undefined ? { supernodeMode: s.supernodeMode } : {}),
    ...(s.caps !== undefined ? { caps: { ...s.caps } } : {}),
  }
}

function fromStored(s: StoredSettingsV4): Settings {
  const { bootstrap, files, ...rest } = s
  return SettingsSchema.parse({
    ...rest,
    ...(bootstrap.length > 0 ? { bootstrap } : {}),
    ...(Object.keys(files).length > 0 ? { files } : {}),
  })
}

export class SettingsStore {
  private cache: Settings | undefined
  constructor(
    private readonly datastore: Datastore,
    private readonly options: StoreOptions = {},
  ) {}

  async get(): Promise<Settings> {
    if (this.cache != null) return this.cache
    await openCollection(this.datastore, settingsCollection, { log: this.options.log })
    for await (const { key, value } of scan(this.datastore, settingsCollection)) {
      const read = readEntry(settingsCollection, value)
      if (read.ok) return (this.cache = fromStored(read.value))
      await quarantineEntry(this.datastore, {
        collection: settingsCollection.name,
        key,
        raw: value,
        reason: read.reason,
        log: this.options.log,
      })
    }
    return (this.cache = SettingsSchema.parse({}))
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...(await this.get()), ...patch })
    await this.datastore.put(SETTINGS_KEY, writeEntry(settingsCollection, toStored(next)))
    this.cache = next
    return next
  }
}
