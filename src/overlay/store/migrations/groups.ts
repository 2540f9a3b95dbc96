/**
 * Stored forms of group chat (src/overlay/groups/, issue 15 §2), by version.
 *
 * - `groups` (`/kaiwa/groups/<group ID>`): each group this node is or was in:
 *   its membership log (base64 entries, group-log.ts) from which members,
 *   admins and name are replayed, this node's Lamport clock and sequence
 *   number for the group, and the last message read.
 * - `group-messages` (`/kaiwa/group-messages/<group ID>/<order key> <message ID>`):
 *   the messages, keyed so a prefix scan lists a group in display order
 *   (group-wire.ts `orderKey`); the ID keeps two messages in the same place
 *   (two devices of one account sending at once) apart. Entries keyed by the
 *   order key alone (written before) are read the same and re-keyed when the
 *   message is next updated (group-store.ts); the value's form is unchanged,
 *   so the version is not.
 *
 * Neither existed before versioned storage: both are born at v2, whose one
 * migration is the envelope (envelope-v2.ts). The bounds are spelled out here,
 * not borrowed from the protocol, so changing the code cannot silently change
 * what is on disk.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

const GroupIdSchema = z.string().regex(/^[0-9a-f]{32}$/)
const UserSchema = z.string().min(3).max(32)
const CountSchema = z.number().int().nonnegative()

export const StoredGroupSchema = z.object({
  id: GroupIdSchema,
  /** The membership log, base64 of each entry's canonical CBOR. */
  log: z.array(z.string().min(1).max(8192)).min(1).max(128),
  /** This node's Lamport clock for the group (the largest time seen or sent). */
  clock: CountSchema,
  /** Sequence number of the last message this node sent to the group. */
  seq: CountSchema,
  /** Order key of the last message read (null: none). */
  lastRead: z.string().max(120).nullable(),
  joinedAt: CountSchema,
})
export type StoredGroup = z.infer<typeof StoredGroupSchema>

export const StoredGroupMessageSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  group: GroupIdSchema,
  direction: z.enum(['in', 'out']),
  sender: UserSchema,
  /** Fingerprint of the key the sender was verified with (its key in the log). */
  fingerprint: z.string().max(64),
  seq: CountSchema,
  lamport: CountSchema,
  sentAt: z.string().max(40),
  receivedAt: CountSchema,
  text: z.string().max(16_000),
  /** in: how it came (a live link or the mailbox); out: how many members got or will get it. */
  via: z.enum(['direct', 'mailbox', 'sent']),
  /** out only: members it reached live, was stored for, or failed for. */
  delivered: z.array(UserSchema).max(50),
  stored: z.array(UserSchema).max(50),
  failed: z.array(UserSchema).max(50),
})
export type StoredGroupMessage = z.infer<typeof StoredGroupMessageSchema>

export const groupsMigrations = [envelopeV2(StoredGroupSchema)] as const
export const groupMessagesMigrations = [envelopeV2(StoredGroupMessageSchema)] as const

export const groupsCollection: CollectionSpec<typeof StoredGroupSchema> = {
  name: 'groups',
  location: { prefix: '/kaiwa/groups' },
  version: 2,
  schema: StoredGroupSchema,
  migrations: groupsMigrations,
}

export const groupMessagesCollection: CollectionSpec<typeof StoredGroupMessageSchema> = {
  name: 'group-messages',
  location: { prefix: '/kaiwa/group-messages' },
  version: 2,
  schema: StoredGroupMessageSchema,
  migrations: groupMessagesMigrations,
}
