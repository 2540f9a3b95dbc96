/**
 * A supernode's storage for other users' offline mail. Every mail is one
 * datastore entry (key layout in mailbox-index.ts) → encoded envelope, so the
 * keys of one mailbox sort oldest first and a write only ever adds or removes
 * whole entries: a failed write (disk full) can never damage mail that was
 * stored before.
 *
 * The supernode cannot read the mail; it checks what it can (canonical form,
 * sender signature, times, size) so it does not hold junk for others. The
 * sender is the user ID the mailbox server verified (its live record carries
 * the key that signed the mail), so quotas are per sender name and per
 * recipient, never per peer id (throwaway peers cost nothing):
 * - per sender name: a rate (mails per window) and a cap on bytes held across
 *   all mailboxes;
 * - per recipient: the mailbox's capacity in slots (one slot per
 *   maxBytesPerMailbox / maxMessagesPerMailbox bytes, at least one per mail),
 *   shared between sender names by max-min fairness (fair-share.ts): when it
 *   is full, a new mail evicts the newest mail of the largest holder, never
 *   a sender's last small mail; the whole store's byte cap is shared the same
 *   way between sender names.
 *
 * Counts and sizes are kept in memory (MailboxIndex, rebuilt by scanning the
 * prefix on first use) so quota checks do not read the disk. Mutations run one
 * at a time, so two concurrent puts cannot both squeeze under the same quota.
 */
import { quarantineEntry } from '../store/quarantine.js'
import { claimSchemaVersion } from '../store/schema-version.js'
import type { Datastore } from 'interface-datastore'
import { equals, toString } from 'uint8arrays'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { isValidUserId } from '../../shared/user-id.js'
import {
  InvalidMailError,
  MAX_MAIL_BYTES,
  MailSignatureError,
  MailTooLargeError,
  decodeMail,
  encodeMail,
  verifyMailSignature,
} from '../../shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../shared/mail/sealed-mail.js'
import { MailboxFullError, MailRateLimitedError } from './mailbox-errors.js'
import { MailboxIndex, mailKey } from './mailbox-index.js'
import type { MailEntry, RoomLimits } from './mailbox-index.js'
import { RateCounter } from './rate-counter.js'

export { MailboxFullError, MailRateLimitedError } from './mailbox-errors.js'
export { RateCounter } from './rate-counter.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

export interface MailboxStoreOptions {
  /** A recipient's mailbox capacity in slots: most mails kept for one recipient. @default 200 */
  maxMessagesPerMailbox?: number
  /** Most encoded bytes kept for one recipient. @default 2 MiB */
  maxBytesPerMailbox?: number
  /** Most encoded bytes kept for all recipients together. @default 256 MiB */
  maxTotalBytes?: number
  /** Most encoded bytes one sender name may have stored here, over all mailboxes. @default 8 MiB */
  maxBytesPerSender?: number
  /** Mail older than this (by createdAt) is refused, never returned and purged. @default 7 days */
  ttlMs?: number
  /** How far in the future createdAt may be (sender clock skew). @default 5 minutes */
  maxClockSkewMs?: number
  /** Mails accepted per sender name per window. @default 30 */
  ratePerWindow?: number
  /** @default 1 minute */
  rateWindowMs?: number
  /** How often purgeExpired runs while started. @default 10 minutes */
  purgeIntervalMs?: number
  log?: Logger
}

export interface MailboxStats {
  mailboxes: number
  messages: number
  bytes: number
}

export type PutResult = 'stored' | 'duplicate'

const hex = (b: Uint8Array): string => toString(b, 'base16')

/** The mailbox's entry format (mailbox-wire.ts); raise it with a migration. */
const MAILBOX_COLLECTION = 'mailbox'
const MAILBOX_VERSION = 1

