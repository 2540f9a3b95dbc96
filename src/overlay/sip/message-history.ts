/**
 * Instant-message history (RFC 3428 MESSAGE), persisted in the node's level
 * datastore: what this node sent, with its outcome, and what it received. Keys
 * sort by time, so listing is a prefix scan in order.
 *
 * On disk it is the versioned `messages` collection (store/migrations/messages.ts);
 * what this class hands out is the API's form, mapped field by field.
 */
import type { Datastore, Key } from 'interface-datastore'
import type { StoredMessageJson } from '../../shared/api/contract.js'
import { randomToken } from '../../shared/sip/responses.js'
import { JsonCollection } from '../store/json-collection.js'
import type { StoreOptions } from '../store/json-collection.js'
import { messagesCollection } from '../store/migrations/messages.js'
import type { StoredMessageV3, StoredMessageV3Schema } from '../store/migrations/messages.js'

/** A message as history hands it out: the API's form (the stored form is StoredMessageV3). */
export type StoredMessage = StoredMessageJson

function toStored(m: StoredMessage): StoredMessageV3 {
  const { id, direction, peer, from, to, date, contentType, text, status, code, offline } = m
  const { verification, fingerprint } = m
  return {
    id,
    direction,
    peer,
    from,
    to,
    date,
    contentType,
    text,
    status,
    code,
    offline: offline ?? false,
    verification: verification ?? null,
    fingerprint: fingerprint ?? null,
  }
}

function toApi(m: StoredMessageV3): StoredMessage {
  const { id, direction, peer, from, to, date, contentType, text, status, code, offline } = m
  const { verification, fingerprint } = m
  // The API has always left `offline` out unless the message came through offline mail.
  return {
    id,
    direction,
    peer,
    from,
    to,
    date,
    contentType,
    text,
    status,
    code,
    ...(offline ? { offline } : {}),
    ...(verification != null ? { verification } : {}),
    ...(fingerprint != null ? { fingerprint } : {}),
  }
}

export class MessageHistory {
  private pending: Array<{ key: Key; value: Uint8Array }> = []
  private flushing: Promise<void> | undefined
  private readonly listeners = new Set<(msg: StoredMessage) => void>()
  private readonly entries: JsonCollection<typeof StoredMessageV3Schema>

  constructor(
    private readonly datastore: Datastore,
    options: StoreOptions = {},
  ) {
    this.entries = new JsonCollection(datastore, messagesCollection, options)
  }

  /**
   * Record a message. Entries that arrive together go to level in one batch
   * (one write instead of hundreds under load); the promise settles when this
   * entry is on disk, so a caller that awaits it never reports an unsaved message.
   */
  async add(msg: Omit<StoredMessage, 'id'>): Promise<StoredMessage> {
    const id = `${String(Date.now()).padStart(15, '0')}-${randomToken(4)}`
    const full: StoredMessage = { ...msg, id }
    this.pending.push({ key: this.entries.key(id), value: this.entries.encode(toStored(full)) })
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush())
    await this.flushing
    for (const l of this.listeners) l(full)
    return full
  }

  /** Called with each message once it is stored (the UI's live `message` event). */
  onAdded(listener: (msg: StoredMessage) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private async flush(): Promise<void> {
    const entries = this.pending
    this.pending = []
    this.flushing = undefined
    await this.entries.ready()
    const batch = this.datastore.batch()
    for (const e of entries) batch.put(e.key, e.value)
    await batch.commit()
  }

  async list(filter: { direction?: 'in' | 'out'; limit?: number } = {}): Promise<StoredMessage[]> {
    const out: StoredMessage[] = []
    for (const m of await this.entries.list()) {
      if (filter.direction != null && m.direction !== filter.direction) continue
      out.push(toApi(m))
    }
    out.sort((a, b) => a.id.localeCompare(b.id))
    return filter.limit != null ? out.slice(-filter.limit) : out
  }
}
