/**
 * The node's keys: the ed25519 account key (signs the user's records; the user
 * ID belongs to it) and the device key (the libp2p peer identity). Both are
 * created on first run and kept in the datastore inside the owner-only data
 * directory. An identity is never silently replaced: a datastore that has been
 * initialised but lost or garbled its identity is an error, not a fresh start,
 * and an identity written by a newer Kaiwa (format `v` above 1) is refused as
 * a downgrade, not reported as corrupt: in both cases it is left untouched.
 * See store/migrations/identity.ts for how its format version is kept.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { decode, encode } from 'cborg'
import type { Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { DataDirError } from '../store/data-dir.js'
import {
  IDENTITY_COLLECTION,
  IDENTITY_FORMAT_VERSION,
  checkIdentityVersion,
  identityFormatOf,
} from '../store/migrations/identity.js'
import { encodeSchemaRecord, schemaKey } from '../store/schema-version.js'
import { StorageVersionError } from '../store/storage-errors.js'

const IDENTITY_KEY = new Key('/kaiwa/identity')
/** Written together with the identity; its presence means "this store was initialised". */
const META_KEY = new Key('/kaiwa/meta')

export interface Identity {
  readonly accountKey: Ed25519PrivateKey
  readonly deviceKey: PrivateKey
  readonly createdAt: number
}

export interface LoadIdentityResult {
  identity: Identity
  created: boolean
}

export async function loadOrCreateIdentity(
  datastore: Datastore,
  now = Date.now(),
): Promise<LoadIdentityResult> {
  // Refuses an identity (or its version record) from a newer build before reading it.
  await checkIdentityVersion(datastore)
  const [hasIdentity, hasMeta, hasVersion] = await Promise.all([
    datastore.has(IDENTITY_KEY),
    datastore.has(META_KEY),
    datastore.has(schemaKey(IDENTITY_COLLECTION)),
  ])
  if (hasIdentity)
    return { identity: decodeIdentity(await datastore.get(IDENTITY_KEY)), created: false }
  // The meta marker, or the identity's version record, says an identity was created here.
  if (hasMeta || hasVersion) {
    throw new DataDirError(
      'the data directory was initialised but its identity is missing; refusing to create a new one ' +
        'over it. Restore the identity from a backup or move the directory aside',
    )
  }
  const identity: Identity = {
    accountKey: await generateKeyPair('Ed25519'),
    deviceKey: await generateKeyPair('Ed25519'),
    createdAt: now,
  }
  // One atomic batch: never an identity without its meta marker, or the reverse.
  const batch = datastore.batch()
  batch.put(IDENTITY_KEY, encodeIdentity(identity))
  batch.put(META_KEY, encode({ v: 1, createdAt: now }))
  batch.put(
    schemaKey(IDENTITY_COLLECTION),
    encodeSchemaRecord({ version: IDENTITY_FORMAT_VERSION, complete: true }),
  )
  await batch.commit()
  return { identity, created: true }
}

/** Replace the stored identity (restoring an account backup keeps this device's key). */
export async function saveIdentity(datastore: Datastore, identity: Identity): Promise<void> {
  await datastore.put(IDENTITY_KEY, encodeIdentity(identity))
}

export function encodeIdentity(identity: Identity): Uint8Array {
  return encode({
    v: 1,
    account: privateKeyToProtobuf(identity.accountKey),
    device: privateKeyToProtobuf(identity.deviceKey),
    createdAt: identity.createdAt,
  })
}

export function decodeIdentity(bytes: Uint8Array): Identity {
  try {
    const raw = decode(bytes) as {
      v?: unknown
      account?: unknown
      device?: unknown
      createdAt?: unknown
    }
    const version = identityFormatOf(raw)
    if (version !== undefined && version > IDENTITY_FORMAT_VERSION)
      throw new StorageVersionError(IDENTITY_COLLECTION, version, IDENTITY_FORMAT_VERSION)
    if (
      raw.v !== IDENTITY_FORMAT_VERSION ||
      !(raw.account instanceof Uint8Array) ||
      !(raw.device instanceof Uint8Array)
    ) {
      throw new Error('unexpected identity layout')
    }
    const accountKey = privateKeyFromProtobuf(raw.account)
    if (accountKey.type !== 'Ed25519') throw new Error('account key is not ed25519')
    return {
      accountKey,
      deviceKey: privateKeyFromProtobuf(raw.device),
      createdAt: typeof raw.createdAt === 'number' ? raw.createdAt : 0,
    }
  } catch (err) {
    if (err instanceof StorageVersionError) throw err
    throw new DataDirError(
      'the identity stored in the data directory is corrupt; restore it from a backup. ' +
        'It was left untouched',
      { cause: err },
    )
  }
}
