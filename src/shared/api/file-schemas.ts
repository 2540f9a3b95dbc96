/**
 * File transfer in the control API contract (contract.ts re-exports it): a
 * transfer in either direction with its progress, and a received file as
 * `kaiwa files` prints it.
 */
import { z } from 'zod'

export const FileTransferStatusSchema = z.enum([
  // sending
  'preparing',
  'offering',
  'awaiting',
  'sending',
  'queued',
  'mailed',
  // receiving
  'offered',
  'receiving',
  'interrupted',
  // both
  'paused',
  'complete',
  'declined',
  'failed',
  'cancelled',
])

export const FileTransferJsonSchema = z.object({
  /** The offer's id (32 hex digits), the same on both sides. */
  id: z.string(),
  direction: z.enum(['in', 'out']),
  /** The other user. */
  peer: z.string(),
  name: z.string(),
  mime: z.string(),
  size: z.number().int().nonnegative(),
  /** SHA-256 of the whole file, hex. */
  sha256: z.string(),
  status: FileTransferStatusSchema,
  /** Why it waits, stopped or failed, for people. */
  note: z.string().nullable(),
  /** Bytes the receiver has verified. */
  bytesDone: z.number().int().nonnegative(),
  /** Bytes per second over the last seconds; 0 when not moving. */
  rate: z.number().nonnegative(),
  secondsLeft: z.number().int().nonnegative().nullable(),
  /** Sending: the file sent; receiving: the received file once verified. */
  path: z.string().nullable(),
  createdAt: z.string(),
  /** Receiving: the sender's key against the pinned one when offered. */
  verification: z.enum(['verified', 'new']).optional(),
  via: z.enum(['direct', 'mailbox']).optional(),
  /** Sending, this run: bytes the receiver already had when the last session began. */
  resumedFrom: z.number().int().nonnegative().optional(),
  /** Sending, this run: bytes put on the wire in the last session. */
  sessionBytes: z.number().int().nonnegative().optional(),
})
export type FileTransferJson = z.infer<typeof FileTransferJsonSchema>

/** A received file whose whole SHA-256 matched (what `kaiwa files` prints). */
export const ReceivedFileJsonSchema = z.object({
  id: z.string(),
  sender: z.string(),
  name: z.string(),
  size: z.number().int().nonnegative(),
  mime: z.string(),
  sha256: z.string(),
  path: z.string(),
  time: z.string(),
  via: z.enum(['direct', 'mailbox']),
})
export type ReceivedFileJson = z.infer<typeof ReceivedFileJsonSchema>

/** A transfer's id: its offer's id, 32 lowercase hex digits. */
export const FileIdSchema = z.string().regex(/^[0-9a-f]{32}$/)
const IdInput = z.object({ id: FileIdSchema }).strict()
const One = z.object({ transfer: FileTransferJsonSchema })

export const fileApiContract = {
  /** Offer a file on this machine to a user; it is sent directly, mailed or queued. */
  sendFile: {
    input: z.object({ to: z.string().min(1).max(64), path: z.string().min(1).max(4096) }).strict(),
    output: One,
  },
  /** Every transfer in both directions, oldest first. */
  transfers: {
    input: z.object({}).strict(),
    output: z.object({ transfers: z.array(FileTransferJsonSchema) }),
  },
  /** Received files (whole hash verified), oldest first. */
  files: {
    input: z.object({}).strict(),
    output: z.object({ files: z.array(ReceivedFileJsonSchema) }),
  },
  /** Accept an offered file, or resume one paused here (receiving). */
  fileAccept: { input: IdInput, output: One },
  fileDecline: { input: IdInput, output: One },
  filePause: { input: IdInput, output: One },
  /** Resume a paused transfer (sending) or a paused one (receiving). */
  fileResume: { input: IdInput, output: One },
  fileCancel: { input: IdInput, output: One },
} as const
