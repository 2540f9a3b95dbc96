/**
 * Persistent node settings (claimed name, supernode mode, last published
 * sequence number), stored as JSON in the datastore.
 */
import { Key } from 'interface-datastore'
import { z } from 'zod'
import type { Datastore } from 'interface-datastore'
import { SupernodeModeSchema } from '../shared/api/contract.js'
import { DataDirError } from './data-dir.js'

const SETTINGS_KEY = new Key('/kaiwa/settings')

export const SettingsSchema = z.object({
  name: z.string().nullable().default(null),
  supernodeMode: SupernodeModeSchema.optional(),
})
export type Settings = z.infer<typeof SettingsSchema>

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
