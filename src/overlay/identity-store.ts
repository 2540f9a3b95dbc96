/**
 * The node's keys: the ed25519 account key (signs the user's records; the user
 * ID belongs to it) and the device key (the libp2p peer identity). Both are
 * created on first run and kept in the datastore inside the owner-only data
 * directory. An identity is never silently replaced: a datastore that has been
 * initialised but lost or garbled its identity is an error, not a fresh start.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { decode, encode } from 'cborg'
import type { Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { DataDirError } from './data-dir.js'

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
  const [hasIdentity, hasMeta] = await Promise.all([
    datastore.has(IDENTITY_KEY),
    datastore.has(META_KEY),
  ])
  if (hasIdentity)
    return { identity: decodeIdentity(await datastore.get(IDENTITY_KEY)), created: false }
  if (hasMeta) {
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
  await datastore.put(IDENTITY_KEY, encodeIdentity(identity))
  await datastore.put(META_KEY, encode({ v: 1, createdAt: now }))
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
    if (
      raw.v !== 1 ||
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
    throw new DataDirError(
      'the identity stored in the data directory is corrupt; restore it from a backup. ' +
        'It was left untouched',
      { cause: err },
    )
  }
}
