/**
 * Call history. The node sees only signalling, so the UI reports each
 * finished call (who, direction, outcome, times, media path) and the node
 * keeps it; ids sort by start time so the newest are a tail of the scan.
 */
import type { Datastore } from 'interface-datastore'
import { CallRecordJsonSchema } from '../../shared/api/contract.js'
import type { CallRecordJson } from '../../shared/api/contract.js'
import { JsonCollection } from './json-collection.js'

/** The log keeps the newest entries only, so a long-lived install does not grow without bound. */
export const CALL_LOG_MAX = 5000

export class CallLog {
  private readonly entries: JsonCollection<typeof CallRecordJsonSchema>

  constructor(datastore: Datastore, onDamaged?: (key: string) => void) {
    this.entries = new JsonCollection(datastore, '/kaiwa/calls', CallRecordJsonSchema, onDamaged)
  }

  private static sortKey(c: CallRecordJson): string {
    const t = Date.parse(c.startedAt)
    return `${String(Number.isNaN(t) ? 0 : t).padStart(15, '0')}-${c.id}`
  }

  async add(call: CallRecordJson): Promise<void> {
    await this.entries.put(CallLog.sortKey(call), call)
    const all = await this.entries.list()
    for (const old of all.slice(0, Math.max(0, all.length - CALL_LOG_MAX)))
      await this.entries.delete(CallLog.sortKey(old))
  }

  /** Newest first. */
  async list(limit = 200): Promise<CallRecordJson[]> {
    return (await this.entries.list()).reverse().slice(0, limit)
  }
}
