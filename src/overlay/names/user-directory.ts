/**
 * The overlay's replacement for a SIP registrar: claims user IDs, publishes
 * this device's contact record (like a REGISTER refresh, RFC 3261 §10.2.1) and
 * looks other users up.
 *
 * "Look up alice" is one DHT get that reads several of the closest nodes
 * (names/quorum-read.ts): it stops as soon as a few responders agree on one
 * account key and the record is fresh, i.e. issued within one refresh interval
 * (an online user republishes every CONTACT_REFRESH_MS and at once when its
 * addresses change). When responders disagree on the key, the majority's
 * record is used for routing and the result carries `conflict` with every key
 * and its count: the caller must show it and must never pin a key from such a
 * result (docs/security.md). Callers that fail to reach a device ask again
 * with `fresh: true`, which skips the cache and the early stop. No lookup goes
 * back to a lower `seq` under the same key than one this node has seen
 * (lookup-memory.ts).
 *
 * Claims carry a proof-of-work stamp (claim-pow.ts), minted once per (name,
 * account key) and reused by every refresh; own-record.ts signs and keeps
 * this device's record.
 *
 * On a LAN with no supernode (issue 13), the same lookups and claims go to
 * the LAN's peers instead (lan-scope.ts): never both, and the overlay wins as
 * soon as it is reachable. LAN answers are cached apart from the overlay's.
 */
import type { Datastore } from 'interface-datastore'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { NameTakenError, NoOverlayPeersError, OverlayTimeoutError } from '../../shared/errors.js'
import { normalizeUserId } from '../../shared/user-id.js'
import { userRecordKey } from '../../shared/records/dht-key.js'
import { CLAIM_POW_BITS } from '../../shared/records/claim-pow.js'
import { isConflict, tallyClaims } from '../../shared/records/claim-ranking.js'
import { quorumRead, type QuorumReadInit, type Responder } from './quorum-read.js'
import { SingleFlight } from './single-flight.js'
import { PublishError } from './lookup-types.js'
import type { LookupOptions, LookupResult, OneHopLookup, PublishResult } from './lookup-types.js'
import { readOneHop } from './one-hop-answer.js'
import { LookupMemory } from './lookup-memory.js'
import { lanPut, lanRead, lanService, nameScope } from './lan-scope.js'
import { combineSignals, isAbort, isNotFound, isValid, peerString } from './directory-util.js'
import { ClaimStamps, loadOwnRecord, saveOwnRecord, signOwnRecord } from './own-record.js'
import type { NameScope } from './lan-scope.js'
import type { ContactRecord, Device } from '../../shared/records/contact-record.js'
import {
  CONTACT_REFRESH_MS,
  CONTACT_TTL_MS,
  MAX_ADDRS_PER_DEVICE,
  mergeDevices,
} from '../../shared/records/record-policy.js'
import { readStoredRecord } from './record-validator.js'
import { pickDeviceAddrs } from '../node/device-addrs.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'

/** A record issued this recently is the newest one an online owner has published. */
const FRESH_SLACK_MS = 30_000
const CACHE_TTL_MS = 30_000
/** A cached answer this old is still served, and refreshed in the background. */
const REFRESH_AHEAD_MS = 20_000
const DEFAULT_TIMEOUT_MS = 10_000
const PEER_WAIT_MS = 5_000

export { PublishError } from './lookup-types.js'
export type { LookupOptions, LookupResult, NameConflict, PublishResult } from './lookup-types.js'

export interface UserDirectoryComponents {
  node: () => KaiwaLibp2p
  datastore: Datastore
  accountKey: Ed25519PrivateKey
  /** Devices removed from this account (sync/device-book.ts): never carried over. */
  removedDevices?: () => Promise<ReadonlySet<string>>
  now?: () => number
  /**
   * Proof-of-work bits for claim stamps; must equal the storing nodes' `powBits`.
   * @default CLAIM_POW_BITS
   */
  powBits?: number
  /** How many responders a lookup reads; see QuorumReadInit. @default { agree: 3, max: 5, settleMs: 1500 } */
  quorum?: QuorumReadInit
  /**
   * One-hop lookups through a supernode's full table (src/overlay/supernodes/),
   * tried first for ordinary lookups; fresh ones, and any one-hop failure,
   * walk the DHT (one-hop-answer.ts).
   */
  oneHop?: OneHopLookup
}

