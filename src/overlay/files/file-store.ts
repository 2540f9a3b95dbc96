/**
 * Where file transfers are kept between restarts: one entry per transfer in
 * each direction (store/migrations/files.ts has the stored forms). Writes of
 * one transfer are serialised, so a progress update never overwrites a newer
 * state written by another path (a pause from the API, a session ending).
 */
import type { Datastore } from 'interface-datastore'
import { JsonCollection } from '../store/json-collection.js'
import type { StoreOptions } from '../store/json-collection.js'
import { incomingFilesCollection, outgoingFilesCollection } from '../store/migrations/files.js'
import type { StoredIncomingFile, StoredOutgoingFile } from '../store/migrations/files.js'

export type { StoredIncomingFile, StoredOutgoingFile } from '../store/migrations/files.js'

export class FileStore {
  private readonly incoming: JsonCollection<typeof incomingFilesCollection.schema>
  private readonly outgoing: JsonCollection<typeof outgoingFilesCollection.schema>
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor(datastore: Datastore, options: StoreOptions = {}) {
    this.incoming = new JsonCollection(datastore, incomingFilesCollection, options)
    this.outgoing = new JsonCollection(datastore, outgoingFilesCollection, options)
  }

  getIn(id: string): Promise<StoredIncomingFile | undefined> {
    return this.incoming.get(id)
  }

  getOut(id: string): Promise<StoredOutgoingFile | undefined> {
    return this.outgoing.get(id)
  }

  listIn(): Promise<StoredIncomingFile[]> {
    return this.incoming.list()
  }

  listOut(): Promise<StoredOutgoingFile[]> {
    return this.outgoing.list()
  }

  /** Read, change and write one incoming entry, after any update of it still running. */
  updateIn(
    id: string,
    change: (current: StoredIncomingFile | undefined) => StoredIncomingFile | undefined,
  ): Promise<StoredIncomingFile | undefined> {
    return this.serial(`in/${id}`, async () => {
      const next = change(await this.incoming.get(id))
      if (next !== undefined) await this.incoming.put(id, next)
      return next
    })
  }

  updateOut(
    id: string,
    change: (current: StoredOutgoingFile | undefined) => StoredOutgoingFile | undefined,
  ): Promise<StoredOutgoingFile | undefined> {
    return this.serial(`out/${id}`, async () => {
      const next = change(await this.outgoing.get(id))
      if (next !== undefined) await this.outgoing.put(id, next)
      return next
    })
  }

  private serial<T>(key: string, run: () => Promise<T>): Promise<T> {
    const before = this.queues.get(key) ?? Promise.resolve()
    const next = before.then(run, run)
    const settled = next.catch(() => {})
    this.queues.set(key, settled)
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key)
    })
    return next
  }
}
