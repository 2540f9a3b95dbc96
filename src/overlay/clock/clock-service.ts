/**
 * The clock check as a libp2p service, in js-libp2p's factory style:
 *
 *   createLibp2p({ services: { clock: clockService({ answer, log }) } })
 *
 * Nodes that answer (supernodes) register `/kaiwa/time/1.0.0`, so identify
 * announces it; every node measures the peers that announce it (RFC-less
 * libp2p identify, as supernode-tracker.ts does), a moment after identify
 * says so and then every `intervalMs`, and keeps each peer's latest sample.
 *
 *   peer:identify (announces /kaiwa/time) ──▶ measure soon
 *   every intervalMs (±25 %)              ──▶ measure up to maxPeers servers
 *   offsets() / peerOffset(p)             ◀── latest sample per peer (maxAgeMs)
 *   ownSkew()                             ◀── median of those (shared/clock)
 *   isTooSkewed(p)                        ◀── |offset| > MAX_PEER_SKEW_MS
 *
 * Why: contact-record devices are filtered by the reader's own clock, so a
 * node > 10 min behind silently loses its contacts, and every signed request
 * has a ±ALLOWED_SKEW_MS window. Nothing else tells the user their clock is off.
 */
import type { Libp2pEvents, PeerId, PrivateKey, Startable } from '@libp2p/interface'
import type { TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Logger } from '../../shared/logger.js'
import { MAX_PEER_SKEW_MS } from '../../shared/clock/clock-limits.js'
import { clockStatus, formatDuration } from '../../shared/clock/clock-status.js'
import type { ClockStatus } from '../../shared/clock/clock-status.js'
import { CLOCK_PROTOCOL } from '../../shared/clock/clock-wire.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'
import { requestClockSample, serveClock } from './clock-protocol.js'
import type { ClockSample } from './clock-protocol.js'

/** Between measurement rounds. */
export const CLOCK_SAMPLE_INTERVAL_MS = 5 * 60_000

export interface ClockServiceInit {
  /** Answer time requests (supernodes do). @default true */
  answer?: boolean
  /** This node's clock; tests shift it. @default Date.now */
  now?: () => number
  /** Between rounds (±25 % jitter). @default CLOCK_SAMPLE_INTERVAL_MS */
  intervalMs?: number
  /** After a peer announces the protocol, before measuring it. @default 1000 */
  firstSampleDelayMs?: number
  /** Peers measured per round. @default 8 */
  maxPeers?: number
  /** A sample older than this no longer counts. @default 3 × intervalMs */
  maxAgeMs?: number
  /** Own skew at which the status says warn. @default WARN_OWN_SKEW_MS */
  warnMs?: number
  log: Logger
}

/** What the service needs of libp2p. */
export interface ClockServiceComponents {
  registrar: RegistrarSlice
  connectionManager: Pick<ConnectionManager, 'openStream' | 'getConnections'>
  events: TypedEventTarget<Libp2pEvents>
  privateKey: PrivateKey
  peerId: PeerId
}

export interface ClockService extends Startable {
  readonly protocol: string
  /** Each peer's latest sample still within maxAgeMs. */
  offsets(): ClockSample[]
  /** Own clock against the median peer, for the node status and the user. */
  ownSkew(): ClockStatus
  /** The peer's clock minus ours, in ms, if measured lately. */
  peerOffset(peer: PeerId | string): number | undefined
  /** The peer's clock was last measured more than MAX_PEER_SKEW_MS from ours: refuse sessions. */
  isTooSkewed(peer: PeerId | string): boolean
  /** Measure one peer now (it must answer `/kaiwa/time/1.0.0`) and keep the sample. */
  measure(peer: PeerId): Promise<ClockSample>
  /** One round over the connected peers that answer; resolves when all are done. */
  sampleNow(): Promise<void>
  /** Connected peers known to answer the protocol. */
  servers(): string[]
}

/** Bounds memory when many peers are measured on demand. */
const MAX_KEPT_SAMPLES = 256

class DefaultClockService implements ClockService {
  readonly [Symbol.toStringTag] = '@kaiwa/clock'
  readonly protocol = CLOCK_PROTOCOL
  private readonly now: () => number
  private readonly intervalMs: number
  private readonly maxAgeMs: number
  private readonly known = new Map<string, PeerId>()
  private readonly samples = new Map<string, ClockSample>()
  private readonly inFlight = new Map<string, Promise<ClockSample>>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private readonly dialer: DialerSlice
  private unserve: (() => Promise<void>) | undefined
  private running = false
  private lastState: ClockStatus['state'] = 'unknown'
  private readonly warnedPeers = new Set<string>()

  constructor(
    private readonly components: ClockServiceComponents,
    private readonly init: ClockServiceInit,
  ) {
    this.now = init.now ?? Date.now
    this.intervalMs = init.intervalMs ?? CLOCK_SAMPLE_INTERVAL_MS
    this.maxAgeMs = init.maxAgeMs ?? 3 * this.intervalMs
    const cm = components.connectionManager
    this.dialer = {
      dialProtocol: (peer, protocols, options) => cm.openStream(peer, protocols, options),
    }
  }

