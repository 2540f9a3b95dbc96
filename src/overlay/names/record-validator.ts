/**
 * The storing node's side of record validation, plugged into kad-dht.
 *
 * kad-dht's PUT handler runs only the validator (never the selector) before it
 * overwrites the stored value, so a validly signed but *older* record would roll
 * a newer one back, and a different key could take over a live name. The
 * validator therefore also compares the incoming record with what this node
 * already holds (sequence number, name ownership), and for a name it does not
 * hold it demands a proof-of-work stamp and asks the other closest nodes first
 * (docs/security.md).
 *
 * kad-dht calls the same validator in three places: the PUT_VALUE handler
 * (`validator(key, value)`, no options), its own local read and every record
 * a GET query receives (both pass an options object). Only the first is a
 * request to *store*; the others only ask "is this a well-formed record?",
 * and must not drop a conflicting record a lookup needs to see. The stateful
 * checks therefore run only when `options` is undefined; the overlay test
 * "refuses a backdated claim" fails if a kad-dht upgrade changes that.
 */
import { Key } from 'interface-datastore'
import { Record as DhtRecord } from '@libp2p/kad-dht'
import { equals } from 'uint8arrays'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'
import { NameTakenError } from '../../shared/errors.js'
import { decodeContactRecord, encodeContactRecord } from '../../shared/records/contact-record.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import {
  checkFirstClaim,
  checkReplaces,
  isLive,
  selectBestRecord,
  validateContactRecord,
} from '../../shared/records/record-policy.js'
import {
  nameFromRecordKey,
  userRecordKey,
  USER_RECORD_NAMESPACE,
} from '../../shared/records/dht-key.js'
import { judgeFirstClaim, type NeighbourHolding } from '../../shared/records/first-claim-verdict.js'
import { NameLedger } from './name-ledger.js'
import type { NeighbourQuery } from './neighbour-query.js'

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
  /**
   * Proof-of-work bits demanded of stamps (claim-pow.ts); one value per network.
   * @default CLAIM_POW_BITS
   */
  powBits?: number
  /**
   * Asks the other closest nodes what they hold before this node accepts a
   * first claim (`dhtNeighbourQuery(() => node)`). The validator is built
   * before the libp2p node, so pass a query that reads the node lazily.
   * @default undefined: no neighbour check (a first claim is judged on this node's own view)
   */
  neighbours?: NeighbourQuery
  /** The first-seen ledger; shared by the validator and the selector. @default one over `datastore` */
  ledger?: NameLedger
}

/** The ledger to use: the given one, or one over the datastore that falls back to the stored record. */
export function ledgerFor(init: RecordValidatorInit): NameLedger {
  return (
    init.ledger ??
    new NameLedger({
      datastore: init.datastore,
      fallback: async (name) => {
        const held = await readStoredRecord(init.datastore, userRecordKey(name))
        return held && { publicKey: held.record.publicKey, expiresAt: held.record.expiresAt }
      },
    })
  )
}

export function createUserRecordValidator(
  init: RecordValidatorInit,
  ledger: NameLedger = ledgerFor(init),
): ValidateFn {
  const now = init.now ?? Date.now
  const locks = new Map<string, Promise<void>>()
  return async (key, value, options) => {
    try {
      const incoming = await validateContactRecord(key, value, now(), { powBits: init.powBits })
      // Warm the ledger cache for the (synchronous) selector that runs after a get.
      await ledger.get(incoming.name)
      if (options !== undefined) return // a read, not a request to store (see header)
      await withLock(locks, incoming.name, () => admit(init, ledger, key, incoming, value, now()))
    } catch (err) {
      init.onRefused?.(safeKeyName(key), err instanceof Error ? err.message : String(err))
      throw err
    }
  }
}

/** The storing node's decision for a PUT_VALUE; throws to refuse. */
async function admit(
  init: RecordValidatorInit,
  ledger: NameLedger,
  key: Uint8Array,
  incoming: ContactRecord,
  value: Uint8Array,
  now: number,
): Promise<void> {
  const held = await ledger.holder(incoming.name, now)
  if (held !== undefined && !equals(held, incoming.publicKey))
    throw new NameTakenError(incoming.name)
  const stored = await readStoredRecord(init.datastore, key)
  // kad-dht can overwrite the stored value without asking us (its query
  // "correction" and local puts), so a stored record under a key other than
  // the one we observed is not ours to compare seq with.
  const comparable =
    stored !== undefined &&
    isLive(stored.record, now) &&
    (held === undefined || equals(held, stored.record.publicKey))
      ? stored
      : undefined
  checkReplaces(incoming, value, comparable?.record, comparable?.bytes, now)
  if (held === undefined && comparable === undefined) {
    checkFirstClaim(incoming)
    if (init.neighbours !== undefined) await checkNeighbours(init, ledger, key, incoming, now)
  }
  await ledger.observe(incoming, now)
}

/** The first-claim neighbour check (first-claim-verdict.ts); refuses and adopts the majority's record. */
async function checkNeighbours(
  init: RecordValidatorInit,
  ledger: NameLedger,
  key: Uint8Array,
  incoming: ContactRecord,
  now: number,
): Promise<void> {
  const answers = await init.neighbours!(key)
  const holdings: NeighbourHolding[] = []
  for (const a of answers) {
    let record: ContactRecord | undefined
    if (a.value !== undefined) {
      try {
        record = await validateContactRecord(key, a.value, now, { powBits: init.powBits })
      } catch {
        record = undefined // a neighbour serving garbage holds nothing valid
      }
    }
    holdings.push({ peer: a.peer, ...(record ? { record } : {}) })
  }
  const verdict = judgeFirstClaim(incoming, holdings, now)
  if (verdict.accept) return
  // Serve what the neighbourhood holds instead of nothing.
  const bytes = encodeContactRecord(verdict.record)
  await init.datastore.put(dhtDatastoreKey(key), new DhtRecord(key, bytes, new Date()).serialize())
  await ledger.observe(verdict.record, now)
  throw new NameTakenError(incoming.name)
}

async function withLock<T>(
  locks: Map<string, Promise<void>>,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const prev = locks.get(name) ?? Promise.resolve()
  let release!: () => void
  const mine = new Promise<void>((r) => (release = r))
  const chained = prev.then(() => mine)
  locks.set(name, chained)
  await prev
  try {
    return await fn()
  } finally {
    release()
    if (locks.get(name) === chained) locks.delete(name)
  }
}

/**
 * The selector kad-dht applies at the end of a full get (and then pushes the
 * winner to the peers that answered differently). It prefers the key this
 * node observed first, then the key most responders hold; never claimedAt.
 */
export function createUserRecordSelector(
  now: () => number = Date.now,
  ledger?: NameLedger,
): SelectFn {
  return (key, values) => {
    const records: ContactRecord[] = values.map((v) => decodeContactRecord(v))
    let preferKey: Uint8Array | undefined
    try {
      preferKey = ledger?.peekHolder(nameFromRecordKey(key), now())
    } catch {
      preferKey = undefined
    }
    return selectBestRecord(records, now(), preferKey ? { preferKey } : {})
  }
}

export function userRecordValidators(init: RecordValidatorInit): {
  validators: Record<string, ValidateFn>
  selectors: Record<string, SelectFn>
  ledger: NameLedger
} {
  const ledger = ledgerFor(init)
  return {
    validators: { [USER_RECORD_NAMESPACE]: createUserRecordValidator(init, ledger) },
    selectors: { [USER_RECORD_NAMESPACE]: createUserRecordSelector(init.now, ledger) },
    ledger,
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
