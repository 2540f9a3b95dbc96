/**
 * Stored forms of what the local SIP gateway keeps across restarts, by version.
 *
 * - `sip-nonce-key` (one key, `/kaiwa/sip/nonce-key`): the HMAC key of the
 *   gateway's digest nonces (digest-auth.ts), so a nonce issued before a
 *   restart is recognised and answered `stale=true` (RFC 7616 §3.3).
 * - `phone-bindings` (`/kaiwa/sip/bindings/<contact>`): UDP registrations of
 *   phones (RFC 3261 §10.3), restored at start until they expire.
 * - `phone-mail` (`/kaiwa/sip/phone-mail/<id>`): offline mail waiting to be
 *   handed to registered phones, with the contacts that already took it.
 *
 * None of them existed before versioned storage: v1 would be the bare JSON of
 * the same value (stored-entry.ts), v2 is the first form any build writes, in
 * the versioned envelope. The bounds are spelled out here, not borrowed from
 * the router, so changing the code cannot silently change what is on disk.
 */
import { z } from 'zod'
import type { CollectionSpec } from '../versioned-collection.js'
import { envelopeV2 } from './envelope-v2.js'

/**
 * A collection first written at v2: its v1 is the bare JSON of the same value,
 * so the one migration is the envelope (envelope-v2.ts).
 */
function bornAtV2<S extends z.ZodType>(
  name: string,
  location: CollectionSpec['location'],
  schema: S,
): CollectionSpec<S> {
  return { name, location, version: 2, schema, migrations: [envelopeV2(schema)] }
}

export const StoredNonceKeySchema = z.object({
  /** 32 random bytes, base64url. */
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
})
export type StoredNonceKey = z.infer<typeof StoredNonceKeySchema>

export const sipNonceKeyCollection = bornAtV2(
  'sip-nonce-key',
  { key: '/kaiwa/sip/nonce-key' },
  StoredNonceKeySchema,
)

const ContactUriSchema = z.string().min(5).max(1024).regex(/^sip:/i)

export const StoredPhoneBindingSchema = z.object({
  /** The Contact URI as registered. */
  contact: ContactUriSchema,
  /** Milliseconds since the epoch. */
  expiresAt: z.number().int().positive(),
  /** Only UDP bindings are kept: a TCP binding dies with its connection (flow-bindings.ts). */
  transport: z.literal('UDP'),
})
export type StoredPhoneBinding = z.infer<typeof StoredPhoneBindingSchema>

export const phoneBindingsCollection = bornAtV2(
  'phone-bindings',
  { prefix: '/kaiwa/sip/bindings' },
  StoredPhoneBindingSchema,
)

export const StoredPhoneMailSchema = z.object({
  /** The mailbox's message id (also the Call-ID's left part, so a phone can dedupe). */
  id: z.string().min(1).max(200),
  fromUri: z.string().min(1).max(1024),
  /** The original Date header (RFC 3428 §7). */
  date: z.string().max(200),
  contentType: z.string().min(1).max(200),
  /** The body, base64. */
  body: z.string().max(2 * 1024 * 1024),
  /** The verification state header value the node set (X-Kaiwa-Identity). */
  identity: z.string().max(400),
  /** When this node collected it (ms since the epoch): retention runs from here. */
  receivedAt: z.number().int().nonnegative(),
  /** Normalized contact URIs of phones that answered 2xx. */
  deliveredTo: z.array(z.string().max(1024)).max(64),
  /**
   * Phones still owed it: those registered when it arrived, and those that
   * answered an error or nothing (they get it at their next registration).
   */
  owedTo: z.array(z.string().max(1024)).max(64),
})
export type StoredPhoneMail = z.infer<typeof StoredPhoneMailSchema>

export const phoneMailCollection = bornAtV2(
  'phone-mail',
  { prefix: '/kaiwa/sip/phone-mail' },
  StoredPhoneMailSchema,
)
