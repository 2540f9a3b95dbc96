/**
 * Who may store mail on a supernode: only a sender with a live claimed user ID
 * whose verified record carries the very key that signed the mail. The store
 * request names the sender's user ID; the envelope's senderKey and signature
 * are checked first (cheap, local), then the name's key is looked up through
 * the injected `senderKey` callback (the DHT user directory) and compared.
 *
 * This is what makes the mailbox's quotas and fair shares per sender name
 * meaningful (mailbox-store.ts): a throwaway peer id or key costs nothing, but
 * every sender name needs a live claim in the overlay, and nobody can spend
 * another name's share without its account key.
 */
import type { AbortOptions } from '@libp2p/interface'
import { equals } from 'uint8arrays'
import { decodeMail, verifyMailSignature } from '../../shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../shared/mail/sealed-mail.js'

/**
 * The account key of `name`'s live, verified contact record, or null when the
 * name has no live claim. Throwing means "could not find out now" (timeout).
 */
export type SenderKeyLookup = (name: string, options: AbortOptions) => Promise<Uint8Array | null>

export type SenderRefusal =
  /** The envelope does not decode (schema, canonical form, size). */
  | 'invalid_mail'
  /** The envelope's signature does not verify under its senderKey. */
  | 'bad_signature'
  /** The named sender has no live claim in the overlay. */
  | 'unknown_sender'
  /** The named sender's verified key is not the key that signed the mail. */
  | 'sender_key_mismatch'
  /** The sender's record could not be looked up now; try again later. */
  | 'sender_unverified'

export type SenderAdmission = { ok: true; env: MailEnvelope } | { ok: false; reason: SenderRefusal }

/** Checks `envelope` (wire bytes) against the record of `from`. Never throws. */
export async function admitSender(
  envelope: Uint8Array,
  from: string,
  senderKey: SenderKeyLookup,
  options: AbortOptions = {},
): Promise<SenderAdmission> {
  let env: MailEnvelope
  try {
    env = decodeMail(envelope)
  } catch {
    return { ok: false, reason: 'invalid_mail' }
  }
  // Before any network lookup, so forged mail costs the supernode no query.
  if (!(await verifyMailSignature(env))) return { ok: false, reason: 'bad_signature' }
  let key: Uint8Array | null
  try {
    key = await senderKey(from, options)
  } catch {
    return { ok: false, reason: 'sender_unverified' }
  }
  if (key === null) return { ok: false, reason: 'unknown_sender' }
  if (!(key instanceof Uint8Array) || !equals(key, env.senderKey)) {
    return { ok: false, reason: 'sender_key_mismatch' }
  }
  return { ok: true, env }
}
