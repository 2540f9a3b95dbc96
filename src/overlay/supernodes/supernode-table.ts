/**
 * The one-hop supernode table as a libp2p service (issue 16 §5): every
 * supernode knows every other one, as one-hop DHTs do (Gupta, Liskov and
 * Rodrigues), so a lookup can go straight to the holders of a key.
 *
 *   services: { pubsub: gossipsub({ globalSignaturePolicy: StrictSign, … }),
 *               supernodeTable: supernodeTable({ log }) }
 *
 * Membership spreads as signed join and leave events (shared/supernodes/
 * membership-event.ts) on the gossipsub topic SUPERNODE_TOPIC:
 *   - start: check every message before gossipsub forwards it
 *     (member-table.ts: a refused event is REJECTed, so it goes no further and
 *     counts against the peer that sent it), serve TABLE_SYNC_PROTOCOL;
 *   - after start, subscribe; then, and again when the first peer joins the topic, publish a
 *     join with this node's dialable addresses; re-announce every
 *     `announceIntervalMs` (hourly, as sim:lookup assumed) and when the
 *     addresses change;
 *   - a new supernode pulls the current table from the first topic peer it
 *     sees (table-sync.ts); a topic peer still unknown `unknownPeerMs` after it
 *     subscribed (two groups that met) is pulled from too;
 *   - when fewer than `minPeers` topic peers are connected, dial table members
 *     (gossipsub only runs over connections that exist);
 *   - entries not re-announced within `ttlMs` expire;
 *   - before stop (a graceful stop, a role change to client): publish a leave.
 * Clients never build this service, nor gossipsub (src/main/one-hop-services.ts).
 */
import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub'
import type { TopicValidatorResult } from '@libp2p/gossipsub'
import type {
  Libp2pEvents,
  PeerId,
  PrivateKey,
  Startable,
  TypedEventTarget,
} from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import { MemberTable, peerKey } from '../../shared/supernodes/member-table.js'
import type { TableEntry } from '../../shared/supernodes/member-table.js'
import {
  decodeMembershipEvent,
  MAX_EVENT_ADDRS,
  MembershipEventError,
  signMembershipEvent,
} from '../../shared/supernodes/membership-event.js'
import type { MembershipKind } from '../../shared/supernodes/membership-event.js'
import { pickDeviceAddrs } from '../node/device-addrs.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'
import { pullTable, serveTableSync } from './table-sync.js'

export const SUPERNODE_TOPIC = '/kaiwa/supernodes/1'
const HOUR = 3_600_000

export interface SupernodeTableInit {
  log: Logger
  /** @default 1 h */
  announceIntervalMs?: number
  /** How long an event counts after it was issued. @default 2 × announceIntervalMs + 10 min */
  ttlMs?: number
  /** Topic peers to keep connected; below it, table members are dialled. @default 4 */
  minPeers?: number
  /** Expiry, mesh upkeep and the first pull are checked this often. @default 30 s */
  maintainIntervalMs?: number
  /** A topic peer not in the table this long after subscribing is pulled from. @default 10 s */
  unknownPeerMs?: number
  /** A supernode with no topic peer for this long is the whole network: its table is complete. @default 10 s */
  aloneAfterMs?: number
  /** @default 100000 */
  maxEntries?: number
  now?: () => number
}

/** The part of gossipsub the table uses. */
export type TablePubSub = Pick<
  GossipSub,
  | 'subscribe'
  | 'unsubscribe'
  | 'publish'
  | 'topicValidators'
  | 'getSubscribers'
  | 'addEventListener'
  | 'removeEventListener'
>

export interface SupernodeTableComponents {
  pubsub: TablePubSub
  privateKey: PrivateKey
  peerId: PeerId
  registrar: RegistrarSlice
  connectionManager: Pick<ConnectionManager, 'getConnections' | 'openConnection' | 'openStream'>
  addressManager: Pick<AddressManager, 'getAddresses'>
  events: TypedEventTarget<Libp2pEvents>
}

export interface SupernodeTableStats {
  members: number
  synced: boolean
  /** Refused events by reason (member-table.ts), gossiped and pulled alike. */
  refused: Record<string, number>
}

export function supernodeTable(
  init: SupernodeTableInit,
): (components: SupernodeTableComponents) => SupernodeTable {
  return (components) => new SupernodeTable(components, init)
}

// gossipsub's enum values, named without importing gossipsub (clients never load it).
const ACCEPT = 'accept' as unknown as TopicValidatorResult
const REJECT = 'reject' as unknown as TopicValidatorResult
const IGNORE = 'ignore' as unknown as TopicValidatorResult

export class SupernodeTable implements Startable {
  readonly [Symbol.toStringTag] = '@kaiwa/supernode-table'
  private readonly table: MemberTable
  private readonly now: () => number
  private readonly announceMs: number
  private readonly refused = new Map<string, number>()
  private readonly self: Uint8Array
  private readonly dialer: DialerSlice
  private seq = 0
  private announcedAddrs = ''
  private announcedTo = 0
  private announcing: Promise<void> = Promise.resolve()
  private synced = false
  private syncing = false
  private running = false
  private startedAt = 0
  private lastTopicPeerAt = 0
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private intervals: Array<ReturnType<typeof setInterval>> = []
  private unserve?: () => Promise<void>

