/**
 * Stored form of message history (`/kaiwa/messages/<ms padded>-<token>`), by version.
 * v1: the API's StoredMessageJson as bare JSON (before versioning); `offline`
 *     was present only on mail collected from a supernode.
 * v2: in the versioned envelope, with `offline` always present (false unless the
 *     message came through offline mail), so the stored form states it instead
 *     of leaving readers to guess what a missing field means.
 * v3: `verification` and `fingerprint` of the sender's account key (RFC 8224
 *     sender authentication), always present, null for entries from before
 *     senders were verified and for outgoing messages.
 */
import { z } from 'zod'
import type { CollectionSpec, Migration } from '../versioned-collection.js'

export const StoredMessageV1Schema = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  peer: z.string(),
  from: z.string(),
  to: z.string(),
  date: z.string(),
  contentType: z.string(),
  text: z.string(),
  status: z.enum(['delivered', 'stored', 'failed', 'received']),
  code: z.number().int(),
  offline: z.boolean().optional(),
})

export const StoredMessageV2Schema = StoredMessageV1Schema.extend({ offline: z.boolean() })
export type StoredMessageV2 = z.infer<typeof StoredMessageV2Schema>

export const messagesV1ToV2: Migration = {
  from: 1,
  to: 2,
  migrate: (entry) => {
    const v1 = StoredMessageV1Schema.parse(entry)
    return { ...v1, offline: v1.offline ?? false }
  },
}

export const StoredMessageV3Schema = StoredMessageV2Schema.extend({
  verification: z.enum(['verified', 'new', 'mismatch']).nullable(),
  fingerprint: z.string().nullable(),
})
export type StoredMessageV3 = z.infer<typeof StoredMessageV3Schema>

/** Nothing was verified before v3: say so explicitly (null), never "verified". */
export const messagesV2ToV3: Migration = {
  from: 2,
  to: 3,
  migrate: (entry) => {
    const v2 = StoredMessageV2Schema.parse(entry)
    return { ...v2, verification: null, fingerprint: null }
  },
}

export const messagesCollection: CollectionSpec<typeof StoredMessageV3Schema> = {
  name: 'messages',
  location: { prefix: '/kaiwa/messages' },
  version: 3,
  schema: StoredMessageV3Schema,
  migrations: [messagesV1ToV2, messagesV2ToV3],
}