type PutOutcome = { stored: number; scope: NameScope }

export class UserDirectory {
  private readonly memory = new LookupMemory<LookupResult>({ cacheTtlMs: CACHE_TTL_MS })
  /** LAN-only answers, kept apart so none is ever served once the overlay is back. */
  private readonly lanMemory = new LookupMemory<LookupResult>({ cacheTtlMs: CACHE_TTL_MS })
  private readonly flights = new SingleFlight<string, LookupResult | undefined>()
  private readonly stamps: ClaimStamps
  private readonly now: () => number
  private readonly powBits: number
  /** Until then a node with no supernode yet waits for one before using its LAN. */
  private readonly lanAfter: number

  constructor(private readonly components: UserDirectoryComponents) {
    this.now = components.now ?? Date.now
    this.powBits = components.powBits ?? CLAIM_POW_BITS
    this.stamps = new ClaimStamps(this.powBits)
    this.lanAfter = this.now() + PEER_WAIT_MS
  }

  async lookup(rawName: string, options: LookupOptions = {}): Promise<LookupResult | undefined> {
    const name = normalizeUserId(rawName)
    const now = this.now()
    const useCache = options.fresh !== true && options.cache !== false
    if (!useCache) return this.lookupNow(name, options)
    const memory = this.memoryFor(this.scope().scope)
    const cached = memory.cached(name, now)
    // Only callers without their own abort signal share a lookup: one caller
    // giving up must not fail the others.
    const shareable = options.signal == null
    if (cached != null) {
      // Refresh ahead, so a name in steady use never has an expired cache
      // entry that every concurrent request would then wait on.
      if (shareable && (memory.ageOf(name, now) ?? 0) >= REFRESH_AHEAD_MS)
        this.shared(name, options).catch(() => undefined)
      return { ...cached, source: 'cache' }
    }
    return shareable ? this.shared(name, options) : this.lookupNow(name, options)
  }

  /** One network lookup of `name` at a time, whoever asks (see SingleFlight). */
  private shared(name: string, options: LookupOptions): Promise<LookupResult | undefined> {
    return this.flights.run(name, () =>
      this.lookupNow(name, options.timeoutMs != null ? { timeoutMs: options.timeoutMs } : {}),
    )
  }

