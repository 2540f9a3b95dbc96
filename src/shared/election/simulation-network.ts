/**
 * The simulated network's state, kept in typed arrays so that 100k nodes fit in
 * a few megabytes and a round is a handful of linear passes. A slot holds one
 * node at a time: when a node leaves, its slot is empty (offline) or taken by a
 * node that joins. This module only keeps the state consistent; the policy
 * calls live in simulation.ts.
 */
import { isCapable } from './capability.js'
import { CLIENT_ATTACHMENTS } from './load-report.js'
import type { Prng } from './prng.js'
import type { NodeProfile } from './simulation-population.js'

export const CLIENT = 0
export const SUPER = 1
export const OFFLINE = 2
/** A round that never comes (int32). */
export const NEVER = 0x7fffffff
export const MODES = ['off', 'auto', 'on'] as const
const K = CLIENT_ATTACHMENTS

export class SimNetwork {
  readonly slots: number
  /** Nodes online now. */
  online = 0
  // Per slot.
  readonly mode: Uint8Array
  readonly pub: Uint8Array
  readonly turn: Uint8Array
  readonly uplink: Float64Array
  /** Capable but for uptime: only these need `isCapable` each round. */
  readonly mayBeCapable: Uint8Array
  readonly capableNow: Uint8Array
  readonly joined: Int32Array
  readonly leaves: Int32Array
  /** CLIENT, SUPER or OFFLINE. */
  readonly role: Uint8Array
  readonly roleSince: Int32Array
  readonly stepping: Uint8Array
  /** Bumped whenever a slot stops being the supernode clients attached to. */
  readonly epoch: Int32Array
  // Attachments: K per client, -1 when empty, with the supernode's epoch then.
  readonly att: Int32Array
  readonly attEpoch: Int32Array
  /** Per supernode: attachments it carries now. */
  readonly clients: Int32Array
  /** Live supernodes, dense; snPos maps a slot to its index or -1. */
  readonly snList: Int32Array
  readonly snPos: Int32Array
  snCount = 0
  /** Offline slots, a stack. */
  private readonly free: Int32Array
  private freeCount = 0

  constructor(slots: number) {
    this.slots = slots
    this.mode = new Uint8Array(slots)
    this.pub = new Uint8Array(slots)
    this.turn = new Uint8Array(slots)
    this.uplink = new Float64Array(slots)
    this.mayBeCapable = new Uint8Array(slots)
    this.capableNow = new Uint8Array(slots)
    this.joined = new Int32Array(slots)
    this.leaves = new Int32Array(slots).fill(NEVER)
    this.role = new Uint8Array(slots).fill(OFFLINE)
    this.roleSince = new Int32Array(slots)
    this.stepping = new Uint8Array(slots)
    this.epoch = new Int32Array(slots)
    this.att = new Int32Array(slots * K).fill(-1)
    this.attEpoch = new Int32Array(slots * K)
    this.clients = new Int32Array(slots)
    this.snList = new Int32Array(slots)
    this.snPos = new Int32Array(slots).fill(-1)
    this.free = new Int32Array(slots)
    for (let i = slots - 1; i >= 0; i--) this.free[this.freeCount++] = i
  }

  /** An offline slot for a joining node, or -1 when every slot is taken. */
  takeFreeSlot(): number {
    return this.freeCount > 0 ? this.free[--this.freeCount]! : -1
  }

