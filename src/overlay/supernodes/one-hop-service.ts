/**
 * One-hop lookups as a libp2p service on supernodes (issue 16 §5):
 *
 *   services: { …, supernodeTable: supernodeTable(…), oneHop: oneHopService({ datastore, log }) }
 *
 * It answers `/kaiwa/one-hop/1.0.0` for clients (and `lookup` for this node's
 * own UserDirectory) from the supernode table: the K closest supernodes to the
 * key by kad-dht's XOR metric, read at once (one-hop-read.ts), and
 * `/kaiwa/record-read/1.0.0` for other supernodes, from this node's DHT store.
 * While the table is not complete (supernode-table.ts `ready`) it refuses, and
 * the asker walks the DHT instead. A holder that could not be reached is left
 * out of this node's picks for `suspectMs`, so a supernode that died without a
 * leave costs one timeout, not one per lookup until its entry expires.
 */
import type { PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Datastore } from 'interface-datastore'
import type { Logger } from '../../shared/logger.js'
import { decodeContactRecord } from '../../shared/records/contact-record.js'
import type { ContactRecord } from '../../shared/records/contact-record.js'
import { CLAIM_POW_BITS } from '../../shared/records/claim-pow.js'
import { CONTACT_REFRESH_MS } from '../../shared/records/record-policy.js'
import type { TableEntry } from '../../shared/supernodes/member-table.js'
import { isValid } from '../names/directory-util.js'
import type { OneHopAnswer } from '../names/lookup-types.js'
import { readStoredRecord } from '../names/record-validator.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'
import { oneHopRead } from './one-hop-read.js'
import type { Holder, OneHopReadInit } from './one-hop-read.js'
import {
  checkKey,
  MAX_ONE_HOP_RECORDS,
  OneHopUnavailableError,
  requestRecord,
  serveOneHop,
} from './one-hop-protocol.js'
import { dialAddrs } from './supernode-table.js'
import type { SupernodeTable } from './supernode-table.js'

/** A record issued this recently is the newest an online owner has published (as user-directory.ts). */
const FRESH_SLACK_MS = 30_000

export interface OneHopServiceInit extends OneHopReadInit {
  /** The store kad-dht keeps records in (this node's answers as a holder). */
  datastore: Datastore
  log: Logger
  /** Proof-of-work bits the records must carry. @default CLAIM_POW_BITS */
  powBits?: number
  /** Closest supernodes considered per lookup (kad-dht's K). @default 20 */
  candidates?: number
  /** How long an unreachable holder is passed over. @default 60 s */
  suspectMs?: number
  /** Deadline of one lookup; what has arrived by then is the answer. @default 4000 */
  deadlineMs?: number
  now?: () => number
}

export interface OneHopServiceComponents {
  peerId: PeerId
  registrar: RegistrarSlice
  connectionManager: Pick<ConnectionManager, 'getConnections' | 'openStream'>
  supernodeTable: Pick<SupernodeTable, 'closest' | 'ready'>
}

export function oneHopService(
  init: OneHopServiceInit,
): (components: OneHopServiceComponents) => OneHopService {
  return (components) => new OneHopService(components, init)
}

export class OneHopService implements Startable {
  readonly [Symbol.toStringTag] = '@kaiwa/one-hop'
  private readonly suspects = new Map<string, number>()
  private readonly now: () => number
  private unserve?: () => Promise<void>

  constructor(
    private readonly components: OneHopServiceComponents,
    private readonly init: OneHopServiceInit,
  ) {
    this.now = init.now ?? Date.now
  }

  async start(): Promise<void> {
    this.unserve = await serveOneHop(this.components.registrar, this, this.init.log)
  }

  async stop(): Promise<void> {
    await this.unserve?.()
    this.unserve = undefined
    this.suspects.clear()
  }

  ready(): boolean {
    return this.components.supernodeTable.ready()
  }

  /** Ask the key's closest holders at once; throws OneHopUnavailableError while the table is not complete. */
  async lookup(
    key: Uint8Array,
    options: { early: boolean; signal: AbortSignal },
  ): Promise<OneHopAnswer> {
    if (checkKey(key) == null) throw new OneHopUnavailableError('not a contact-record key')
    if (!this.ready()) throw new OneHopUnavailableError('the supernode table is not complete yet')
    const now = this.now()
    const entries = this.components.supernodeTable.closest(
      key,
      this.init.candidates ?? 20,
      (id) => (this.suspects.get(id) ?? 0) > now,
    )
    const powBits = this.init.powBits ?? CLAIM_POW_BITS
    const check = async (bytes: Uint8Array): Promise<ContactRecord | undefined> =>
      (await isValid(key, bytes, this.now(), powBits)) ? decodeContactRecord(bytes) : undefined
    const out = await oneHopRead(
      entries.map((e) => this.holder(e, key)),
      check,
      { ...this.init, fanout: Math.min(this.init.fanout ?? 5, MAX_ONE_HOP_RECORDS) },
      {
        early: options.early,
        signal: AbortSignal.any([
          options.signal,
          AbortSignal.timeout(this.init.deadlineMs ?? 4_000),
        ]),
        acceptable: (r) => this.now() - r.issuedAt <= CONTACT_REFRESH_MS + FRESH_SLACK_MS,
      },
    )
    const until = this.now() + (this.init.suspectMs ?? 60_000)
    for (const id of out.unreachable) this.suspects.set(id, until)
    return {
      records: out.responders.map((r) => ({ peer: r.peer, bytes: r.bytes })),
      answered: out.answered,
      failed: out.failed,
    }
  }

  async readLocal(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await readStoredRecord(this.init.datastore, key))?.bytes
  }

  private holder(e: TableEntry, key: Uint8Array): Holder {
    if (e.peerId.equals(this.components.peerId)) {
      return { id: e.id, read: async () => this.readLocal(key) }
    }
    const cm = this.components.connectionManager
    // Connected: the existing connection; else the addresses from its join.
    const target = (): PeerId | ReturnType<typeof dialAddrs> =>
      cm.getConnections(e.peerId).length > 0 || e.event.addrs.length === 0 ? e.peerId : dialAddrs(e)
    const dialer: DialerSlice = {
      dialProtocol: (_peer, protocol, opts) => cm.openStream(target(), protocol, opts),
    }
    const timeoutMs = this.init.holderTimeoutMs ?? 2_000
    return {
      id: e.id,
      read: (signal) => requestRecord(dialer, e.peerId, key, { signal, timeoutMs }),
    }
  }
}