  private async lookupNow(name: string, options: LookupOptions): Promise<LookupResult | undefined> {
    const now = this.now()
    const key = userRecordKey(name)
    const node = this.components.node()
    const self = node.peerId.toString()
    if ((await this.settleScope(options.signal)) === 'lan') return this.lookupLan(name, options)
    // This node's own copy (a datastore read and a signature check) is read
    // while the one-hop lookup runs, not before it: a one-hop answer needs it
    // only when the holders have nothing.
    const ownCopy = this.ownCopy(key, now, self)
    ownCopy.catch(() => {}) // awaited below when needed
    // A server's own store is one of the closest nodes' answers; a client's is
    // only its own last put, used when the network has nothing.
    const serving = node.services.dht.getMode() === 'server'
    const signal = combineSignals(options.signal, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    if (options.fresh !== true && this.components.oneHop != null) {
      const known = this.memory.known(name)
      const hop = await readOneHop(this.components.oneHop, key, {
        signal,
        now: this.now,
        powBits: this.powBits,
        ...(known != null ? { known } : {}),
      })
      // "Nobody holds it", unless this node has its own copy (the walk then falls back to it).
      if (hop?.length === 0 && (await ownCopy) == null) return undefined
      if (hop != null && hop.length > 0) {
        const result: LookupResult = { ...this.tally(hop, self), via: 'one-hop' }
        return this.memory.remember(name, result, this.now())
      }
    }
    const local = await ownCopy
    const read = await quorumRead(node.services.dht, key, this.components.quorum ?? {}, {
      signal,
      early: options.fresh !== true,
      acceptable: (r) => this.isFresh(r),
      seed: serving && local != null ? [local] : [],
      ...(this.memory.known(name) != null ? { known: this.memory.known(name)! } : {}),
    })
    let responders: Responder[] = read.responders
    if (responders.length === 0) {
      const err = read.error
      // Our own deadline passed with nobody answering: that is a timeout (SIP
      // 408), not "no such user" (404). The caller's abort is passed on.
      if (err != null && isAbort(err) && options.signal?.aborted !== true) {
        throw new OverlayTimeoutError(`looking up "${name}" in the overlay timed out`)
      }
      if (err != null && !isAbort(err) && !isNotFound(err)) throw err
      // Every server we asked failed (kad-dht gives up on each after its own
      // per-peer timeout): nobody said "no such user", so this is a timeout too.
      if (
        local == null &&
        read.answered === 0 &&
        read.failed > 0 &&
        options.signal?.aborted !== true
      ) {
        throw new OverlayTimeoutError(
          `looking up "${name}" in the overlay timed out: no DHT server answered`,
        )
      }
      if (local != null) responders = [local]
    }
    if (responders.length === 0) return undefined
    return this.memory.remember(name, this.tally(responders, self), this.now())
  }

  /** The record this node stores for `key` itself, if it is still valid. */
  private async ownCopy(
    key: Uint8Array,
    now: number,
    self: string,
  ): Promise<Responder | undefined> {
    const stored = await readStoredRecord(this.components.datastore, key)
    if (stored == null || !(await isValid(key, stored.bytes, now, this.powBits))) return undefined
    return { peer: self, ...stored }
  }

  /** A lookup among the LAN's peers (no supernode): the same tally, its own cache. */
  private async lookupLan(name: string, options: LookupOptions): Promise<LookupResult | undefined> {
    const node = this.components.node()
    const self = node.peerId.toString()
    const signal = combineSignals(options.signal, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const read = await lanRead(lanService(node)!, name, self, signal)
    if (read.responders.length === 0) {
      if (read.answered === 0 && read.failed > 0 && options.signal?.aborted !== true) {
        throw new OverlayTimeoutError(`looking up "${name}" on the LAN timed out: no peer answered`)
      }
      return undefined
    }
    return this.lanMemory.remember(name, this.tally(read.responders, self, 'lan'), this.now())
  }

  /** The majority key's newest record, with every live key listed when responders disagree. */
  private tally(responders: Responder[], self: string, scope?: 'lan'): LookupResult {
    const tallies = tallyClaims(
      responders.map((r) => r.record),
      this.now(),
    )
    const best = responders[tallies[0]!.best]!
    const result: LookupResult = {
      record: best.record,
      bytes: best.bytes,
      source: responders.some((r) => r.peer !== self) ? 'network' : 'local',
      responses: responders.length,
      ...(scope != null ? { scope } : {}),
    }
    if (isConflict(tallies)) {
      result.conflict = {
        keys: tallies
          .filter((t) => t.live)
          .map((t) => ({ fingerprint: t.fingerprint, publicKey: t.publicKey, count: t.count })),
      }
    }
    return result
  }

  /** Forget a cached answer (a device in it turned out to be unreachable). */
  invalidate(name: string): void {
    this.memory.invalidate(normalizeUserId(name))
    this.lanMemory.invalidate(normalizeUserId(name))
  }

  /** Where names are looked up and claimed now (lan-scope.ts). */
  scope(): { scope: NameScope; settled: boolean } {
    return nameScope(this.components.node(), this.now() >= this.lanAfter)
  }

  /**
   * Claim `rawName` for this account (first come, first served) and publish this
   * device's contact for it. Re-claiming one's own name is a refresh.
   */
  async claim(rawName: string): Promise<PublishResult> {
    const name = normalizeUserId(rawName)
    const existing = await this.lookup(name, { fresh: true })
    // Contesting a name we already hold a claim for (a conflict that includes
    // our key) is a refresh of our own claim, not a takeover.
    const ours =
      existing?.conflict?.keys.some((k) => this.isOurKey(k.publicKey)) === true ||
      (existing != null && this.ownedByUs(existing.record))
    if (existing != null && !ours && existing.record.expiresAt > this.now()) {
      throw new NameTakenError(name)
    }
    return this.publish(name, existing?.record)
  }

  /** Republish our record for `name` (the refresh of a registration). */
  async publish(rawName: string, known?: ContactRecord): Promise<PublishResult> {
    const name = normalizeUserId(rawName)
    const node = this.components.node()
    const now = this.now()
    const own = await loadOwnRecord(this.components.datastore, name)
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
    const removed = (await this.components.removedDevices?.()) ?? new Set<string>()
    const devices = mergeDevices(latest, device, now, (p) => removed.has(peerString(p)))
    const accountKey = this.components.accountKey
    const stamp = await this.stamps.stampFor(name, accountKey.publicKey.raw, latest)
    const { record, bytes } = await signOwnRecord({ name, accountKey, latest, devices, stamp, now })
    const { stored, scope } = await this.put(name, bytes, record.seq)
    await saveOwnRecord(this.components.datastore, bytes)
    const memory = this.memoryFor(scope)
    memory.invalidate(name)
    memory.saw(name, { record, bytes })
    return { record, stored }
  }

  /**
   * A client that has just started has no DHT server in its routing table until
   * identify completes with its supernodes; a query sent then would find
   * nothing. Wait a little for one, but never hang: the first node of a network
   * (a server with no peers) goes straight on, and so does a node with LAN
   * peers once it has been up PEER_WAIT_MS (its names are then the LAN's).
   */
  private async settleScope(signal?: AbortSignal): Promise<NameScope> {
    const deadline = this.now() + PEER_WAIT_MS
    for (;;) {
      const { scope, settled } = this.scope()
      if (settled || this.now() >= deadline || signal?.aborted === true) return scope
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  private memoryFor(scope: NameScope): LookupMemory<LookupResult> {
    return scope === 'lan' ? this.lanMemory : this.memory
  }

  private async put(name: string, bytes: Uint8Array, seq: number): Promise<PutOutcome> {
    const node = this.components.node()
    if ((await this.settleScope()) !== 'lan') {
      return { stored: await this.putOverlay(name, bytes, seq), scope: 'overlay' }
    }
    return { stored: await lanPut(lanService(node)!, bytes, node.peerId.toString()), scope: 'lan' }
  }

  private async putOverlay(name: string, bytes: Uint8Array, seq: number): Promise<number> {
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
    // Storing nodes that checked with their neighbours may answer after our
    // per-request timeout yet still store the record: the overlay has it.
    // Only another node's answer counts: kad-dht keeps a client's own put in
    // its local store, which a lookup falls back to (found by a node whose
    // clock was hours off: every storing node refused, and its claim
    // "succeeded" from its own copy).
    if (now != null && now.record.seq === seq && now.source === 'network') return now.responses
    throw new PublishError(
      `no supernode accepted the record for "${name}" (they log why: a clock far off, a name taken meanwhile)`,
    )
  }

  private ownedByUs(r: ContactRecord): boolean {
    return this.isOurKey(r.publicKey)
  }

  private isOurKey(publicKey: Uint8Array): boolean {
    const ours = this.components.accountKey.publicKey.raw
    return publicKey.length === ours.length && publicKey.every((b, i) => b === ours[i])
  }

  private isFresh(r: ContactRecord): boolean {
    return this.now() - r.issuedAt <= CONTACT_REFRESH_MS + FRESH_SLACK_MS
  }
}