  constructor(
    private readonly components: SupernodeTableComponents,
    private readonly init: SupernodeTableInit,
  ) {
    this.now = init.now ?? Date.now
    this.announceMs = init.announceIntervalMs ?? HOUR
    this.table = new MemberTable({
      ttlMs: init.ttlMs ?? 2 * this.announceMs + 10 * 60_000,
      ...(init.maxEntries != null ? { maxEntries: init.maxEntries } : {}),
    })
    this.self = components.peerId.toMultihash().bytes
    const cm = components.connectionManager
    this.dialer = {
      dialProtocol: (peer, protocol, options) => cm.openStream(peer, protocol, options),
    }
  }

  async start(): Promise<void> {
    const { pubsub } = this.components
    this.running = true
    this.startedAt = this.now()
    this.unserve = await serveTableSync(
      this.components.registrar,
      { snapshot: () => this.table.snapshot(this.now()) },
      this.init.log,
    )
    pubsub.topicValidators.set(SUPERNODE_TOPIC, this.validate)
    pubsub.addEventListener('subscription-change', this.onSubscription)
    this.components.events.addEventListener('self:peer:update', this.onSelfUpdate)
  }

  /** gossipsub starts beside this service: subscribe and announce once every service has started. */
  afterStart(): void {
    this.components.pubsub.subscribe(SUPERNODE_TOPIC)
    this.announce('join')
    this.intervals = [
      setInterval(() => this.announce('join'), this.announceMs),
      setInterval(() => this.maintain(), this.init.maintainIntervalMs ?? 30_000),
    ]
  }

  /** Say goodbye while gossipsub can still send it (libp2p stops services after beforeStop). */
  async beforeStop(): Promise<void> {
    if (!this.running) return
    this.announce('leave')
    await Promise.race([this.announcing, new Promise((r) => setTimeout(r, 1_000))])
  }

  async stop(): Promise<void> {
    const { pubsub } = this.components
    this.running = false
    for (const t of this.intervals) clearInterval(t)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    pubsub.removeEventListener('subscription-change', this.onSubscription)
    this.components.events.removeEventListener('self:peer:update', this.onSelfUpdate)
    if (pubsub.topicValidators.get(SUPERNODE_TOPIC) === this.validate)
      pubsub.topicValidators.delete(SUPERNODE_TOPIC)
    try {
      pubsub.unsubscribe(SUPERNODE_TOPIC)
    } catch {
      // gossipsub already stopped
    }
    await this.unserve?.()
    this.unserve = undefined
  }

  /** The `k` live supernodes closest to a DHT key, nearest first (this node included). */
  closest(key: Uint8Array, k: number, skip?: (id: string) => boolean): TableEntry[] {
    return this.table.closest(key, k, this.now(), skip)
  }

  /** Live supernodes, this one included. */
  members(): TableEntry[] {
    return this.table.members(this.now())
  }

  /**
   * Whether the table can be trusted to be complete: it was pulled from a
   * peer, or this node has been alone on the topic for `aloneAfterMs`.
   */
  ready(): boolean {
    if (this.synced) return true
    const alone = this.components.pubsub.getSubscribers(SUPERNODE_TOPIC).length === 0
    const since = Math.max(this.startedAt, this.lastTopicPeerAt)
    return alone && this.now() - since >= (this.init.aloneAfterMs ?? 10_000)
  }

  stats(): SupernodeTableStats {
    return {
      members: this.members().length,
      synced: this.synced,
      refused: Object.fromEntries(this.refused),
    }
  }

  /** gossipsub's topic validator: admit, or say why gossipsub must not forward. */
  private readonly validate = async (
    _from: PeerId,
    msg: Message,
  ): Promise<TopicValidatorResult> => {
    if (msg.type !== 'signed') return this.refuse('unsigned', undefined)
    try {
      const event = await decodeMembershipEvent(msg.data)
      const admitted = this.table.admit(event, msg.data, this.now(), msg.from.toMultihash().bytes)
      if (admitted === 'accepted') this.noteOwn(event.peer, event.seq)
      return admitted === 'accepted' ? ACCEPT : IGNORE
    } catch (err) {
      if (err instanceof MembershipEventError) return this.refuse(err.reason, msg.from)
      return IGNORE
    }
  }

  private refuse(reason: string, from: PeerId | undefined): TopicValidatorResult {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
    this.init.log.debug(`refused a supernode event (${reason}) from ${String(from)}`)
    return REJECT
  }

