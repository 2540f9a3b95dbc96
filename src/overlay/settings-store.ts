/**
 * Persistent node settings (claimed name, supernode mode, last published
 * sequence number), stored as JSON in the datastore.
 */
import { Key } from 'interface-datastore'
import { z } from 'zod'
import type { Datastore } from 'interface-datastore'
import { SupernodeCapsSchema, SupernodeModeSchema } from '../shared/api/contract.js'
import type { SupernodeCaps } from '../shared/api/contract.js'
import { DataDirError } from './data-dir.js'

const SETTINGS_KEY = new Key('/kaiwa/settings')

export const SettingsSchema = z.object({
  name: z.string().nullable().default(null),
  /** Set from the UI; a `--supernode` flag overrides it for that run. */
  supernodeMode: SupernodeModeSchema.optional(),
  caps: SupernodeCapsSchema.partial().optional(),
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

export class SettingsStore {
  private cache: Settings | undefined
  constructor(private readonly datastore: Datastore) {}

  async get(): Promise<Settings> {
    if (this.cache != null) return this.cache
    if (!(await this.datastore.has(SETTINGS_KEY))) return (this.cache = SettingsSchema.parse({}))
    const bytes = await this.datastore.get(SETTINGS_KEY)
    try {
      this.cache = SettingsSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
    } catch (err) {
      throw new DataDirError('the settings in the data directory are corrupt', { cause: err })
    }
    return this.cache
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...(await this.get()), ...patch })
    await this.datastore.put(SETTINGS_KEY, new TextEncoder().encode(JSON.stringify(next)))
    this.cache = next
    return next
  }
}
