/**
 * The wire form of `/kaiwa/mailbox/1.0.0` (see mailbox-protocol.ts): limits,
 * request and response shapes, error codes, and the bytes a recipient signs
 * to fetch or delete. Shared by the server and the client.
 */
import { ALLOWED_SKEW_MS } from '../../shared/clock/clock-limits.js'
import { encode } from 'cborg'
import { concat, toString } from 'uint8arrays'
import { KaiwaError } from '../../shared/errors.js'
import { isValidUserId } from '../../shared/user-id.js'
import type { PutResult } from './mailbox-store.js'
import type { SenderRefusal } from './sender-admission.js'
import type { CborMap } from '../rpc/cbor-rpc.js'

export const MAILBOX_PROTOCOL = '/kaiwa/mailbox/1.0.0'
/** Largest request or response frame. One mail is at most 64 KiB, so one always fits. */
export const MAX_MESSAGE_BYTES = 128 * 1024
/**
 * Most envelopes in one fetch response; while `more`, the client fetches the
 * next page after the last envelope it got (`after`, a cursor: collecting
 * deletes nothing, so mail another device of the account still needs stays).
 */
export const MAX_FETCH_COUNT = 100
/** Most ids in one delete request. */
export const MAX_DELETE_IDS = 200
export const STREAM_TIMEOUT_MS = 10_000
/** Allowed difference between a signed request's `now` and the server's clock. */
export const MAX_REQUEST_SKEW_MS = ALLOWED_SKEW_MS
/** Longest the server waits for a sender's record before answering 'sender_unverified'. */
export const SENDER_LOOKUP_TIMEOUT_MS = 6_000
/** Room left in a fetch response for the CBOR framing around the envelopes. */
export const RESPONSE_SLACK = 1024

const enc = new TextEncoder()
const FETCH_DOMAIN = enc.encode('kaiwa-mail-fetch\n')
const DELETE_DOMAIN = enc.encode('kaiwa-mail-delete\n')

export type MailboxErrorCode =
  | 'bad_request'
  | 'not_serving'
  | SenderRefusal
  | 'mailbox_full'
  | 'rate_limited'
  | 'unauthorized'
  /** A fetch or delete whose signed bytes were already used. */
  | 'replayed'
  | 'internal'

export type MailboxRequest =
  /** `from`: the sender's user ID, whose verified key must have signed `envelope`. */
  | { t: 'store'; envelope: Uint8Array; from: string }
  /** `after` (MAIL_CURSOR_BYTES): only mail later than that one; absent: from the oldest. */
  | { t: 'fetch'; recipientKey: Uint8Array; now: number; sig: Uint8Array; after?: Uint8Array }
  | { t: 'delete'; recipientKey: Uint8Array; ids: Uint8Array[]; now: number; sig: Uint8Array }

export type MailboxResponse =
  | { ok: true; result: PutResult }
  | { envelopes: Uint8Array[]; more: boolean }
  | { deleted: number }
  | { error: MailboxErrorCode }

/** The supernode refused a request; `reason` is its error code. */
export class MailboxRequestError extends KaiwaError {
  readonly reason: MailboxErrorCode
  constructor(reason: MailboxErrorCode) {
    super(`the supernode refused the mailbox request: ${reason}`, 'invalid_input')
    this.name = 'MailboxRequestError'
    this.reason = reason
  }
}

/**
 * The supernode runs a Kaiwa from before paged fetches (it refuses `after`):
 * past the first page, its mail could only be reached by deleting the pages
 * before, which would lose mail another device of the account still needs.
 */
export class MailboxPagingUnsupportedError extends KaiwaError {
  constructor(peer: string) {
    super(
      `supernode ${peer} runs an older Kaiwa without paged mailbox fetches: only its first page is collected now, the rest after that page is acknowledged`,
      'unavailable',
    )
    this.name = 'MailboxPagingUnsupportedError'
  }
}

/** The supernode's reply was not a valid mailbox response. */
export class MailboxProtocolError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'internal', options)
    this.name = 'MailboxProtocolError'
  }
}

/** DHT key whose closest peers hold the recipient's mailbox (for dht.getClosestPeers). */
export function mailboxKey(recipientKey: Uint8Array): Uint8Array {
  return enc.encode(`/kaiwa-mbox/${toString(recipientKey, 'base16')}`)
}

/** What the recipient signs to fetch: domain ‖ CBOR{recipientKey, now, peer} (and `after`, if paging). */
export function fetchSignedBytes(
  recipientKey: Uint8Array,
  now: number,
  peer: string,
  after?: Uint8Array,
): Uint8Array {
  const fields = after == null ? { recipientKey, now, peer } : { recipientKey, now, peer, after }
  return concat([FETCH_DOMAIN, encode(fields)])
}

/** A page cursor: the mail's createdAt (8 bytes, big-endian) then its id (16 bytes). */
export const MAIL_CURSOR_BYTES = 24

/** Where a mail sits in its mailbox (oldest first, then by id): the cursor after it. */
export interface MailPosition {
  createdAt: number
  id: Uint8Array
}

export function encodeMailCursor(p: MailPosition): Uint8Array {
  const out = new Uint8Array(MAIL_CURSOR_BYTES)
  new DataView(out.buffer).setBigUint64(0, BigInt(p.createdAt))
  out.set(p.id.subarray(0, 16), 8)
  return out
}

export function decodeMailCursor(b: Uint8Array): MailPosition {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return { createdAt: Number(view.getBigUint64(0)), id: b.slice(8, MAIL_CURSOR_BYTES) }
}

/** What the recipient signs to delete: domain ‖ CBOR{recipientKey, now, peer, ids}. */
export function deleteSignedBytes(
  recipientKey: Uint8Array,
  now: number,
  peer: string,
  ids: Uint8Array[],
): Uint8Array {
  return concat([DELETE_DOMAIN, encode({ recipientKey, now, peer, ids })])
}

const isBytes = (x: unknown, len?: number): x is Uint8Array =>
  x instanceof Uint8Array && (len === undefined || x.length === len)
const isTime = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** Strict request check of a decoded CBOR map; anything unexpected is a bad request. */
export function parseMailboxRequest(r: CborMap): MailboxRequest | null {
  const keys = Object.keys(r).sort().join(',')
  if (
    r.t === 'store' &&
    keys === 'envelope,from,t' &&
    isBytes(r.envelope) &&
    isValidUserId(r.from)
  ) {
    return r as MailboxRequest
  }
  const signed = isBytes(r.recipientKey, 32) && isTime(r.now) && isBytes(r.sig, 64)
  if (r.t === 'fetch' && keys === 'now,recipientKey,sig,t' && signed) return r as MailboxRequest
  if (
    r.t === 'fetch' &&
    keys === 'after,now,recipientKey,sig,t' &&
    signed &&
    isBytes(r.after, MAIL_CURSOR_BYTES) &&
    Number.isSafeInteger(decodeMailCursor(r.after).createdAt)
  )
    return r as MailboxRequest
  if (
    r.t === 'delete' &&
    keys === 'ids,now,recipientKey,sig,t' &&
    signed &&
    Array.isArray(r.ids) &&
    r.ids.length <= MAX_DELETE_IDS &&
    r.ids.every((id) => isBytes(id, 16))
  ) {
    return r as MailboxRequest
  }
  return null
}
