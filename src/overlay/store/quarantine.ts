/**
 * Quarantine: where an entry goes when it cannot be read. It is moved, never
 * deleted and never silently skipped, to
 *
 *     /kaiwa/quarantine/<collection>/<entry id>   →   {"collection","key","reason","at","raw"}
 *
 * with its exact bytes (base64 in `raw`), so that a later build, a repair tool
 * or a support person can recover it, and so that one bad entry never hides the
 * rest of the collection. `storageHealth` lists what is there for `kaiwa status`.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { z } from 'zod'
import type { Logger } from '../../shared/logger.js'

const QUARANTINE_PREFIX = '/kaiwa/quarantine'

const QuarantineRecordSchema = z.object({
  collection: z.string(),
  key: z.string(),
  reason: z.string(),
  at: z.string(),
  raw: z.string(),
})
export type QuarantineRecord = z.infer<typeof QuarantineRecordSchema>

export interface QuarantinedEntry {
  /** The collection the entry was in (`contacts`, `messages`, ...). */
  collection: string
  /** The entry's original datastore key. */
  key: string
  /** Why it could not be read. */
  reason: string
  /** When it was moved, ISO 8601. */
  at: string
}

export interface StorageHealth {
  quarantined: QuarantinedEntry[]
}

export interface QuarantineInput {
  collection: string
  key: Key
  raw: Uint8Array
  reason: string
  log?: Logger | undefined
  now?: number
}

/**
 * Move one entry into quarantine: the copy and the removal are one atomic
 * batch, so a crash leaves the entry in exactly one of the two places. An
 * earlier quarantine of the same key is never overwritten.
 */
export async function quarantineEntry(datastore: Datastore, input: QuarantineInput): Promise<Key> {
  const now = input.now ?? Date.now()
  const id = input.key.baseNamespace()
  let target = new Key(`${QUARANTINE_PREFIX}/${input.collection}/${id}`)
  for (let n = 1; await datastore.has(target); n++) {
    target = new Key(`${QUARANTINE_PREFIX}/${input.collection}/${id}~${now}-${n}`)
  }
  const record: QuarantineRecord = {
    collection: input.collection,
    key: input.key.toString(),
    reason: input.reason,
    at: new Date(now).toISOString(),
    raw: Buffer.from(input.raw).toString('base64'),
  }
  const batch = datastore.batch()
  batch.put(target, new TextEncoder().encode(JSON.stringify(record)))
  batch.delete(input.key)
  await batch.commit()
  input.log?.warn(
    `storage: moved unreadable ${input.collection} entry ${record.key} to ${target.toString()} ` +
      `(${input.reason}); it is kept there, see kaiwa status`,
  )
  return target
}

/** The raw bytes of a quarantined entry, exactly as they were found. */
export function quarantinedBytes(record: QuarantineRecord): Uint8Array {
  return new Uint8Array(Buffer.from(record.raw, 'base64'))
}

/** Every quarantine record in full (raw bytes included), in key order. */
export async function readQuarantine(
  datastore: Datastore,
): Promise<Array<{ at: Key; record: QuarantineRecord | undefined }>> {
  const out: Array<{ at: Key; record: QuarantineRecord | undefined }> = []
  for await (const { key, value } of datastore.query({ prefix: `${QUARANTINE_PREFIX}/` })) {
    let record: QuarantineRecord | undefined
    try {
      record = QuarantineRecordSchema.parse(JSON.parse(new TextDecoder().decode(value)))
    } catch {
      record = undefined
    }
    out.push({ at: key, record })
  }
  return out
}

/** What is in quarantine, for `kaiwa status` and the UI. */
export async function storageHealth(datastore: Datastore): Promise<StorageHealth> {
  const quarantined: QuarantinedEntry[] = []
  for (const { at, record } of await readQuarantine(datastore)) {
    if (record !== undefined) {
      const { collection, key, reason, at: when } = record
      quarantined.push({ collection, key, reason, at: when })
    } else {
      // Reported rather than hidden: the quarantine record itself is damaged.
      const collection =
        at
          .toString()
          .slice(QUARANTINE_PREFIX.length + 1)
          .split('/')[0] ?? ''
      quarantined.push({
        collection,
        key: at.toString(),
        reason: 'damaged quarantine record',
        at: '',
      })
    }
  }
  return { quarantined }
}
