/**
 * Versioned storage, after Signal Desktop's discipline: every collection
 * declares its current format version, the zod schema of its stored form (not
 * the API's: the two are mapped explicitly, so an API change cannot silently
 * change what is on disk) and an ordered list of numbered migrations, each
 * taking an entry from version N-1 to N and each with its own test.
 *
 * Opening a collection (once per datastore, before its first read or write;
 * `migrateAll` does all of them at start-up):
 *   1. refuses a collection recorded at a newer version (a downgrade), changing nothing;
 *   2. records the current version as "migrating";
 *   3. rewrites every older entry in the current form, moving any entry that
 *      cannot be read or migrated to quarantine (see quarantine.ts);
 *   4. records the migration as complete.
 * Reads migrate in memory too, so an entry an older build writes later is still read.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { z } from 'zod'
import type { Logger } from '../../shared/logger.js'
import { quarantineEntry } from './quarantine.js'
import { assertSupportedVersion, readSchemaRecord, writeSchemaRecord } from './schema-version.js'
import { CollectionSpecError } from './storage-errors.js'
import { UnreadableEntryError, decodeEntry, encodeEntry, errorText } from './stored-entry.js'

/** Takes one entry from version `from` to `to` (= from + 1). Throws if the entry does not fit. */
export interface Migration {
  readonly from: number
  readonly to: number
  /** Receives the entry as stored at `from`, unvalidated; returns it in the `to` form. */
  migrate(entry: unknown): unknown
}

export interface CollectionSpec<S extends z.ZodType = z.ZodType> {
  /** Short stable name: the `<collection>` in `/kaiwa/schema/<collection>` and in quarantine keys. */
  readonly name: string
  /** Where the entries live: every key under `prefix/`, or one single `key`. */
  readonly location: { readonly prefix: string } | { readonly key: string }
  /** The version this build writes. Version 1 is the unversioned format from before. */
  readonly version: number
  /** The stored form at `version`. */
  readonly schema: S
  /** Exactly `version - 1` migrations, `{from: 1, to: 2}` first. */
  readonly migrations: readonly Migration[]
}

export interface OpenOptions {
  /** Where a quarantined entry is reported (as a warning). */
  log?: Logger | undefined
  /** Called with the original key of each entry moved to quarantine. */
  onQuarantined?: ((key: string) => void) | undefined
}

export interface OpenReport {
  collection: string
  /** The version found on disk (1 when none was recorded). */
  from: number
  to: number
  /** Entries rewritten in the current form. */
  migrated: number
  /** Entries moved to quarantine. */
  quarantined: number
}

export type ReadResult<T> = { ok: true; value: T; version: number } | { ok: false; reason: string }

/** Rewrites go to level in batches of this many entries: one write per batch, bounded memory. */
const REWRITE_BATCH = 256

export function validateSpec(spec: CollectionSpec): void {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.name))
    throw new CollectionSpecError(`collection name ${JSON.stringify(spec.name)} is not kebab-case`)
  if (!Number.isSafeInteger(spec.version) || spec.version < 1)
    throw new CollectionSpecError(`${spec.name}: version must be an integer >= 1`)
  if (spec.migrations.length !== spec.version - 1)
    throw new CollectionSpecError(
      `${spec.name}: version ${spec.version} needs ${spec.version - 1} migrations, has ${spec.migrations.length}`,
    )
  spec.migrations.forEach((m, i) => {
    if (m.from !== i + 1 || m.to !== i + 2)
      throw new CollectionSpecError(
        `${spec.name}: migration ${i} is ${m.from}->${m.to}, expected ${i + 1}->${i + 2}`,
      )
  })
}

/**
 * Bytes → the current stored form. `ok: false` (with the reason) when the entry
 * is damaged or does not migrate; throws StorageVersionError for an entry
 * written by a newer build, which must never be quarantined as "damaged".
 */
export function readEntry<S extends z.ZodType>(
  spec: CollectionSpec<S>,
  bytes: Uint8Array,
): ReadResult<z.infer<S>> {
  let version: number
  let data: unknown
  try {
    ;({ version, data } = decodeEntry(bytes))
  } catch (err) {
    if (err instanceof UnreadableEntryError) return { ok: false, reason: err.message }
    throw err
  }
  assertSupportedVersion(spec.name, version, spec.version)
  for (const m of spec.migrations.slice(version - 1)) {
    try {
      data = m.migrate(data)
    } catch (err) {
      return { ok: false, reason: `migration ${m.from}->${m.to} failed: ${issueText(err)}` }
    }
  }
  const parsed = spec.schema.safeParse(data)
  if (!parsed.success) {
    return { ok: false, reason: `not a valid v${spec.version} entry: ${issueText(parsed.error)}` }
  }
  return { ok: true, value: parsed.data as z.infer<S>, version }
}

