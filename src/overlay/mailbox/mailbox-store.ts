/**
 * A supernode's storage for other users' offline mail. Every mail is one
 * datastore entry, `/kaiwa/mailbox/<recipientKeyHex>/<createdAt padded>-<idHex>`
 * → encoded envelope, so the keys of one mailbox sort oldest first and a write
 * only ever adds or removes whole entries: a failed write (disk full) can never
 * damage mail that was stored before.
 *
 * The supernode cannot read the mail; it checks what it can (canonical form,
 * sender signature, times, size) so it does not hold junk for others, and
 * limits how much any one recipient, sender or peer can make it store.
 *
 * Counts and sizes are kept in memory (rebuilt by scanning the prefix on first
 * use) so quota checks do not read the disk. Mutations run one at a time, so
 * two concurrent puts cannot both squeeze under the same quota.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { equals, toString } from 'uint8arrays'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
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

const PREFIX = '/kaiwa/mailbox'
const KEY_RE = /^\/kaiwa\/mailbox\/([0-9a-f]{64})\/(\d{16})-([0-9a-f]{32})$/
const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

/** The recipient's mailbox, or this supernode's whole mail storage, is full. */
export class MailboxFullError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'MailboxFullError'
  }
}

/** The sender key or the remote peer stored too much mail too quickly. */
export class MailRateLimitedError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'MailRateLimitedError'
  }
}

export interface MailboxStoreOptions {
  /** Most mails kept for one recipient. @default 200 */
  maxMessagesPerMailbox?: number
  /** Most encoded bytes kept for one recipient. @default 2 MiB */
  maxBytesPerMailbox?: number
  /** Most encoded bytes kept for all recipients together. @default 256 MiB */
  maxTotalBytes?: number
  /** Mail older than this (by createdAt) is refused, never returned and purged. @default 7 days */
  ttlMs?: number
  /** How far in the future createdAt may be (sender clock skew). @default 5 minutes */
  maxClockSkewMs?: number
  /** Mails accepted per sender key, and separately per remote peer, per window. @default 30 */
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

interface Entry {
  key: Key
  createdAt: number
  bytes: number
}

/** Fixed-window counters per id (peer, key); cheap, and good enough to blunt floods. */
export class RateCounter {
  private readonly windows = new Map<string, { start: number; count: number }>()
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one hit; false when `id` is over the limit in the current window. */
  hit(id: string, now: number): boolean {
    let w = this.windows.get(id)
    if (w === undefined || now - w.start >= this.windowMs || now < w.start) {
      w = { start: now, count: 0 }
      this.windows.set(id, w)
    }
    w.count++
    return w.count <= this.limit
  }

