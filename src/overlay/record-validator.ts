/**
 * The storing node's side of record validation, plugged into kad-dht.
 *
 * kad-dht's PUT handler runs only the validator (never the selector) before it
 * overwrites the stored value, so a validly signed but *older* record would roll
 * a newer one back, and a different key could take over a live name. The
 * validator therefore also compares the incoming record with the one this node
 * already stores (sequence number, name ownership).
 */
import { Key } from 'interface-datastore'
import { Record as DhtRecord } from '@libp2p/kad-dht'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'
import { decodeContactRecord } from '../shared/records/contact-record.js'
import type { ContactRecord } from '../shared/records/contact-record.js'
import {
  checkReplaces,
  selectBestRecord,
  validateContactRecord,
} from '../shared/records/record-policy.js'
import { USER_RECORD_NAMESPACE } from '../shared/records/dht-key.js'

/** kad-dht keeps values under `<datastorePrefix>/record/<base32 key>`. */
export const DHT_RECORD_PREFIX = '/dht/record'

export function dhtDatastoreKey(key: Uint8Array): Key {
  return new Key(`${DHT_RECORD_PREFIX}/${uint8ArrayToString(key, 'base32')}`, false)
}

export interface StoredRecord {
  record: ContactRecord
  bytes: Uint8Array
}

/** The record this node stores for `key`, if any and if it still decodes. */
export async function readStoredRecord(
  datastore: Datastore,
  key: Uint8Array,
): Promise<StoredRecord | undefined> {
  let raw: Uint8Array
  try {
    raw = await datastore.get(dhtDatastoreKey(key))
  } catch {
    return undefined
  }
  try {
    const bytes = DhtRecord.deserialize(raw).value
    return { record: decodeContactRecord(bytes), bytes }
  } catch {
    return undefined
  }
}

export interface RecordValidatorInit {
  datastore: Datastore
  now?: () => number
  onRefused?: (name: string, reason: string) => void
}

export function createUserRecordValidator(init: RecordValidatorInit): ValidateFn {
  const now = init.now ?? Date.now
  return async (key, value) => {
    try {
      const incoming = await validateContactRecord(key, value, now())
      const stored = await readStoredRecord(init.datastore, key)
      checkReplaces(incoming, value, stored?.record, stored?.bytes, now())
    } catch (err) {
      init.onRefused?.(safeKeyName(key), err instanceof Error ? err.message : String(err))
      throw err
    }
  }
}

export function createUserRecordSelector(now: () => number = Date.now): SelectFn {
  return (_key, values) => {
    const records: ContactRecord[] = values.map((v) => decodeContactRecord(v))
    return selectBestRecord(records, now())
  }
}

export function userRecordValidators(init: RecordValidatorInit): {
  validators: Record<string, ValidateFn>
  selectors: Record<string, SelectFn>
} {
  return {
    validators: { [USER_RECORD_NAMESPACE]: createUserRecordValidator(init) },
    selectors: { [USER_RECORD_NAMESPACE]: createUserRecordSelector(init.now) },
  }
}

/** How many DHT records this node holds for others (for `kaiwa status`). */
export async function countStoredRecords(datastore: Datastore): Promise<number> {
  let n = 0
  for await (const _ of datastore.queryKeys({ prefix: DHT_RECORD_PREFIX })) n++
  return n
}

function safeKeyName(key: Uint8Array): string {
  return new TextDecoder().decode(key.subarray(0, 64)).replace(/[^\x20-\x7e]/g, '?')
}
