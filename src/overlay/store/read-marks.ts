/**
 * Per-conversation read marks: the id of the newest message the user has
 * seen from each peer. Message ids sort by time, so "unread" is simply
 * "received with an id above the mark".
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from './json-collection.js'
import type { StoreOptions } from './json-collection.js'
import { readMarksCollection } from './migrations/read-marks.js'
import type { StoredReadMarkSchema } from './migrations/read-marks.js'

export class ReadMarks {
  private readonly marks: JsonCollection<typeof StoredReadMarkSchema>
  private readonly listeners = new Set<
    (peer: string, lastReadId: string, previous: string) => void
  >()

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.marks = new JsonCollection(datastore, readMarksCollection, options)
  }

  async get(peer: string): Promise<string> {
    return (await this.marks.get(peer))?.lastReadId ?? ''
  }

  async set(peer: string, lastReadId: string): Promise<void> {
    const previous = await this.get(peer)
    if (lastReadId <= previous) return
    await this.marks.put(peer, { lastReadId })
    for (const l of this.listeners) l(peer, lastReadId, previous)
  }

  /** Called after each mark that moved forward (account sync). */
  onChanged(listener: (peer: string, lastReadId: string, previous: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
