/**
 * Stored form of the call log (`/kaiwa/calls/<startedAt ms padded>-<id>`), by version.
 * v1: the API's CallRecordJson as bare JSON (before versioning).
 * v2: the same fields in the versioned envelope, under a schema of their own, so
 *     a change to the API's call record can no longer change what is on disk.
 * v3: `anchor`, where the far end's media was anchored (`phone`: a plain SIP
 *     phone behind that user's node, so the call was encrypted only to that
 *     node), always present: null for an end-to-end call and for every call
 *     logged before v3 (the UI did not send it then). `peer` is allowed the
 *     API's 80 characters, which an unverified caller's thread name
 *     (`<user> (unverified key <fingerprint>)`, up to 69) needs.
 */
import { z } from 'zod'
import type { CollectionSpec, Migration } from '../versioned-collection.js'
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

/** v2 is v1's value, unchanged, in the envelope. */
export const StoredCallV2Schema = StoredCallV1Schema
export type StoredCallV2 = z.infer<typeof StoredCallV2Schema>

export const StoredCallV3Schema = StoredCallV2Schema.extend({
  peer: z.string().min(1).max(80),
  anchor: z.enum(['phone']).nullable(),
})
export type StoredCallV3 = z.infer<typeof StoredCallV3Schema>

export const StoredCallSchema = StoredCallV3Schema
export type StoredCall = StoredCallV3

export const callsV1ToV2: Migration = envelopeV2(StoredCallV1Schema)

/** No call was logged with its anchor before v3: say so explicitly (null), never "phone". */
export const callsV2ToV3: Migration = {
  from: 2,
  to: 3,
  migrate: (entry) => ({ ...StoredCallV2Schema.parse(entry), anchor: null }),
}

export const callsMigrations = [callsV1ToV2, callsV2ToV3] as const

export const callsCollection: CollectionSpec<typeof StoredCallSchema> = {
  name: 'calls',
  location: { prefix: '/kaiwa/calls' },
  version: 3,
  schema: StoredCallSchema,
  migrations: callsMigrations,
}
