/**
 * The names this node holds for its LAN: what a LAN-only network (no
 * supernode anywhere, issue 13) uses in place of the overlay's DHT.
 *
 * Every node keeps one table and every LAN peer offers its own record to all
 * the others (lan-names-protocol.ts), so each table holds every LAN name. A
 * LAN is small (a discovery-dialled node links to at most 32 peers), and a
 * Kademlia DHT of fewer than k = 20 servers would store every record on every
 * server anyway; full replication is the same thing without the routing.
 *
 * Admission is the overlay's, applied by this node to what its LAN peers
 * offer:
 *   - the record must validate as a DHT record would (signature, name,
 *     proof-of-work stamp, times, sizes: validateContactRecord);
 *   - it must list the offering peer as one of its devices: a LAN peer stores
 *     only its own claims, never replays someone else's;
 *   - first come, first served: a live claim by another key is refused
 *     (NameTakenError), judged by this table's own first-seen ledger, which is
 *     separate from the DHT's so a LAN claim never counts in the overlay;
 *   - a claim under the same key must raise seq (checkReplaces);
 *   - a first claim must carry a stamp (checkFirstClaim), and the table holds
 *     at most `maxNames` live names.
 * The LAN-connection rule (only peers on a direct, private-address link may
 * offer) is the protocol's, which sees the connection.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { equals } from 'uint8arrays'
import { KaiwaError, NameTakenError } from '../../shared/errors.js'
import { userRecordKey } from '../../shared/records/dht-key.js'
import { decodeContactRecord, peerIdFromBytes } from '../../shared/records/contact-record.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import {
  checkFirstClaim,
  checkReplaces,
  isLive,
  validateContactRecord,
} from '../../shared/records/record-policy.js'
import { NameLedger } from './name-ledger.js'

const RECORDS = '/kaiwa/lan-names/record'
const LEDGER = '/kaiwa/lan-names/first-seen'

/** The table is full: a LAN peer tried to store more names than any LAN needs. */
export class LanTableFullError extends KaiwaError {
  constructor(max: number) {
    super(`this node already holds ${max} LAN names`, 'rejected')
    this.name = 'LanTableFullError'
  }
}

/** The record does not list the peer that offered it. */
export class NotOwnRecordError extends KaiwaError {
  constructor(name: string) {
    super(`a LAN peer may only store its own record, and "${name}" does not list it`, 'rejected')
    this.name = 'NotOwnRecordError'
  }
}

export interface LanNameTableInit {
  datastore: Datastore
  /** Proof-of-work bits (claim-pow.ts); the same value as the overlay's. */
  powBits?: number
  now?: () => number
  /** Most live names held. @default 4096 */
  maxNames?: number
}

export interface HeldRecord {
  record: ContactRecord
  bytes: Uint8Array
}

export class LanNameTable {
  private readonly ledger: NameLedger
  private readonly now: () => number
  private readonly locks = new Map<string, Promise<unknown>>()

  constructor(private readonly init: LanNameTableInit) {
    this.now = init.now ?? Date.now
    this.ledger = new NameLedger({ datastore: init.datastore, prefix: LEDGER })
  }

  /** The live record held for `name`, if any (re-validated: the clock moves on). */
  async get(name: string): Promise<HeldRecord | undefined> {
    let bytes: Uint8Array
    try {
      bytes = await this.init.datastore.get(keyFor(name))
    } catch {
      return undefined
    }
    try {
      const record = await this.validate(bytes)
      return record.name === name ? { record, bytes } : undefined
    } catch {
      return undefined // expired, or from a build with other rules: not served
    }
  }

  /**
   * Store `bytes` offered by `fromPeer` (a peer id string; this node's own
   * for its own claims). Resolves to the record stored, or throws:
   * NameTakenError (another key holds the name live), StaleRecordError,
   * InvalidRecordError / ClaimStampError, NotOwnRecordError, LanTableFullError.
   */
  async admit(bytes: Uint8Array, fromPeer: string): Promise<ContactRecord> {
    const incoming = await this.validate(bytes)
    const now = this.now()
    if (!listsDevice(incoming, fromPeer, now)) throw new NotOwnRecordError(incoming.name)
    return this.locked(incoming.name, async () => {
      const held = await this.ledger.holder(incoming.name, now)
      if (held !== undefined && !equals(held, incoming.publicKey)) {
        throw new NameTakenError(incoming.name)
      }
      const stored = await this.get(incoming.name)
      checkReplaces(incoming, bytes, stored?.record, stored?.bytes, now)
      if (stored === undefined || !isLive(stored.record, now)) {
        checkFirstClaim(incoming)
        if ((await this.liveCount()) >= (this.init.maxNames ?? 4096)) {
          throw new LanTableFullError(this.init.maxNames ?? 4096)
        }
      }
      await this.init.datastore.put(keyFor(incoming.name), bytes)
      await this.ledger.observe(incoming, now)
      return incoming
    })
  }

  /** The account key that holds `name` on this table, if its claim is live. */
  holder(name: string): Promise<Uint8Array | undefined> {
    return this.ledger.holder(name, this.now())
  }

  private validate(bytes: Uint8Array): Promise<ContactRecord> {
    const name = decodeContactRecord(bytes).name
    return validateContactRecord(userRecordKey(name), bytes, this.now(), {
      ...(this.init.powBits != null ? { powBits: this.init.powBits } : {}),
    })
  }

  private async liveCount(): Promise<number> {
    let n = 0
    const now = this.now()
    for await (const { value } of this.init.datastore.query({ prefix: RECORDS })) {
      try {
        if (isLive(decodeContactRecord(value), now)) n++
      } catch {
        // an unreadable entry holds nothing
      }
    }
    return n
  }

  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve()
    const run = prev.catch(() => undefined).then(fn)
    this.locks.set(name, run)
    try {
      return await run
    } finally {
      if (this.locks.get(name) === run) this.locks.delete(name)
    }
  }
}

function keyFor(name: string): Key {
  // User IDs are [a-z0-9._-] (user-id.ts), safe as one datastore key segment.
  return new Key(`${RECORDS}/${name}`)
}

/** Does `record` list `peer` (a peer id string) as a live device? */
function listsDevice(record: ContactRecord, peer: string, now: number): boolean {
  return record.devices.some((d) => {
    if (d.expiresAt <= now) return false
    try {
      return peerIdFromBytes(d.peerId).toString() === peer
    } catch {
      return false
    }
  })
}
