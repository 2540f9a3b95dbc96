/**
 * The sync outbox on disk (the versioned `sync-outbox` collection,
 * store/migrations/sync.ts): each queued group of events for one device is an
 * entry written when it is queued and deleted once the overlay or the mailbox
 * took it, so events that found neither path survive a restart and are sent
 * after it. Entries are keyed by when they were queued, so they load in order
 * (a read mark after the messages it covers).
 */
import type { Datastore } from 'interface-datastore'
import { fromString, toString } from 'uint8arrays'
import type { Logger } from '../../shared/logger.js'
import { decodeSyncEvents, encodeSyncEvents } from '../../shared/sync/sync-wire.js'
import type { SyncEvent } from '../../shared/sync/sync-wire.js'
import { JsonCollection } from '../store/json-collection.js'
import { syncOutboxCollection } from '../store/migrations/sync.js'
import type { StoredOutboxEntrySchema } from '../store/migrations/sync.js'

/** One queued group of events for one target device. */
export interface OutboxEntry {
  /** Its key: sorts in the order entries were queued. */
  id: string
  target: string
  events: SyncEvent[]
}

export class SyncOutboxStore {
  private readonly entries: JsonCollection<typeof StoredOutboxEntrySchema>
  private counter = 0
  private last = 0

  constructor(
    datastore: Datastore,
    private readonly log: Logger,
  ) {
    this.entries = new JsonCollection(datastore, syncOutboxCollection, { log })
  }

  /** A fresh entry id, later than every id made before (also across restarts, clock allowing). */
  nextId(now = Date.now()): string {
    this.last = Math.max(now, this.last)
    this.counter = (this.counter + 1) % 1_000_000
    return `${String(this.last).padStart(15, '0')}-${String(this.counter).padStart(6, '0')}`
  }

  /** Everything still queued, oldest first; an entry that no longer decodes is dropped, with a warning. */
  async load(): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    for (const value of await this.entries.list()) {
      try {
        const events = decodeSyncEvents(fromString(value.events, 'base64'))
        out.push({ id: value.id, target: value.target, events })
      } catch (err) {
        this.log.warn(`sync outbox entry ${value.id} is unreadable and dropped: ${String(err)}`)
        await this.entries.delete(value.id)
      }
    }
    return out
  }

  async put(entry: OutboxEntry): Promise<void> {
    await this.entries.put(entry.id, {
      id: entry.id,
      target: entry.target,
      at: Number.parseInt(entry.id, 10),
      events: toString(encodeSyncEvents(entry.events), 'base64'),
    })
  }

  async delete(id: string): Promise<void> {
    await this.entries.delete(id)
  }
}
