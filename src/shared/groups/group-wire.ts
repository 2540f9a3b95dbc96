/**
 * What a group's members send each other (issue 15 §2): the body of a SIP
 * MESSAGE (RFC 3428) whose Content-Type is GROUP_CONTENT_TYPE, sent by the
 * sender's node to every member, one request per member. The request carries
 * the sender's RFC 8224 Identity token like any MESSAGE, so the receiving
 * node knows who sent it before it reads the body; when a member is offline
 * the router seals the same body to that member's key into the mailbox.
 *
 *   {"kaiwaGroup":1,"type":"message","group":ID,"id":HEX32,"seq":N,
 *    "lamport":N,"sentAt":ISO,"text":"…","version":N}
 *   {"kaiwaGroup":1,"type":"log","group":ID,"entries":[base64 entry, …]}
 *
 * `seq` counts the sender's messages in the group (1, 2, …), `lamport` is the
 * sender's Lamport clock (Lamport 1978: one more than the largest it has seen),
 * `id` is random and names the message for deduplication, `version` is the
 * length of the membership log the sender had. A `log` carries the whole
 * membership log (group-log.ts), which members merge (group-state.ts).
 */
import { z } from 'zod'
import { KaiwaError } from '../errors.js'
import { GROUP_ID_RE } from './group-log.js'

export const GROUP_CONTENT_TYPE = 'application/vnd.kaiwa.group+json'
/** Longest group message text, as for one-to-one messages (contract.ts `message`). */
export const MAX_GROUP_TEXT = 16_000
/** Entries a log may hold; past it the group is full of history (create a new one). */
export const MAX_LOG_ENTRIES = 128
/** Largest body (a SIP message and a sealed mail are capped at 64 KiB with headers). */
export const MAX_GROUP_BODY_BYTES = 48 * 1024

/** A body that is not a well-formed group message or log. */
export class InvalidGroupWireError extends KaiwaError {
  constructor(message: string) {
    super(`invalid group message: ${message}`, 'invalid_input')
    this.name = 'InvalidGroupWireError'
  }
}

const GroupId = z.string().regex(GROUP_ID_RE)
const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export const GroupMessageWireSchema = z
  .object({
    kaiwaGroup: z.literal(1),
    type: z.literal('message'),
    group: GroupId,
    id: z.string().regex(/^[0-9a-f]{32}$/),
    seq: Count.min(1),
    lamport: Count.min(1),
    sentAt: z.string().datetime(),
    text: z.string().min(1).max(MAX_GROUP_TEXT),
    version: Count.min(1),
  })
  .strict()
export type GroupMessageWire = z.infer<typeof GroupMessageWireSchema>

export const GroupLogWireSchema = z
  .object({
    kaiwaGroup: z.literal(1),
    type: z.literal('log'),
    group: GroupId,
    entries: z.array(z.string().max(8192)).min(1).max(MAX_LOG_ENTRIES),
  })
  .strict()
export type GroupLogWire = z.infer<typeof GroupLogWireSchema>

export type GroupWire = GroupMessageWire | GroupLogWire

const Schema = z.discriminatedUnion('type', [GroupMessageWireSchema, GroupLogWireSchema])

/** True for a Content-Type header value naming a group body (parameters ignored). */
export function isGroupContentType(value: string | undefined | null): boolean {
  return value?.split(';')[0]?.trim().toLowerCase() === GROUP_CONTENT_TYPE
}

export function encodeGroupWire(w: GroupWire): string {
  const text = JSON.stringify(w)
  if (new TextEncoder().encode(text).length > MAX_GROUP_BODY_BYTES)
    throw new InvalidGroupWireError(`over ${MAX_GROUP_BODY_BYTES} bytes`)
  return text
}

export function decodeGroupWire(body: Uint8Array): GroupWire {
  if (body.length > MAX_GROUP_BODY_BYTES)
    throw new InvalidGroupWireError(`${body.length} bytes, over ${MAX_GROUP_BODY_BYTES}`)
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw new InvalidGroupWireError('not UTF-8 JSON')
  }
  const parsed = Schema.safeParse(value)
  if (!parsed.success)
    throw new InvalidGroupWireError(parsed.error.issues[0]?.message ?? 'bad shape')
  return parsed.data
}

/**
 * The display order of a group's messages, the same on every member: by
 * Lamport time, then sender, then the sender's sequence number (a causal
 * order wherever one message was sent after another was seen). As a string
 * (what the store sorts keys by), the space sorts below every character a
 * user ID may hold, so the key order is `compareGroupOrder`'s.
 */
export function orderKey(m: { lamport: number; sender: string; seq: number }): string {
  return `${String(m.lamport).padStart(15, '0')} ${m.sender} ${String(m.seq).padStart(15, '0')}`
}

type Ordered = { lamport: number; sender: string; seq: number }

/** `orderKey`'s order, for callers holding messages rather than keys (the UI). */
export function compareGroupOrder(a: Ordered, b: Ordered): number {
  return (
    a.lamport - b.lamport ||
    (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0) ||
    a.seq - b.seq
  )
}