export class MailboxStore {
  private readonly limits: RoomLimits
  private readonly maxSenderBytes: number
  private readonly ttlMs: number
  private readonly maxSkewMs: number
  private readonly purgeIntervalMs: number
  private readonly bySender: RateCounter
  private readonly log: Logger | undefined
  /** Null until loaded (or after a failed write). */
  private index: MailboxIndex | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly datastore: Datastore,
    opts: MailboxStoreOptions = {},
  ) {
    const slots = opts.maxMessagesPerMailbox ?? 200
    const boxBytes = opts.maxBytesPerMailbox ?? 2 * 1024 * 1024
    this.limits = {
      slotsPerMailbox: slots,
      // Slots × slotBytes ≤ boxBytes, so the slot count bounds both the
      // mailbox's messages and its bytes.
      slotBytes: Math.max(1, Math.floor(boxBytes / slots)),
      maxTotalBytes: opts.maxTotalBytes ?? 256 * 1024 * 1024,
    }
    this.maxSenderBytes = opts.maxBytesPerSender ?? 8 * 1024 * 1024
    this.ttlMs = opts.ttlMs ?? 7 * DAY
    this.maxSkewMs = opts.maxClockSkewMs ?? 5 * MINUTE
    this.purgeIntervalMs = opts.purgeIntervalMs ?? 10 * MINUTE
    this.bySender = new RateCounter(opts.ratePerWindow ?? 30, opts.rateWindowMs ?? MINUTE)
    this.log = opts.log
  }

  /** Loads the index and purges expired mail on a timer until stop(). */
  async start(): Promise<void> {
    await this.exclusive(async () => {})
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      this.purgeExpired(Date.now()).catch((err: unknown) => {
        this.log?.warn(`mailbox purge failed: ${String(err)}`)
      })
    }, this.purgeIntervalMs)
    // The purge timer alone must not keep the process alive.
    this.timer.unref?.()
  }

  /** What is held for others now (the operator's "mailbox size"); zeros before start(). */
  usage(): { messages: number; bytes: number } {
    return { messages: this.index?.messages() ?? 0, bytes: this.index?.totalBytes ?? 0 }
  }

  /**
   * The operator's storage cap. Lowering it below what is held keeps the
   * stored mail (nothing is lost) and refuses new mail until it drains.
   */
  setMaxTotalBytes(bytes: number): void {
    this.limits.maxTotalBytes = bytes
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * Validate and store mail for its recipient on behalf of `sender`, the user
   * ID whose verified key signed it (the mailbox server checks that before it
   * calls this; this node's own outgoing mail is stored under its own name).
   * Idempotent: the same envelope again is 'duplicate'. May evict other
   * senders' mail under the fair-share rule. Throws InvalidMailError (incl.
   * MailTooLargeError), MailSignatureError, MailRateLimitedError or
   * MailboxFullError; datastore errors propagate and leave earlier mail intact.
   */
  async put(mail: MailEnvelope | Uint8Array, sender: string, now = Date.now()): Promise<PutResult> {
    if (!isValidUserId(sender)) {
      throw new InvalidMailError('invalid mail: the sender is not a valid user ID')
    }
    // Counted before any work, so junk costs the sender its rate too.
    if (!this.bySender.hit(sender, now)) {
      throw new MailRateLimitedError('too much mail from this sender; try again later')
    }
    if (mail instanceof Uint8Array && mail.length > MAX_MAIL_BYTES) {
      throw new MailTooLargeError(mail.length)
    }
    // Decoding the re-encoded form gives the canonical bytes we store verbatim.
    const env = decodeMail(mail instanceof Uint8Array ? mail : encodeMail(mail))
    const bytes = encodeMail(env)
    if (env.createdAt > now + this.maxSkewMs) {
      throw new InvalidMailError('invalid mail: createdAt is in the future')
    }
    if (env.createdAt + this.ttlMs <= now) {
      throw new InvalidMailError('invalid mail: already expired')
    }
    if (!(await verifyMailSignature(env))) throw new MailSignatureError()
    return this.exclusive(async (index) => {
      const rcpt = hex(env.recipientKey)
      const id = hex(env.id)
      const existing = index.boxes.get(rcpt)?.get(id)
      if (existing !== undefined) {
        const stored = await this.datastore.get(existing.key)
        if (equals(stored, bytes)) return 'duplicate'
        throw new InvalidMailError('invalid mail: another mail with this id is already stored')
      }
      if (index.bytesOf(sender) + bytes.length > this.maxSenderBytes) {
        throw new MailboxFullError('this sender has too much mail stored on this supernode')
      }
      const victims = index.planRoom(rcpt, sender, bytes.length, this.limits)
      const key = mailKey(rcpt, env.createdAt, id, sender)
      if (victims.length === 0) {
        await this.datastore.put(key, bytes)
      } else {
        // One batch: the new mail and the evictions land together or not at all.
        const batch = this.datastore.batch()
        for (const e of victims) batch.delete(e.key)
        batch.put(key, bytes)
        await batch.commit()
        index.forget(victims)
        this.log?.debug(`evicted ${victims.length} mails to make room for mail from ${sender}`)
      }
      // Only a successful write reaches the index.
      index.add({
        rcpt,
        id,
        key,
        createdAt: env.createdAt,
        bytes: bytes.length,
        sender,
        arrived: now,
      })
      return 'stored'
    })
  }

  /**
   * Unexpired mail for `recipientKey`, oldest first, at most `limit`, only
   * that after `after` (a page cursor) when given. Entries that no longer
   * decode (disk corruption) are quarantined with their bytes and reported
   * (`kaiwa status`), never silently skipped.
   */
  async list(
    recipientKey: Uint8Array,
    now = Date.now(),
    limit = Infinity,
    after?: { createdAt: number; id: Uint8Array },
  ): Promise<MailEnvelope[]> {
    const rcpt = hex(recipientKey)
    const later = (e: MailEntry): boolean =>
      after == null ||
      e.createdAt > after.createdAt ||
      (e.createdAt === after.createdAt && e.id > hex(after.id))
    return this.exclusive(async (index) => {
      const live = [...(index.boxes.get(rcpt)?.values() ?? [])]
        .filter((e) => e.createdAt + this.ttlMs > now && later(e))
        .sort((a, b) => (a.key.toString() < b.key.toString() ? -1 : 1))
      const out: MailEnvelope[] = []
      const unreadable: MailEntry[] = []
      for (const e of live) {
        if (out.length >= limit) break
        const raw = await this.datastore.get(e.key)
        try {
          const env = decodeMail(raw)
          if (hex(env.recipientKey) === rcpt && hex(env.id) === e.id) out.push(env)
        } catch (err) {
          await quarantineEntry(this.datastore, {
            collection: MAILBOX_COLLECTION,
            key: e.key,
            raw,
            reason: `unreadable mail: ${String(err)}`,
            log: this.log,
          })
          unreadable.push(e)
        }
      }
      index.forget(unreadable)
      return out
    })
  }

  /** Delete the recipient's mails with these ids; returns how many existed. */
  async delete(recipientKey: Uint8Array, ids: Uint8Array[]): Promise<number> {
    return this.exclusive(async (index) => {
      const box = index.boxes.get(hex(recipientKey))
      if (box === undefined) return 0
      const entries = [...new Set(ids.map(hex))].flatMap((id) => box.get(id) ?? [])
      await this.remove(index, entries)
      return entries.length
    })
  }

  /** Delete every mail whose TTL has passed at `now`; returns how many. */
  async purgeExpired(now = Date.now()): Promise<number> {
    this.bySender.prune(now)
    return this.exclusive(async (index) => {
      const expired: MailEntry[] = []
      for (const box of index.boxes.values()) {
        for (const e of box.values()) if (e.createdAt + this.ttlMs <= now) expired.push(e)
      }
      await this.remove(index, expired)
      if (expired.length > 0) this.log?.debug(`purged ${expired.length} expired mails`)
      return expired.length
    })
  }

  async stats(): Promise<MailboxStats> {
    return this.exclusive(async (index) => ({
      mailboxes: index.boxes.size,
      messages: index.messages(),
      bytes: index.totalBytes,
    }))
  }

  private async remove(index: MailboxIndex, entries: MailEntry[]): Promise<void> {
    if (entries.length === 0) return
    const batch = this.datastore.batch()
    for (const e of entries) batch.delete(e.key)
    await batch.commit()
    index.forget(entries)
  }

  /**
   * Runs `fn` after every earlier mutation, with a loaded index. If the
   * datastore fails the index is dropped and rebuilt from the datastore next
   * time, so the counts never drift from what is really stored.
   */
  private exclusive<T>(fn: (index: MailboxIndex) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.index == null) {
        // Versioned like every stored collection (docs/storage.md): a newer
        // build's mailbox is refused untouched rather than misread.
        await claimSchemaVersion(this.datastore, MAILBOX_COLLECTION, MAILBOX_VERSION)
        this.index = await MailboxIndex.load(this.datastore)
      }
      const index = this.index
      try {
        return await fn(index)
      } catch (err) {
        // Our own refusals (quota, duplicate id) change nothing; only a storage
        // failure may have left the index out of step with the disk. Rebuilding
        // on every refusal would let a sender force full rescans.
        if (!(err instanceof KaiwaError)) this.index = null
        throw err
      }
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => {})
    return result
  }
}
