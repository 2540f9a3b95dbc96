/**
 * The SIP gateway's nonce key (see migrations/sip-gateway.ts): created once,
 * then read at every start, so the digest nonces a phone holds across a node
 * restart still verify and the phone is told `stale=true` (RFC 7616 §3.3)
 * instead of being asked for a password it already gave. A damaged key is
 * quarantined and replaced: the only cost is one plain challenge per phone.
 */
import { randomBytes } from 'node:crypto'
import type { Datastore } from 'interface-datastore'
import { quarantineEntry } from './quarantine.js'
import type { StoreOptions } from './json-collection.js'
import { sipNonceKeyCollection } from './migrations/sip-gateway.js'
import { entryKey, openCollection, readEntry, scan, writeEntry } from './versioned-collection.js'

export const NONCE_KEY_BYTES = 32

export async function loadOrCreateNonceKey(
  datastore: Datastore,
  options: StoreOptions = {},
): Promise<Uint8Array> {
  const spec = sipNonceKeyCollection
  await openCollection(datastore, spec, { log: options.log })
  for await (const { key, value } of scan(datastore, spec)) {
    const read = readEntry(spec, value)
    if (read.ok) return new Uint8Array(Buffer.from(read.value.key, 'base64url'))
    await quarantineEntry(datastore, {
      collection: spec.name,
      key,
      raw: value,
      reason: read.reason,
      log: options.log,
    })
  }
  const key = randomBytes(NONCE_KEY_BYTES)
  await datastore.put(entryKey(spec, ''), writeEntry(spec, { key: key.toString('base64url') }))
  return new Uint8Array(key)
}
