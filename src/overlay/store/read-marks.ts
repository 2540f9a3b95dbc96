/**
 * Per-conversation read marks: the id of the newest message the user has
 * seen from each peer. Message ids sort by time, so "unread" is simply
 * "received with an id above the mark".
 */
import type { Datastore } from 'interface-datastore'
import { z } from 'zod'
import { JsonCollection } from './json-collection.js'

const MarkSchema = z.object({ lastReadId: z.string() })

export class ReadMarks {
  private readonly marks: JsonCollection<typeof MarkSchema>

  constructor(datastore: Datastore) {
    this.marks = new JsonCollection(datastore, '/kaiwa/read', MarkSchema)
  }

  async get(peer: string): Promise<string> {
    return (await this.marks.get(peer))?.lastReadId ?? ''
  }

  async set(peer: string, lastReadId: string): Promise<void> {
    if (lastReadId > (await this.get(peer))) await this.marks.put(peer, { lastReadId })
  }
}
