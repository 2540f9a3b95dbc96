/**
 * The overlay's replacement for a SIP registrar: claims user IDs, publishes
 * this device's contact record (like a REGISTER refresh, RFC 3261 §10.2.1) and
 * looks other users up.
 *
 * "Look up alice" is one DHT get. The stock kad-dht `get` waits for the whole
 * query to finish before choosing a value; here the query is stopped at the
 * first valid record that is fresh, i.e. issued within one refresh interval.
 * An online user republishes every CONTACT_REFRESH_MS and at once when its
 * addresses change, so no fresher record can exist unless the devices changed in
 * the last few seconds; callers that then fail to reach a device ask again with
 * `fresh: true`, which runs the full query and applies the selector.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  KaiwaError,
  NameTakenError,
  NoOverlayPeersError,
  OverlayTimeoutError,
} from '../shared/errors.js'
import { normalizeUserId } from '../shared/user-id.js'
import { userRecordKey } from '../shared/records/dht-key.js'
import {
  decodeContactRecord,
  encodeContactRecord,
  signContactRecord,
} from '../shared/records/contact-record.js'
import type { ContactRecord, Device } from '../shared/records/contact-record.js'
import {
  CLAIM_TTL_MS,
  CONTACT_REFRESH_MS,
  CONTACT_TTL_MS,
  MAX_ADDRS_PER_DEVICE,
  MAX_RECORD_BYTES,
  mergeDevices,
  nextSeq,
  selectBestRecord,
  validateContactRecord,
} from '../shared/records/record-policy.js'
import { readStoredRecord } from './record-validator.js'
import { pickDeviceAddrs } from './node/device-addrs.js'
import type { KaiwaLibp2p } from './node/libp2p-factory.js'

const OWN_RECORD_KEY = new Key('/kaiwa/own-record')
/** A record issued this recently is the newest one an online owner has published. */
const FRESH_SLACK_MS = 30_000
const CACHE_TTL_MS = 30_000
const DEFAULT_TIMEOUT_MS = 10_000
const PEER_WAIT_MS = 5_000

export class PublishError extends KaiwaError {
  constructor(message: string) {
    super(message, 'internal')
    this.name = 'PublishError'
  }
}

export interface LookupResult {
  record: ContactRecord
  bytes: Uint8Array
  /** Where the answer came from: the in-memory cache, this node's store, or the DHT. */
  source: 'cache' | 'local' | 'network'
  /** DHT peers that answered before the query stopped. */
  responses: number
}

export interface LookupOptions {
  /** Skip the cache and the early stop; run the whole query and use the selector. */
  fresh?: boolean
  /** Use the in-memory cache of recent answers (default true; ignored with `fresh`). */
  cache?: boolean
  signal?: AbortSignal
  timeoutMs?: number
}

export interface PublishResult {
  record: ContactRecord
  /** Remote DHT servers that stored it (plus this node when it is one). */
  stored: number
}

export interface UserDirectoryComponents {
  node: () => KaiwaLibp2p
  datastore: Datastore
  accountKey: Ed25519PrivateKey
  now?: () => number
}

export class UserDirectory {
  private readonly cache = new Map<string, { result: LookupResult; at: number }>()
  private readonly now: () => number

  constructor(private readonly components: UserDirectoryComponents) {
    this.now = components.now ?? Date.now
  }

