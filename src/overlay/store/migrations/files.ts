/**
 * Stored forms of file transfers (src/overlay/files/), by version.
 *
 * - `file-transfers-out` (`/kaiwa/files/out/<id hex>`): files this node offers,
 *   with the signed offer, so a restart offers the very same transfer again
 *   and the receiver resumes it.
 * - `file-transfers-in` (`/kaiwa/files/in/<id hex>`): files offered to this
 *   node, with the chunks verified so far (a bitmap) and the partial file's
 *   path, so a dropped connection or a restart resumes from the last verified
 *   chunk; received files keep their final path (what `kaiwa files` lists).
 *
 * Neither existed before versioned storage: both are born at v2, whose one
 * migration is the envelope (envelope-v2.ts). The bounds are spelled out here,
 * not borrowed from the protocol, so changing the code cannot silently change
 * what is on disk.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

const IdSchema = z.string().regex(/^[0-9a-f]{32}$/)
const UserSchema = z.string().min(3).max(32)
/** base64 of a signed offer (at most 32 Ki chunk hashes and a header). */
const OfferSchema = z.string().min(1).max(1_500_000)
const TimeSchema = z.number().int().nonnegative()

export const OUTGOING_STATES = [
  'preparing',
  'offering',
  'awaiting',
  'sending',
  'queued',
  'paused',
  'complete',
  'mailed',
  'declined',
  'failed',
  'cancelled',
] as const

export const StoredOutgoingFileSchema = z.object({
  id: IdSchema,
  to: UserSchema,
  /** The file on this machine, read again for every chunk sent. */
  path: z.string().min(1).max(4096),
  offer: OfferSchema,
  status: z.enum(OUTGOING_STATES),
  /** Chunks the receiver acknowledged as verified. */
  ackedChunks: z.number().int().nonnegative(),
  /** Why it waits or failed, for people. */
  note: z.string().max(1000).nullable(),
  createdAt: TimeSchema,
  updatedAt: TimeSchema,
})
export type StoredOutgoingFile = z.infer<typeof StoredOutgoingFileSchema>

export const INCOMING_STATES = [
  'offered',
  'receiving',
  'interrupted',
  'paused',
  'complete',
  'declined',
  'failed',
  'cancelled',
] as const

export const StoredIncomingFileSchema = z.object({
  id: IdSchema,
  from: UserSchema,
  /** The sender's device that offered it last (where "ready" is sent). */
  peer: z.string().min(1).max(128).nullable(),
  offer: OfferSchema,
  status: z.enum(INCOMING_STATES),
  /** base64 bitmap of the chunks verified and written (chunk i = bit i). */
  have: z.string().max(8192),
  /** base64 bitmap of the mailbox parts written (offline delivery), or null. */
  mailParts: z.string().max(8192).nullable(),
  /** The partial file, next to where the file will be. */
  partPath: z.string().min(1).max(4096),
  /** The received file, once its whole hash matched. */
  path: z.string().min(1).max(4096).nullable(),
  /** The sender's key against the contact book when offered. */
  verification: z.enum(['verified', 'new']),
  via: z.enum(['direct', 'mailbox']),
  note: z.string().max(1000).nullable(),
  createdAt: TimeSchema,
  receivedAt: TimeSchema.nullable(),
})
export type StoredIncomingFile = z.infer<typeof StoredIncomingFileSchema>

function bornAtV2<S extends z.ZodType>(name: string, prefix: string, schema: S): CollectionSpec<S> {
  return { name, location: { prefix }, version: 2, schema, migrations: [envelopeV2(schema)] }
}

export const outgoingFilesCollection = bornAtV2(
  'file-transfers-out',
  '/kaiwa/files/out',
  StoredOutgoingFileSchema,
)

export const incomingFilesCollection = bornAtV2(
  'file-transfers-in',
  '/kaiwa/files/in',
  StoredIncomingFileSchema,
)
