/**
 * Stored form of read marks (`/kaiwa/read/<peer>`), by version.
 * v1: `{lastReadId}` as bare JSON (before versioning).
 * v2: the same value in the versioned envelope.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

export const StoredReadMarkV1Schema = z.object({ lastReadId: z.string() })

export const StoredReadMarkSchema = StoredReadMarkV1Schema
export type StoredReadMark = z.infer<typeof StoredReadMarkSchema>

export const readMarksMigrations = [envelopeV2(StoredReadMarkV1Schema)] as const

export const readMarksCollection: CollectionSpec<typeof StoredReadMarkSchema> = {
  name: 'read-marks',
  location: { prefix: '/kaiwa/read' },
  version: 2,
  schema: StoredReadMarkSchema,
  migrations: readMarksMigrations,
}