  /** Drops finished windows so the map does not grow with every peer ever seen. */
  prune(now: number): void {
    for (const [id, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(id)
  }
}

const hex = (b: Uint8Array): string => toString(b, 'base16')

export class MailboxStore {
  private readonly maxMessages: number
  private readonly maxMailboxBytes: number
  private maxTotalBytes: number
  private readonly ttlMs: number
  private readonly maxSkewMs: number
  private readonly purgeIntervalMs: number
  private readonly bySender: RateCounter
  private readonly byPeer: RateCounter
  private readonly log: Logger | undefined
  /** recipientKeyHex → idHex → entry; null until loaded (or after a failed write). */
  private index: Map<string, Map<string, Entry>> | null = null
  private totalBytes = 0
  private queue: Promise<unknown> = Promise.resolve()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly datastore: Datastore,
    opts: MailboxStoreOptions = {},
  ) {
    this.maxMessages = opts.maxMessagesPerMailbox ?? 200
    this.maxMailboxBytes = opts.maxBytesPerMailbox ?? 2 * 1024 * 1024
    this.maxTotalBytes = opts.maxTotalBytes ?? 256 * 1024 * 1024
    this.ttlMs = opts.ttlMs ?? 7 * DAY
    this.maxSkewMs = opts.maxClockSkewMs ?? 5 * MINUTE
    this.purgeIntervalMs = opts.purgeIntervalMs ?? 10 * MINUTE
    const rate = opts.ratePerWindow ?? 30
    const windowMs = opts.rateWindowMs ?? MINUTE
    this.bySender = new RateCounter(rate, windowMs)
    this.byPeer = new RateCounter(rate, windowMs)
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
    let messages = 0
    for (const box of this.index?.values() ?? []) messages += box.size
    return { messages, bytes: this.totalBytes }
  }

  /**
   * The operator's storage cap. Lowering it below what is held keeps the
   * stored mail (nothing is lost) and refuses new mail until it drains.
   */
  setMaxTotalBytes(bytes: number): void {
    this.maxTotalBytes = bytes
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * Validate and store mail for its recipient on behalf of `fromPeer` (the
   * remote peer id string). Idempotent: the same envelope again is 'duplicate'.
   * Throws InvalidMailError (incl. MailTooLargeError), MailSignatureError,
   * MailRateLimitedError or MailboxFullError; datastore errors propagate and
   * leave earlier mail intact.
   */
  async put(
    mail: MailEnvelope | Uint8Array,
    fromPeer: string,
    now = Date.now(),
  ): Promise<PutResult> {
    // Counted before any work, so junk costs the sender its rate too.
    if (!this.byPeer.hit(fromPeer, now)) {
      throw new MailRateLimitedError('too much mail from this peer; try again later')
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
    // Only counted once the signature proves the sender key, so nobody can
    // use up someone else's allowance.
    if (!this.bySender.hit(hex(env.senderKey), now)) {
      throw new MailRateLimitedError('too much mail from this sender; try again later')
    }
    return this.exclusive(async (index) => {
      const rcpt = hex(env.recipientKey)
      const id = hex(env.id)
      const box = index.get(rcpt)
      const existing = box?.get(id)
      if (existing !== undefined) {
        const stored = await this.datastore.get(existing.key)
        if (equals(stored, bytes)) return 'duplicate'
        throw new InvalidMailError('invalid mail: another mail with this id is already stored')
      }
      const boxBytes = box === undefined ? 0 : sum(box)
      if ((box?.size ?? 0) >= this.maxMessages || boxBytes + bytes.length > this.maxMailboxBytes) {
        throw new MailboxFullError("the recipient's mailbox is full")
      }
      if (this.totalBytes + bytes.length > this.maxTotalBytes) {
        throw new MailboxFullError("this supernode's mail storage is full")
      }
      const key = mailKey(rcpt, env.createdAt, id)
      await this.datastore.put(key, bytes)
      // Only a successful write reaches the index.
      const target = box ?? new Map<string, Entry>()
      target.set(id, { key, createdAt: env.createdAt, bytes: bytes.length })
      index.set(rcpt, target)
      this.totalBytes += bytes.length
      return 'stored'
    })
  }

  /**
   * Unexpired mail for `recipientKey`, oldest first, at most `limit`. Entries
   * that no longer decode (disk corruption) are skipped, not returned.
   */
  async list(
    recipientKey: Uint8Array,
    now = Date.now(),
    limit = Infinity,
  ): Promise<MailEnvelope[]> {
    const rcpt = hex(recipientKey)
    return this.exclusive(async (index) => {
      const live = [...(index.get(rcpt)?.entries() ?? [])]
        .filter(([, e]) => e.createdAt + this.ttlMs > now)
        .sort(([, a], [, b]) => (a.key.toString() < b.key.toString() ? -1 : 1))
      const out: MailEnvelope[] = []
      for (const [id, e] of live) {
        if (out.length >= limit) break
        try {
          const env = decodeMail(await this.datastore.get(e.key))
          if (hex(env.recipientKey) === rcpt && hex(env.id) === id) out.push(env)
        } catch (err) {
          this.log?.warn(`skipping unreadable mail ${e.key.toString()}: ${String(err)}`)
        }
      }
      return out
    })
  }

  /** Delete the recipient's mails with these ids; returns how many existed. */
  async delete(recipientKey: Uint8Array, ids: Uint8Array[]): Promise<number> {
    return this.exclusive(async (index) => {
      const rcpt = hex(recipientKey)
      const box = index.get(rcpt)
      if (box === undefined) return 0
      const entries = [...new Set(ids.map(hex))].flatMap((id) => {
        const e = box.get(id)
        return e === undefined ? [] : [[id, e] as const]
      })
      if (entries.length === 0) return 0
      const batch = this.datastore.batch()
      for (const [, e] of entries) batch.delete(e.key)
      await batch.commit()
      for (const [id, e] of entries) {
        box.delete(id)
        this.totalBytes -= e.bytes
      }
      if (box.size === 0) index.delete(rcpt)
      return entries.length
    })
  }

  /** Delete every mail whose TTL has passed at `now`; returns how many. */
  async purgeExpired(now = Date.now()): Promise<number> {
    this.bySender.prune(now)
    this.byPeer.prune(now)
    return this.exclusive(async (index) => {
      const expired: Array<[string, string, Entry]> = []
      for (const [rcpt, box] of index) {
        for (const [id, e] of box) if (e.createdAt + this.ttlMs <= now) expired.push([rcpt, id, e])
      }
      if (expired.length === 0) return 0
      const batch = this.datastore.batch()
      for (const [, , e] of expired) batch.delete(e.key)
      await batch.commit()
      for (const [rcpt, id, e] of expired) {
        const box = index.get(rcpt)
        box?.delete(id)
        if (box?.size === 0) index.delete(rcpt)
        this.totalBytes -= e.bytes
      }
      this.log?.debug(`purged ${expired.length} expired mails`)
      return expired.length
    })
  }

  async stats(): Promise<MailboxStats> {
    return this.exclusive(async (index) => {
      let messages = 0
      for (const box of index.values()) messages += box.size
      return { mailboxes: index.size, messages, bytes: this.totalBytes }
    })
  }

  /**
   * Runs `fn` after every earlier mutation, with a loaded index. If the
   * datastore fails the index is dropped and rebuilt from the datastore next
   * time, so the counts never drift from what is really stored.
   */
  private exclusive<T>(fn: (index: Map<string, Map<string, Entry>>) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const index = this.index ?? (await this.load())
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

  private async load(): Promise<Map<string, Map<string, Entry>>> {
    const index = new Map<string, Map<string, Entry>>()
    let total = 0
    for await (const { key, value } of this.datastore.query({ prefix: `${PREFIX}/` })) {
      const m = KEY_RE.exec(key.toString())
      if (m === null) continue
      const [, rcpt, created, id] = m as unknown as [string, string, string, string]
      const box = index.get(rcpt) ?? new Map<string, Entry>()
      box.set(id, { key, createdAt: Number(created), bytes: value.length })
      index.set(rcpt, box)
      total += value.length
    }
    this.index = index
    this.totalBytes = total
    return index
  }
}

function sum(box: Map<string, Entry>): number {
  let n = 0
  for (const e of box.values()) n += e.bytes
  return n
}

function mailKey(rcptHex: string, createdAt: number, idHex: string): Key {
  return new Key(`${PREFIX}/${rcptHex}/${String(createdAt).padStart(16, '0')}-${idHex}`)
}
