/**
 * Stored form of the address book (`/kaiwa/contacts/<name>`), by version.
 * v1: `{name, fingerprint, addedAt}` as bare JSON (before versioning).
 * v2: the same value in the versioned envelope.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

export const StoredContactV1Schema = z.object({
  name: z.string(),
  fingerprint: z.string(),
  addedAt: z.string(),
})

export const StoredContactSchema = StoredContactV1Schema
export type StoredContact = z.infer<typeof StoredContactSchema>

export const contactsMigrations = [envelopeV2(StoredContactV1Schema)] as const

export const contactsCollection: CollectionSpec<typeof StoredContactSchema> = {
  name: 'contacts',
  location: { prefix: '/kaiwa/contacts' },
  version: 2,
  schema: StoredContactSchema,
  migrations: contactsMigrations,
}
