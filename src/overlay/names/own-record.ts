/**
 * This device's own contact record (user-directory.ts publishes it): signed
 * by the account key with every live device of the account, cut to the size
 * a storing node accepts, its claim stamp reused across refreshes, and the
 * last one kept in the datastore so a restart starts from it.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  decodeContactRecord,
  encodeContactRecord,
  signContactRecord,
} from '../../shared/records/contact-record.js'
import type { ContactRecord, Device } from '../../shared/records/contact-record.js'
import { mintClaimStamp, verifyClaimStamp } from '../../shared/records/claim-pow.js'
import { CLAIM_TTL_MS, MAX_RECORD_BYTES, nextSeq } from '../../shared/records/record-policy.js'
import { nativeSha256 } from './directory-util.js'

const OWN_RECORD_KEY = new Key('/kaiwa/own-record')

/** Our last published record, if it is for `name`. */
export async function loadOwnRecord(
  datastore: Datastore,
  name: string,
): Promise<ContactRecord | undefined> {
  try {
    const r = decodeContactRecord(await datastore.get(OWN_RECORD_KEY))
    return r.name === name ? r : undefined
  } catch {
    return undefined
  }
}

export async function saveOwnRecord(datastore: Datastore, bytes: Uint8Array): Promise<void> {
  await datastore.put(OWN_RECORD_KEY, bytes)
}

export interface OwnRecordInit {
  name: string
  accountKey: Ed25519PrivateKey
  /** Our newest earlier record for the name (its claim time and seq carry on). */
  latest: ContactRecord | undefined
  /** This device first, then the account's other live devices, the soonest to expire last. */
  devices: Device[]
  stamp: Uint8Array
  now: number
}

/**
 * The signed record and its bytes. While it is larger than a storing node
 * accepts (MAX_RECORD_BYTES), the other device that expires soonest is left
 * out; this device is always kept.
 */
export async function signOwnRecord(
  init: OwnRecordInit,
): Promise<{ record: ContactRecord; bytes: Uint8Array }> {
  const { name, accountKey, latest, stamp, now } = init
  let devices = init.devices
  for (;;) {
    const record = await signContactRecord(
      {
        v: 2,
        name,
        publicKey: accountKey.publicKey.raw,
        claimedAt: latest?.claimedAt ?? now,
        seq: nextSeq(latest?.seq, now),
        issuedAt: now,
        expiresAt: now + CLAIM_TTL_MS,
        devices,
        stamp,
      },
      accountKey,
    )
    const bytes = encodeContactRecord(record)
    if (bytes.byteLength <= MAX_RECORD_BYTES || devices.length <= 1) return { record, bytes }
    devices = devices.slice(0, -1) // drop the other device that expires soonest
  }
}

/**
 * Claim stamps (claim-pow.ts): the previous record's if it
 * still shows enough work for this name and key, else one minted here and
 * kept, so a publish that failed and retries does not mint again. Minting
 * costs seconds of CPU; a refresh costs one hash.
 */
export class ClaimStamps {
  private readonly minted = new Map<string, Uint8Array>()

  constructor(private readonly powBits: number) {}

  /** `key`: the account's public key now (a restored backup changes it). */
  async stampFor(
    name: string,
    key: Uint8Array,
    latest: ContactRecord | undefined,
  ): Promise<Uint8Array> {
    if (latest?.stamp != null && verifyClaimStamp(name, key, latest.stamp, this.powBits)) {
      return latest.stamp
    }
    const mine = this.minted.get(name)
    if (mine != null && verifyClaimStamp(name, key, mine, this.powBits)) return mine
    const stamp = await mintClaimStamp(name, key, this.powBits, { sha256: nativeSha256 })
    this.minted.set(name, stamp)
    return stamp
  }
}