  /** A pulled table entry: checked as a gossiped one, minus the author check. */
  private async take(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const event = await decodeMembershipEvent(bytes)
      try {
        if (this.table.admit(event, bytes, this.now()) === 'accepted')
          this.noteOwn(event.peer, event.seq)
      } catch (err) {
        if (!(err instanceof MembershipEventError)) throw err
        // Stale or superseded entries are normal in a pulled table; a forgery is not.
        if (err.reason === 'impostor' || err.reason === 'equivocation' || err.reason === 'future')
          this.refuse(err.reason, undefined)
      }
      return event.peer
    } catch (err) {
      if (err instanceof MembershipEventError) this.refuse(err.reason, undefined)
      return undefined
    }
  }

  /** An event about this node that is newer than ours (a previous run's): announce above it. */
  private noteOwn(peer: Uint8Array, seq: number): void {
    if (peerKey(peer) !== this.components.peerId.toString() || seq <= this.seq) return
    this.seq = seq
    if (this.running) this.announce('join')
  }

  private announce(kind: MembershipKind): void {
    this.announcing = this.announcing
      .then(() => this.publish(kind))
      .catch((err: unknown) => this.init.log.debug(`supernode ${kind} not sent: ${String(err)}`))
  }

  private async publish(kind: MembershipKind): Promise<void> {
    if (!this.running) return
    const now = this.now()
    const addrs = kind === 'join' ? this.ownAddrs() : []
    this.seq = Math.max(this.seq + 1, now)
    const { event, bytes } = await signMembershipEvent(
      { kind, peer: this.self, addrs: addrs.map((a) => a.bytes), issuedAt: now, seq: this.seq },
      this.components.privateKey,
    )
    this.table.admit(event, bytes, now)
    if (kind === 'join') this.announcedAddrs = addrs.map(String).join(' ')
    const { recipients } = await this.components.pubsub.publish(SUPERNODE_TOPIC, bytes)
    this.announcedTo = recipients.length
    this.init.log.debug(`supernode ${kind} (seq ${this.seq}) sent to ${recipients.length} peers`)
  }

  /** Where other supernodes can dial this one: no relay addresses, no /p2p suffix. */
  private ownAddrs(): Multiaddr[] {
    const direct = this.components.addressManager
      .getAddresses()
      .filter((a) => !a.toString().includes('/p2p-circuit'))
      .map((a) => multiaddr(a.toString().replace(/\/p2p\/[^/]+$/, '')))
    return pickDeviceAddrs(direct, MAX_EVENT_ADDRS)
  }

  private readonly onSelfUpdate = (): void => {
    if (!this.running) return
    const now = this.ownAddrs().map(String).join(' ')
    if (now !== this.announcedAddrs) this.later(1_000, () => this.announce('join'))
  }

  private readonly onSubscription = (evt: CustomEvent<SubscriptionChangeData>): void => {
    const joined = evt.detail.subscriptions.some((s) => s.topic === SUPERNODE_TOPIC && s.subscribe)
    if (!joined || !this.running) return
    const peer = evt.detail.peerId
    this.lastTopicPeerAt = this.now()
    // Our last join reached nobody: this peer (and the mesh behind it) has not heard of us.
    if (this.announcedTo === 0) this.later(200, () => this.announce('join'))
    if (!this.synced) {
      void this.pullFrom(peer)
      return
    }
    const unknownMs = this.init.unknownPeerMs ?? 10_000
    this.later(unknownMs, () => {
      if (this.table.get(peer.toString()) == null) void this.pullFrom(peer)
    })
  }

  private async pullFrom(peer: PeerId): Promise<void> {
    if (this.syncing || !this.running) return
    this.syncing = true
    try {
      const n = await pullTable(this.dialer, peer, (b) => this.take(b))
      this.synced = true
      this.init.log.debug(`pulled ${n} supernode events from ${peer.toString()}`)
    } catch (err) {
      this.init.log.debug(`pulling the supernode table from ${peer.toString()}: ${String(err)}`)
    } finally {
      this.syncing = false
    }
  }

  private maintain(): void {
    if (!this.running) return
    this.table.expire(this.now())
    const subscribers = this.components.pubsub.getSubscribers(SUPERNODE_TOPIC)
    if (subscribers.length > 0) this.lastTopicPeerAt = this.now()
    if (!this.synced && subscribers.length > 0) {
      void this.pullFrom(subscribers[Math.floor(Math.random() * subscribers.length)]!)
    }
    const want = (this.init.minPeers ?? 4) - subscribers.length
    if (want <= 0) return
    const cm = this.components.connectionManager
    const self = this.components.peerId.toString()
    const candidates = this.members().filter(
      (e) => e.id !== self && e.event.addrs.length > 0 && cm.getConnections(e.peerId).length === 0,
    )
    for (const e of shuffle(candidates).slice(0, want)) {
      cm.openConnection(dialAddrs(e)).catch((err: unknown) =>
        this.init.log.debug(`dialling supernode ${e.id}: ${String(err)}`),
      )
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.running) fn()
    }, ms)
    this.timers.add(t)
  }
}

/** A table entry's addresses, each ending in /p2p/<its peer id>, ready to dial. */
export function dialAddrs(e: TableEntry): Multiaddr[] {
  return e.event.addrs.map((a) => multiaddr(a).encapsulate(`/p2p/${e.id}`))
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}
