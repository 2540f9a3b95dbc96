/**
 * The MailboxStore's in-memory view of what it holds: every mail's datastore
 * key, size and sender, per recipient, with running totals per sender and for
 * the whole store, so quota and fairness decisions never read the disk. It is
 * rebuilt from the datastore keys alone (`load`), which carry everything here.
 *
 * Key: `/kaiwa/mailbox/<recipientKeyHex>/<createdAt padded>-<idHex>-<sender>`.
 * Keys written before senders were recorded lack `-<sender>`; their mail
 * counts as one anonymous sender ('').
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { planEviction } from './fair-share.js'
import type { Holding } from './fair-share.js'
import { MailboxFullError } from './mailbox-errors.js'

export const MAILBOX_PREFIX = '/kaiwa/mailbox'
const KEY_RE =
  /^\/kaiwa\/mailbox\/([0-9a-f]{64})\/(\d{16})-([0-9a-f]{32})(?:-([a-z0-9._-]{3,32}))?$/
/** The sender of entries stored before senders were recorded. */
export const LEGACY_SENDER = ''

export interface MailEntry {
  /** Recipient key hex and mail id hex: where it sits in the index. */
  rcpt: string
  id: string
  key: Key
  createdAt: number
  bytes: number
  /** Sender user ID, or LEGACY_SENDER. */
  sender: string
  /** When it was stored (createdAt for entries loaded from disk). */
  arrived: number
}

export interface RoomLimits {
  /** A mailbox's capacity in slots. */
  slotsPerMailbox: number
  /** Bytes per slot; a mail takes ceil(bytes / slotBytes) slots, at least one. */
  slotBytes: number
  maxTotalBytes: number
}

export function mailKey(rcptHex: string, createdAt: number, idHex: string, sender: string): Key {
  const created = String(createdAt).padStart(16, '0')
  return new Key(`${MAILBOX_PREFIX}/${rcptHex}/${created}-${idHex}-${sender}`)
}

export class MailboxIndex {
  /** recipientKeyHex → idHex → entry. */
  readonly boxes = new Map<string, Map<string, MailEntry>>()
  private total = 0
  private readonly senderBytes = new Map<string, number>()

  /** Rebuilds the index from the datastore's keys. */
  static async load(datastore: Datastore): Promise<MailboxIndex> {
    const index = new MailboxIndex()
    for await (const { key, value } of datastore.query({ prefix: `${MAILBOX_PREFIX}/` })) {
      const m = KEY_RE.exec(key.toString())
      if (m === null) continue
      const rcpt = m[1]!
      const createdAt = Number(m[2])
      const id = m[3]!
      const sender = m[4] ?? LEGACY_SENDER
      index.add({ rcpt, id, key, createdAt, bytes: value.length, sender, arrived: createdAt })
    }
    return index
  }

  get totalBytes(): number {
    return this.total
  }

  messages(): number {
    let n = 0
    for (const box of this.boxes.values()) n += box.size
    return n
  }

  bytesOf(sender: string): number {
    return this.senderBytes.get(sender) ?? 0
  }

  add(e: MailEntry): void {
    const box = this.boxes.get(e.rcpt) ?? new Map<string, MailEntry>()
    box.set(e.id, e)
    this.boxes.set(e.rcpt, box)
    this.total += e.bytes
    this.senderBytes.set(e.sender, this.bytesOf(e.sender) + e.bytes)
  }

  forget(gone: Iterable<MailEntry>): void {
    for (const e of gone) {
      const box = this.boxes.get(e.rcpt)
      if (box?.delete(e.id) !== true) continue
      if (box.size === 0) this.boxes.delete(e.rcpt)
      this.total -= e.bytes
      const left = this.bytesOf(e.sender) - e.bytes
      if (left > 0) this.senderBytes.set(e.sender, left)
      else this.senderBytes.delete(e.sender)
    }
  }

  /**
   * The mail to evict so a new mail of `size` bytes from `sender` fits in
   * `rcpt`'s mailbox and in the store (fair-share.ts), or MailboxFullError
   * when fairness forbids it.
   */
  planRoom(rcpt: string, sender: string, size: number, limits: RoomLimits): MailEntry[] {
    // An operator who lowered the cap below what is held gets no new mail
    // until it drains, rather than a wave of evictions.
    if (this.total > limits.maxTotalBytes) {
      throw new MailboxFullError("this supernode's mail storage is full")
    }
    const slots = (bytes: number): number => Math.max(1, Math.ceil(bytes / limits.slotBytes))
    const inBox: Array<Holding<MailEntry>> = []
    let used = 0
    for (const e of this.boxes.get(rcpt)?.values() ?? []) {
      const cost = slots(e.bytes)
      used += cost
      inBox.push({ sender: e.sender, cost, at: e.arrived, ref: e })
    }
    const boxPlan = planEviction(inBox, sender, slots(size), limits.slotsPerMailbox - used)
    if (boxPlan === null) throw new MailboxFullError("the recipient's mailbox is full")
    const freed = boxPlan.reduce((n, e) => n + e.bytes, 0)
    const all: Array<Holding<MailEntry>> = []
    for (const box of this.boxes.values()) {
      for (const e of box.values()) {
        all.push({ sender: e.sender, cost: e.bytes, at: e.arrived, ref: e })
      }
    }
    const free = limits.maxTotalBytes - this.total + freed
    const storePlan = planEviction(all, sender, size, free, new Set(boxPlan))
    if (storePlan === null) throw new MailboxFullError("this supernode's mail storage is full")
    return [...boxPlan, ...storePlan]
  }
}
