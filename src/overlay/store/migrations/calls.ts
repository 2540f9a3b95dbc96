/**
 * Stored form of the call log (`/kaiwa/calls/<startedAt ms padded>-<id>`), by version.
 * v1: the API's CallRecordJson as bare JSON (before versioning).
 * v2: the same fields in the versioned envelope, under a schema of their own, so
 *     a change to the API's call record can no longer change what is on disk.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

export const StoredCallV1Schema = z.object({
  id: z.string().min(1).max(128),
  peer: z.string().min(1).max(64),
  direction: z.enum(['in', 'out']),
  outcome: z.enum(['answered', 'missed', 'declined', 'failed', 'cancelled']),
  startedAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string(),
  path: z.enum(['direct', 'relay', 'unknown']),
})

export const StoredCallSchema = StoredCallV1Schema
export type StoredCall = z.infer<typeof StoredCallSchema>

export const callsMigrations = [envelopeV2(StoredCallV1Schema)] as const

export const callsCollection: CollectionSpec<typeof StoredCallSchema> = {
  name: 'calls',
  location: { prefix: '/kaiwa/calls' },
  version: 2,
  schema: StoredCallSchema,
  migrations: callsMigrations,
}