  async lookup(rawName: string, options: LookupOptions = {}): Promise<LookupResult | undefined> {
    const name = normalizeUserId(rawName)
    const now = this.now()
    const cached = this.cache.get(name)
    const useCache = options.fresh !== true && options.cache !== false
    if (useCache && cached != null && now - cached.at < CACHE_TTL_MS) {
      return { ...cached.result, source: 'cache' }
    }
    const key = userRecordKey(name)
    const candidates: Array<{ record: ContactRecord; bytes: Uint8Array }> = []
    let source: LookupResult['source'] = 'local'
    const stored = await readStoredRecord(this.components.datastore, key)
    if (stored != null && (await isValid(key, stored.bytes, now))) candidates.push(stored)

    let responses = 0
    const early = options.fresh !== true
    if (!(early && stored != null && candidates.length > 0 && this.isFresh(stored.record))) {
      await this.waitForDhtPeers(options.signal)
      const signal = combineSignals(options.signal, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
      let answered = 0
      let failed = 0
      try {
        for await (const ev of this.components.node().services.dht.get(key, { signal })) {
          if (ev.name === 'QUERY_ERROR') failed++
          if (ev.name === 'PEER_RESPONSE') answered++
          if (ev.name !== 'PEER_RESPONSE' || ev.record == null) continue
          // kad-dht ran our validator on this record before emitting the event.
          responses++
          const bytes = ev.record.value
          candidates.push({ record: decodeContactRecord(bytes), bytes })
          source = 'network'
          if (early && this.isFresh(candidates[candidates.length - 1]!.record)) break
        }
      } catch (err) {
        if (candidates.length === 0) {
          // Our own deadline passed with nobody answering: that is a timeout (SIP
          // 408), not "no such user" (404). The caller's abort is passed on.
          if (isAbort(err) && options.signal?.aborted !== true) {
            throw new OverlayTimeoutError(`looking up "${name}" in the overlay timed out`)
          }
          if (!isAbort(err) && !isNotFound(err)) throw err
        }
      }
      // Every server we asked failed (kad-dht gives up on each after its own
      // per-peer timeout): nobody said "no such user", so this is a timeout too.
      if (
        candidates.length === 0 &&
        answered === 0 &&
        failed > 0 &&
        options.signal?.aborted !== true
      ) {
        throw new OverlayTimeoutError(
          `looking up "${name}" in the overlay timed out: no DHT server answered`,
        )
      }
    }
    if (candidates.length === 0) return undefined
    const best =
      candidates[
        selectBestRecord(
          candidates.map((c) => c.record),
          this.now(),
        )
      ]!
    const result: LookupResult = { ...best, source, responses }
    this.cache.set(name, { result, at: this.now() })
    return result
  }

  /** Forget a cached answer (a device in it turned out to be unreachable). */
  invalidate(name: string): void {
    this.cache.delete(normalizeUserId(name))
  }

  /**
   * Claim `rawName` for this account (first come, first served) and publish this
   * device's contact for it. Re-claiming one's own name is a refresh.
   */
  async claim(rawName: string): Promise<PublishResult> {
    const name = normalizeUserId(rawName)
    const existing = await this.lookup(name, { fresh: true })
    if (
      existing != null &&
      !this.ownedByUs(existing.record) &&
      existing.record.expiresAt > this.now()
    ) {
      throw new NameTakenError(name)
    }
    return this.publish(name, existing?.record)
  }

  /** Republish our record for `name` (the refresh of a registration). */
  async publish(rawName: string, known?: ContactRecord): Promise<PublishResult> {
    const name = normalizeUserId(rawName)
    const node = this.components.node()
    const now = this.now()
    const own = await this.loadOwnRecord(name)
    // Other devices of this account publish under the same name: start from the
    // newest record in the overlay so a refresh never drops their entries.
    const current =
      known ?? (await this.lookup(name, { fresh: true }).catch(() => undefined))?.record
    const previous = [current, own].filter(
      (r): r is ContactRecord => r != null && this.ownedByUs(r),
    )
    const latest = previous.sort((a, b) => b.seq - a.seq)[0]
    const device: Device = {
      peerId: node.peerId.toMultihash().bytes,
      addrs: pickDeviceAddrs(node.getMultiaddrs(), MAX_ADDRS_PER_DEVICE).map((a) => a.bytes),
      expiresAt: now + CONTACT_TTL_MS,
    }
    let devices = mergeDevices(latest, device, now)
    let record: ContactRecord
    let bytes: Uint8Array
    for (;;) {
      record = await signContactRecord(
        {
          v: 1,
          name,
          publicKey: this.components.accountKey.publicKey.raw,
          claimedAt: latest?.claimedAt ?? now,
          seq: nextSeq(latest?.seq, now),
          issuedAt: now,
          expiresAt: now + CLAIM_TTL_MS,
          devices,
        },
        this.components.accountKey,
      )
      bytes = encodeContactRecord(record)
      if (bytes.byteLength <= MAX_RECORD_BYTES || devices.length <= 1) break
      devices = devices.slice(0, -1) // drop the other device that expires soonest
    }
    const stored = await this.put(name, bytes)
    await this.components.datastore.put(OWN_RECORD_KEY, bytes)
    this.cache.delete(name)
    return { record, stored }
  }

  /**
   * A client that has just started has no DHT server in its routing table until
   * identify completes with its supernodes; a query sent then would find
   * nothing. Wait a little for one, but never hang: the first node of a network
   * (a server with no peers) goes straight on.
   */
  private async waitForDhtPeers(signal?: AbortSignal): Promise<void> {
    const dht = this.components.node().services.dht
    const deadline = this.now() + PEER_WAIT_MS
    while (dht.getMode() === 'client' && routingTableSize(dht) === 0 && this.now() < deadline) {
      if (signal?.aborted === true) return
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  private async put(name: string, bytes: Uint8Array): Promise<number> {
    await this.waitForDhtPeers()
    const node = this.components.node()
    const dht = node.services.dht
    const server = dht.getMode() === 'server'
    let stored = server ? 1 : 0
    let refused = 0
    const signal = AbortSignal.timeout(DEFAULT_TIMEOUT_MS)
    try {
      for await (const ev of dht.put(userRecordKey(name), bytes, { signal })) {
        if (ev.name === 'PEER_RESPONSE' && ev.messageName === 'PUT_VALUE') stored++
        if (ev.name === 'QUERY_ERROR') refused++
      }
    } catch (err) {
      if (!isAbort(err)) throw err
    }
    if (stored > 0) return stored
    if (refused === 0) throw new NoOverlayPeersError()
    // Every storing node refused: either the name was taken meanwhile or our
    // record is stale. Ask the network which.
    const now = await this.lookup(name, { fresh: true })
    if (now != null && !this.ownedByUs(now.record)) throw new NameTakenError(name)
    throw new PublishError(`no supernode accepted the record for "${name}"; see the node log`)
  }

  private async loadOwnRecord(name: string): Promise<ContactRecord | undefined> {
    try {
      const r = decodeContactRecord(await this.components.datastore.get(OWN_RECORD_KEY))
      return r.name === name ? r : undefined
    } catch {
      return undefined
    }
  }

  private ownedByUs(r: ContactRecord): boolean {
    const ours = this.components.accountKey.publicKey.raw
    return r.publicKey.length === ours.length && r.publicKey.every((b, i) => b === ours[i])
  }

  private isFresh(r: ContactRecord): boolean {
    return this.now() - r.issuedAt <= CONTACT_REFRESH_MS + FRESH_SLACK_MS
  }
}

async function isValid(key: Uint8Array, bytes: Uint8Array, now: number): Promise<boolean> {
  try {
    await validateContactRecord(key, bytes, now)
    return true
  } catch {
    return false
  }
}

function combineSignals(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs)
  return signal == null ? t : AbortSignal.any([signal, t])
}

function routingTableSize(dht: unknown): number {
  return (dht as { routingTable?: { size?: number } }).routingTable?.size ?? 0
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'NotFoundError'
}
