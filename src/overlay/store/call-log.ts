/**
 * Call history. The node sees only signalling, so the UI reports each
 * finished call (who, direction, outcome, times, media path and anchor) and
 * the node keeps it; ids sort by start time so the newest are a tail of the scan.
 */
import type { Datastore } from 'interface-datastore'
import type { CallRecordJson } from '../../shared/api/contract.js'
import { JsonCollection } from './json-collection.js'
import type { StoreOptions } from './json-collection.js'
import { callsCollection } from './migrations/calls.js'
import type { StoredCall, StoredCallSchema } from './migrations/calls.js'

/** The log keeps the newest entries only, so a long-lived install does not grow without bound. */
export const CALL_LOG_MAX = 5000

/** What the API and stored forms hold alike: all but `anchor` (null on disk, absent in the API). */
type CallFields = Omit<StoredCall, 'anchor'>

/**
 * Field by field, so a new stored field (or a new required API field) is a
 * compile error here, not a silent disk change.
 */
function callFields(c: CallFields): CallFields {
  const { id, peer, direction, outcome, startedAt, answeredAt, endedAt, path } = c
  return { id, peer, direction, outcome, startedAt, answeredAt, endedAt, path }
}

/** API → stored. */
function toStored(c: CallRecordJson): StoredCall {
  return { ...callFields(c), anchor: c.anchor ?? null }
}

/** Stored → API. An end-to-end call (anchor null) has no `anchor` field, as the API states it. */
function toApi(c: StoredCall): CallRecordJson {
  const call = callFields(c)
  return c.anchor !== null ? { ...call, anchor: c.anchor } : call
}

export class CallLog {
  private readonly entries: JsonCollection<typeof StoredCallSchema>

  constructor(datastore: Datastore, onDamaged?: (key: string) => void, options: StoreOptions = {}) {
    this.entries = new JsonCollection(datastore, callsCollection, { ...options, onDamaged })
  }

  private static sortKey(c: StoredCall): string {
    const t = Date.parse(c.startedAt)
    return `${String(Number.isNaN(t) ? 0 : t).padStart(15, '0')}-${c.id}`
  }

  async add(call: CallRecordJson): Promise<void> {
    const stored = toStored(call)
    await this.entries.put(CallLog.sortKey(stored), stored)
    const all = await this.entries.list()
    for (const old of all.slice(0, Math.max(0, all.length - CALL_LOG_MAX)))
      await this.entries.delete(CallLog.sortKey(old))
  }

  /** Newest first. */
  async list(limit = 200): Promise<CallRecordJson[]> {
    return (await this.entries.list()).reverse().slice(0, limit).map(toApi)
  }
}
