/**
 * Instant-message history (RFC 3428 MESSAGE), persisted in the node's level
 * datastore: what this node sent, with its outcome, and what it received. Keys
 * sort by time, so listing is a prefix scan in order.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { z } from 'zod'
import { StoredMessageJsonSchema } from '../../shared/api/contract.js'
import { randomToken } from '../../shared/sip/responses.js'

const PREFIX = '/kaiwa/messages'

/** The stored form is the API's: the inbox is served as it is kept. */
export const StoredMessageSchema = StoredMessageJsonSchema
export type StoredMessage = z.infer<typeof StoredMessageSchema>

export class MessageHistory {
  private pending: Array<{ key: Key; value: Uint8Array }> = []
  private flushing: Promise<void> | undefined
  private readonly listeners = new Set<(msg: StoredMessage) => void>()

  constructor(private readonly datastore: Datastore) {}

  /**
   * Record a message. Entries that arrive together go to level in one batch
   * (one write instead of hundreds under load); the promise settles when this
   * entry is on disk, so a caller that awaits it never reports an unsaved message.
   */
  async add(msg: Omit<StoredMessage, 'id'>): Promise<StoredMessage> {
    const id = `${String(Date.now()).padStart(15, '0')}-${randomToken(4)}`
    const full = { ...msg, id }
    this.pending.push({
      key: new Key(`${PREFIX}/${id}`),
      value: new TextEncoder().encode(JSON.stringify(full)),
    })
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
    const batch = this.datastore.batch()
    for (const e of entries) batch.put(e.key, e.value)
    await batch.commit()
  }

  async list(filter: { direction?: 'in' | 'out'; limit?: number } = {}): Promise<StoredMessage[]> {
    const out: StoredMessage[] = []
    for await (const { value } of this.datastore.query({ prefix: PREFIX })) {
      const parsed = StoredMessageSchema.safeParse(safeJson(value))
      if (!parsed.success) continue // a damaged entry is skipped, never fatal
      if (filter.direction != null && parsed.data.direction !== filter.direction) continue
      out.push(parsed.data)
    }
    out.sort((a, b) => a.id.localeCompare(b.id))
    return filter.limit != null ? out.slice(-filter.limit) : out
  }
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
}