/** The current stored form → bytes. Validates first: nothing invalid is ever written. */
export function writeEntry<S extends z.ZodType>(
  spec: CollectionSpec<S>,
  value: z.infer<S>,
): Uint8Array {
  return encodeEntry(spec.version, spec.schema.parse(value))
}

/** `rootKey` for a prefix collection, keyed by `id` (URI-encoded: '/' would split the key). */
export function entryKey(spec: CollectionSpec, id: string): Key {
  if (!('prefix' in spec.location)) return new Key(spec.location.key)
  return new Key(`${spec.location.prefix}/${encodeURIComponent(id)}`)
}

const opened = new WeakMap<Datastore, Map<string, Promise<OpenReport>>>()

/**
 * Open `spec` on `datastore`: check its version and migrate it (see the header).
 * Runs once per datastore and collection; later calls share the first result.
 * A failed open (a downgrade, a disk error) is not remembered, so a retry checks again.
 */
export function openCollection(
  datastore: Datastore,
  spec: CollectionSpec,
  opts: OpenOptions = {},
): Promise<OpenReport> {
  let byName = opened.get(datastore)
  if (byName === undefined) opened.set(datastore, (byName = new Map()))
  const existing = byName.get(spec.name)
  if (existing !== undefined) return existing
  const running = migrateCollection(datastore, spec, opts)
  byName.set(spec.name, running)
  running.catch(() => byName.delete(spec.name))
  return running
}

async function migrateCollection(
  datastore: Datastore,
  spec: CollectionSpec,
  opts: OpenOptions,
): Promise<OpenReport> {
  validateSpec(spec)
  const record = await readSchemaRecord(datastore, spec.name)
  if (record === 'unreadable')
    opts.log?.warn(`storage: the ${spec.name} version record is damaged; re-checking every entry`)
  const recorded = record === undefined ? 1 : record === 'unreadable' ? 1 : record.version
  assertSupportedVersion(spec.name, recorded, spec.version)
  const report: OpenReport = {
    collection: spec.name,
    from: recorded,
    to: spec.version,
    migrated: 0,
    quarantined: 0,
  }
  if (
    record !== undefined &&
    record !== 'unreadable' &&
    record.version === spec.version &&
    record.complete
  )
    return report

  await writeSchemaRecord(datastore, spec.name, { version: spec.version, complete: false })
  let pending: Array<{ key: Key; value: Uint8Array }> = []
  const flush = async (): Promise<void> => {
    const batch = datastore.batch()
    for (const e of pending) batch.put(e.key, e.value)
    pending = []
    await batch.commit()
  }
  for await (const { key, value } of scan(datastore, spec)) {
    const read = readEntry(spec, value)
    if (!read.ok) {
      await quarantineEntry(datastore, {
        collection: spec.name,
        key,
        raw: value,
        reason: read.reason,
        log: opts.log,
      })
      opts.onQuarantined?.(key.toString())
      report.quarantined++
      continue
    }
    if (read.version === spec.version) continue
    pending.push({ key, value: writeEntry(spec, read.value) })
    report.migrated++
    if (pending.length >= REWRITE_BATCH) await flush()
  }
  if (pending.length > 0) await flush()
  await writeSchemaRecord(datastore, spec.name, { version: spec.version, complete: true })
  if (report.migrated > 0 || report.from !== report.to)
    opts.log?.info(
      `storage: ${spec.name} v${report.from} -> v${report.to}, ${report.migrated} entries rewritten`,
    )
  return report
}

/** Every stored entry of the collection, raw. */
export async function* scan(
  datastore: Datastore,
  spec: CollectionSpec,
): AsyncGenerator<{ key: Key; value: Uint8Array }> {
  if ('prefix' in spec.location) {
    for await (const { key, value } of datastore.query({ prefix: `${spec.location.prefix}/` }))
      yield { key, value }
    return
  }
  const key = new Key(spec.location.key)
  if (await datastore.has(key)) yield { key, value: await datastore.get(key) }
}

function issueText(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'issues' in err && Array.isArray(err.issues)) {
    return (err.issues as Array<{ path: PropertyKey[]; message: string }>)
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.') || '(entry)'}: ${i.message}`)
      .join('; ')
  }
  return errorText(err)
}
