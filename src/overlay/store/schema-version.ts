/**
 * The format version of each collection, kept under `/kaiwa/schema/<collection>`
 * as `{"version":N,"complete":true}`. No key means version 1: the data was
 * written by a build from before storage was versioned (or there is none yet).
 *
 * The version is written before a migration rewrites any entry, with
 * `complete: false`, so a newer format is on record (and an older build refuses
 * it) from the moment the first entry in it may exist; `complete: true` is
 * written last, so a migration cut short is finished at the next open.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { z } from 'zod'
import { StorageVersionError } from './storage-errors.js'

const SCHEMA_PREFIX = '/kaiwa/schema'

const SchemaRecordSchema = z.object({
  version: z.number().int().min(1),
  complete: z.boolean(),
})
export type SchemaRecord = z.infer<typeof SchemaRecordSchema>

export function schemaKey(collection: string): Key {
  return new Key(`${SCHEMA_PREFIX}/${collection}`)
}

/**
 * The recorded version, `undefined` when none was ever written, or `'unreadable'`
 * when the record itself is damaged (the caller rescans: every entry of version
 * 2 or later carries its own version, so nothing depends on this record alone).
 */
export async function readSchemaRecord(
  datastore: Datastore,
  collection: string,
): Promise<SchemaRecord | undefined | 'unreadable'> {
  const key = schemaKey(collection)
  if (!(await datastore.has(key))) return undefined
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(await datastore.get(key)))
    return SchemaRecordSchema.parse(json)
  } catch {
    return 'unreadable'
  }
}

export function encodeSchemaRecord(record: SchemaRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(SchemaRecordSchema.parse(record)))
}

export async function writeSchemaRecord(
  datastore: Datastore,
  collection: string,
  record: SchemaRecord,
): Promise<void> {
  await datastore.put(schemaKey(collection), encodeSchemaRecord(record))
}

/** Throws StorageVersionError when `found` is newer than this build reads. */
export function assertSupportedVersion(collection: string, found: number, supported: number): void {
  if (found > supported) throw new StorageVersionError(collection, found, supported)
}

/**
 * For a collection that keeps its own entry format rather than a CollectionSpec
 * (the mailbox's CBOR mail): refuses a newer recorded version, records `version`
 * when none is recorded yet, and returns the version found (1 when none was) so
 * the caller can run its own migrations from there. Pair it with quarantineEntry
 * for entries that cannot be read, and storageHealth reports them.
 */
export async function claimSchemaVersion(
  datastore: Datastore,
  collection: string,
  version: number,
): Promise<number> {
  const record = await readSchemaRecord(datastore, collection)
  const found = typeof record === 'object' ? record.version : 1
  assertSupportedVersion(collection, found, version)
  if (typeof record !== 'object' || record.version !== version || !record.complete)
    await writeSchemaRecord(datastore, collection, { version, complete: found === version })
  return found
}