  private readonly onIdentify = (
    evt: CustomEvent<{ peerId: PeerId; protocols: string[] }>,
  ): void => {
    const { peerId, protocols } = evt.detail
    const id = peerId.toString()
    if (!protocols.includes(CLOCK_PROTOCOL)) {
      this.known.delete(id)
      return
    }
    const isNew = !this.known.has(id)
    this.known.set(id, peerId)
    if (isNew) this.later(this.init.firstSampleDelayMs ?? 1000, () => this.quietly(peerId))
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.known.delete(evt.detail.toString())
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    if (this.init.answer ?? true) {
      this.unserve = await serveClock({
        registrar: this.components.registrar,
        privateKey: this.components.privateKey,
        now: this.now,
        log: this.init.log,
      })
    }
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.arm()
  }

  async stop(): Promise<void> {
    this.running = false
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.known.clear()
    const unserve = this.unserve
    this.unserve = undefined
    await unserve?.()
  }

  servers(): string[] {
    const live = new Set(
      this.components.connectionManager.getConnections().map((c) => c.remotePeer.toString()),
    )
    return [...this.known.keys()].filter((id) => live.has(id))
  }

  offsets(): ClockSample[] {
    const oldest = this.now() - this.maxAgeMs
    return [...this.samples.values()].filter((s) => s.t3 >= oldest)
  }

  ownSkew(): ClockStatus {
    const opts = this.init.warnMs === undefined ? {} : { warnMs: this.init.warnMs }
    return clockStatus(
      this.offsets().map((s) => s.offsetMs),
      opts,
    )
  }

  peerOffset(peer: PeerId | string): number | undefined {
    const s = this.samples.get(peer.toString())
    return s !== undefined && s.t3 >= this.now() - this.maxAgeMs ? s.offsetMs : undefined
  }

  isTooSkewed(peer: PeerId | string): boolean {
    const offset = this.peerOffset(peer)
    return offset !== undefined && Math.abs(offset) > MAX_PEER_SKEW_MS
  }

  async measure(peer: PeerId): Promise<ClockSample> {
    const id = peer.toString()
    const pending = this.inFlight.get(id)
    if (pending !== undefined) return pending
    const run = requestClockSample(this.dialer, peer, this.components.peerId.toString(), this.now)
      .then((sample) => {
        this.keep(sample)
        return sample
      })
      .finally(() => this.inFlight.delete(id))
    this.inFlight.set(id, run)
    return run
  }

  async sampleNow(): Promise<void> {
    const ids = this.servers()
      .sort(() => Math.random() - 0.5)
      .slice(0, this.init.maxPeers ?? 8)
    await Promise.all(ids.map((id) => this.quietly(this.known.get(id)!)))
  }

  private keep(sample: ClockSample): void {
    this.samples.delete(sample.peer)
    this.samples.set(sample.peer, sample)
    if (this.samples.size > MAX_KEPT_SAMPLES) {
      // Map order is insertion order, and keep() re-inserts: the first is the stalest.
      this.samples.delete(this.samples.keys().next().value!)
    }
    this.report(sample)
  }

  /** Log a peer crossing MAX_PEER_SKEW_MS, and this node's state changing, once each. */
  private report(sample: ClockSample): void {
    const { log } = this.init
    const off = sample.offsetMs
    if (Math.abs(off) > MAX_PEER_SKEW_MS) {
      if (!this.warnedPeers.has(sample.peer)) {
        this.warnedPeers.add(sample.peer)
        log.warn(
          `clock: peer ${sample.peer} is ${formatDuration(off)} ${off > 0 ? 'ahead of' : 'behind'} ` +
            `this node (more than ${formatDuration(MAX_PEER_SKEW_MS)}): sessions with it are refused ` +
            'until its clock (or ours) is corrected',
        )
      }
    } else {
      this.warnedPeers.delete(sample.peer)
    }
    const status = this.ownSkew()
    if (status.state !== this.lastState) {
      if (status.state === 'warn') log.warn(`clock: ${status.message}`)
      else if (this.lastState === 'warn') log.info(`clock: ${status.message}`)
      this.lastState = status.state
    }
  }

  private async quietly(peer: PeerId): Promise<void> {
    if (!this.running) return
    try {
      await this.measure(peer)
    } catch (err) {
      this.init.log.debug(`clock: no sample from ${peer.toString()}: ${String(err)}`)
    }
  }

  private later(ms: number, fn: () => Promise<void>): void {
    if (!this.running) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      void fn()
    }, ms)
    t.unref?.()
    this.timers.add(t)
  }

  private arm(): void {
    // ±25 % jitter, so nodes that started together do not ask together.
    const delay = this.intervalMs * (0.75 + Math.random() * 0.5)
    this.later(delay, async () => {
      await this.sampleNow()
      this.arm()
    })
  }
}

/** The libp2p service factory: `services: { clock: clockService(init) }`. */
export function clockService(
  init: ClockServiceInit,
): (components: ClockServiceComponents) => ClockService {
  return (components) => new DefaultClockService(components, init)
}