  /** A node comes online in slot `i` (taken from takeFreeSlot or just vacated) as a client. */
  place(i: number, p: NodeProfile, r: number): void {
    this.mode[i] = p.mode
    this.pub[i] = p.publicReachable ? 1 : 0
    this.turn[i] = p.turnReachable ? 1 : 0
    this.uplink[i] = p.uplinkKbps
    this.mayBeCapable[i] = isCapable({
      mode: MODES[p.mode],
      publicReachable: p.publicReachable,
      turnReachable: p.turnReachable,
      uplinkKbps: p.uplinkKbps,
      uptimeMs: Number.POSITIVE_INFINITY,
    })
      ? 1
      : 0
    this.capableNow[i] = 0
    this.joined[i] = r - p.ageRounds
    const end = r - p.ageRounds + p.sessionRounds
    this.leaves[i] = Number.isFinite(end) ? end : NEVER
    if (this.role[i] === OFFLINE) this.online++
    this.role[i] = CLIENT
    this.roleSince[i] = this.joined[i]!
    this.stepping[i] = 0
    this.bumpEpoch(i)
    this.att.fill(-1, i * K, i * K + K)
  }

  /** The node in slot `i` leaves abruptly; a supernode's clients find out when they look. */
  leave(i: number): void {
    if (this.role[i] === SUPER) this.removeSupernode(i)
    else this.detachAll(i)
    this.role[i] = OFFLINE
    this.leaves[i] = NEVER
    this.online--
  }

  /** Slot `i`, just left, stays empty. */
  release(i: number): void {
    this.free[this.freeCount++] = i
  }

  makeSupernode(i: number, r: number): void {
    this.detachAll(i)
    this.role[i] = SUPER
    this.roleSince[i] = r
    this.stepping[i] = 0
    this.clients[i] = 0
    this.bumpEpoch(i)
    this.snPos[i] = this.snCount
    this.snList[this.snCount++] = i
  }

  makeClient(i: number, r: number): void {
    this.removeSupernode(i)
    this.role[i] = CLIENT
    this.roleSince[i] = r
  }

  /** True when the attachment (slot, epoch) still points at the same live supernode. */
  live(sn: number, epoch: number): boolean {
    return this.role[sn] === SUPER && this.epoch[sn] === epoch
  }

  /** Uptime of slot `i`'s node in rounds. */
  uptime(i: number, r: number): number {
    return r - this.joined[i]!
  }

  /**
   * Apply a client's attachment plan. `detach` and `keep` hold only live
   * supernodes it was attached to; `attach` only live ones it was not.
   */
  applyPlan(
    i: number,
    keep: readonly number[],
    attach: readonly number[],
    detach: readonly number[],
  ): void {
    for (const sn of detach) this.addClients(sn, -1)
    for (const sn of attach) this.addClients(sn, 1)
    for (let k = 0; k < K; k++) {
      const sn = k < keep.length ? keep[k] : attach[k - keep.length]
      this.att[i * K + k] = sn ?? -1
      this.attEpoch[i * K + k] = sn == null ? 0 : this.epoch[sn]!
    }
  }

  addClients(sn: number, by: number): void {
    this.clients[sn] = this.clients[sn]! + by
  }

  /** Up to m distinct entries of list[0..len), never `except`, in random order. */
  pick(rng: Prng, list: ArrayLike<number>, len: number, m: number, except: number): number[] {
    const out: number[] = []
    if (len <= m + 1) {
      const start = rng.int(Math.max(1, len))
      for (let j = 0; j < len && out.length < m; j++) {
        const v = list[(start + j) % len]!
        if (v !== except) out.push(v)
      }
      return out
    }
    while (out.length < m) {
      const v = list[rng.int(len)]!
      if (v !== except && !out.includes(v)) out.push(v)
    }
    return out
  }

  private removeSupernode(i: number): void {
    const j = this.snPos[i]!
    const last = this.snList[--this.snCount]!
    this.snList[j] = last
    this.snPos[last] = j
    this.snPos[i] = -1
    this.stepping[i] = 0
    this.clients[i] = 0
    this.bumpEpoch(i)
  }

  private detachAll(i: number): void {
    for (let k = i * K; k < i * K + K; k++) {
      const sn = this.att[k]!
      if (sn >= 0 && this.live(sn, this.attEpoch[k]!)) this.addClients(sn, -1)
      this.att[k] = -1
    }
  }

  private bumpEpoch(i: number): void {
    this.epoch[i] = this.epoch[i]! + 1
  }
}
