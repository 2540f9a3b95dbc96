/**
 * Group chat in the control API (issue 15 §2): the groups this node is in,
 * their messages, and the changes a member or an admin makes. A `group`
 * input is a group ID, or a group's name when exactly one group has it.
 */
import { z } from 'zod'

const UserId = z.string().min(1).max(64)
const GroupRef = z.string().min(1).max(64)

export const GroupJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  creator: z.string(),
  /** Members' user IDs, sorted. */
  members: z.array(z.string()),
  /** Admins, most senior (the creator) first. */
  admins: z.array(z.string()),
  /** Entries in the signed membership log. */
  version: z.number().int(),
  /** False once this node's user left or was removed (the history stays). */
  member: z.boolean(),
  unread: z.number().int(),
  lastMessageAt: z.string().nullable(),
})
export type GroupJson = z.infer<typeof GroupJsonSchema>

export const GroupMessageJsonSchema = z.object({
  id: z.string(),
  group: z.string(),
  direction: z.enum(['in', 'out']),
  sender: z.string(),
  /** Fingerprint of the key the sender is a member with. */
  fingerprint: z.string(),
  /** The sender's sequence number in the group, and its Lamport time. */
  seq: z.number().int(),
  lamport: z.number().int(),
  sentAt: z.string(),
  text: z.string(),
  /** in: `direct` (a live link) or `mailbox`; out: `sent`. */
  via: z.enum(['direct', 'mailbox', 'sent']),
  /** out only: members it reached, that will get it from the mailbox, and that it failed for. */
  delivered: z.array(z.string()).optional(),
  stored: z.array(z.string()).optional(),
  failed: z.array(z.string()).optional(),
})
export type GroupMessageJson = z.infer<typeof GroupMessageJsonSchema>

export const GroupSendResultSchema = z.object({
  message: GroupMessageJsonSchema,
  delivered: z.array(z.string()),
  stored: z.array(z.string()),
  failed: z.array(z.object({ member: z.string(), reason: z.string() })),
})

const OneGroup = z.object({ group: GroupJsonSchema })

export const groupApiContract = {
  /** Create a group; this node's user is its creator and first admin. */
  groupCreate: {
    input: z
      .object({ name: z.string().min(1).max(64), members: z.array(UserId).min(1).max(49) })
      .strict(),
    output: OneGroup,
  },
  /** Every group this node is or was in. */
  groups: {
    input: z.object({}).strict(),
    output: z.object({ groups: z.array(GroupJsonSchema) }),
  },
  /** Send to every other member (live, or sealed into the mailbox of those offline). */
  groupSend: {
    input: z.object({ group: GroupRef, text: z.string().min(1).max(16_000) }).strict(),
    output: GroupSendResultSchema,
  },
  /** A group's messages in display order (the newest `limit`). */
  groupMessages: {
    input: z
      .object({ group: GroupRef, limit: z.number().int().positive().max(10_000).optional() })
      .strict(),
    output: z.object({ messages: z.array(GroupMessageJsonSchema) }),
  },
  groupAdd: {
    input: z.object({ group: GroupRef, members: z.array(UserId).min(1).max(49) }).strict(),
    output: OneGroup,
  },
  groupRemove: { input: z.object({ group: GroupRef, member: UserId }).strict(), output: OneGroup },
  /** Make a member an admin (admins only). */
  groupAdmin: { input: z.object({ group: GroupRef, member: UserId }).strict(), output: OneGroup },
  groupLeave: { input: z.object({ group: GroupRef }).strict(), output: OneGroup },
  groupRename: {
    input: z.object({ group: GroupRef, name: z.string().min(1).max(64) }).strict(),
    output: OneGroup,
  },
  /** Everything received in the group up to now counts as read. */
  groupMarkRead: { input: z.object({ group: GroupRef }).strict(), output: z.object({}) },
} as const
