/**
 * The identity's format version. The identity is not an ordinary collection:
 * it is one CBOR record (`/kaiwa/identity`, with `/kaiwa/meta` beside it) whose
 * version has always been inside it (`v: 1`), and it is never quarantined,
 * rewritten or replaced by the storage layer: losing it loses the account.
 * A damaged identity stays where it is and the node refuses to start
 * (identity-store.ts); an identity from a newer build is refused the same way.
 *
 * A future v2 must be a migration in identity-store.ts that writes the new form
 * and a copy of the old bytes (`/kaiwa/backup/identity/v1`) in one batch, and
 * keeps reading v1 (see docs/storage.md).
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { decode } from 'cborg'
import { assertSupportedVersion, readSchemaRecord } from '../schema-version.js'
import type { OpenReport } from '../versioned-collection.js'

export const IDENTITY_COLLECTION = 'identity'
export const IDENTITY_FORMAT_VERSION = 1
const IDENTITY_KEY = new Key('/kaiwa/identity')

/**
 * The `v` of a decoded identity record, or undefined when it has none (a
 * damaged record: identity-store reports it as corrupt).
 */
export function identityFormatOf(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object') return undefined
  const v = (raw as { v?: unknown }).v
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined
}

/**
 * Read-only start-up check: refuses an identity written by a newer Kaiwa before
 * anything else opens the data directory. Never writes. A record that does not
 * decode is left for loadOrCreateIdentity to report as corrupt.
 */
export async function checkIdentityVersion(datastore: Datastore): Promise<OpenReport> {
  const record = await readSchemaRecord(datastore, IDENTITY_COLLECTION)
  let found = typeof record === 'object' ? record.version : 1
  if (await datastore.has(IDENTITY_KEY)) {
    let raw: unknown
    try {
      raw = decode(await datastore.get(IDENTITY_KEY))
    } catch {
      raw = undefined
    }
    found = Math.max(found, identityFormatOf(raw) ?? 1)
  }
  assertSupportedVersion(IDENTITY_COLLECTION, found, IDENTITY_FORMAT_VERSION)
  return {
    collection: IDENTITY_COLLECTION,
    from: found,
    to: IDENTITY_FORMAT_VERSION,
    migrated: 0,
    quarantined: 0,
  }
}
