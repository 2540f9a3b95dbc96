/**
 * The TURN server's allocations keyed by 5-tuple (RFC 8656 §6), with lazy expiry (RFC 8656 §6:
 * an allocation is deleted when its lifetime runs out) and the per-user counts for the quota
 * (486, RFC 8656 §7.2), which include Allocates still binding their relay socket. UDP clients
 * are also indexed by port then address, so a ChannelData datagram finds its allocation without
 * building a key string.
 */
import type { Allocation } from './allocation.js'

/** Told of each allocation added and deleted (turn-server.ts: the threads' shared state). */
export interface AllocationTableHooks {
  added(a: Allocation): void
  deleted(a: Allocation): void
}

export class AllocationTable {
  constructor(private readonly hooks?: AllocationTableHooks) {}

  private readonly map = new Map<string, Allocation>()
  /** UDP allocations by client port; several only when clients on different IPs share a port. */
  private readonly udp = new Map<number, Allocation[]>()
  /** 5-tuples whose Allocate is binding a relay socket, with their username. */
  private readonly pending = new Map<string, string>()
  /**
   * Live allocations by relay port (one each: bindRelaySocket skips ports in use, of either
   * family, so a port names one relay whatever its family).
   */
  private readonly byRelayPort = new Map<number, Allocation>()

  get size(): number {
    return this.map.size
  }

  /** Allocations live or being created: what the server-wide cap counts. */
  get sizeWithPending(): number {
    return this.map.size + this.pending.size
  }

  /** The live allocation of a 5-tuple; an expired one is closed and removed. */
  get(key: string, now: number): Allocation | undefined {
    const a = this.map.get(key)
    return a === undefined ? undefined : this.live(a, now)
  }

  /** The live allocation of a UDP client at address:port. */
  getUdp(address: string, port: number, now: number): Allocation | undefined {
    const list = this.udp.get(port)
    if (list === undefined) return undefined
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!
      if (a.client.address === address) return this.live(a, now)
    }
    return undefined
  }

  private live(a: Allocation, now: number): Allocation | undefined {
    if (a.expires > now) return a
    this.delete(a.key)
    return undefined
  }

  add(a: Allocation): void {
    this.map.set(a.key, a)
    for (const r of a.relays) this.byRelayPort.set(r.port, a)
    this.hooks?.added(a)
    if (a.client.transport !== 'udp') return
    const list = this.udp.get(a.client.port)
    if (list) list.push(a)
    else this.udp.set(a.client.port, [a])
  }

  delete(key: string): void {
    const a = this.map.get(key)
    if (a === undefined) return
    a.close()
    this.map.delete(key)
    for (const r of a.relays)
      if (this.byRelayPort.get(r.port) === a) this.byRelayPort.delete(r.port)
    this.hooks?.deleted(a)
    const list = a.client.transport === 'udp' ? this.udp.get(a.client.port) : undefined
    if (list === undefined) return
    const rest = list.filter((x) => x !== a)
    if (rest.length) this.udp.set(a.client.port, rest)
    else this.udp.delete(a.client.port)
  }

  /** Delete expired allocations and the expired permissions of live ones. */
  sweep(now: number): void {
    for (const [k, a] of this.map) {
      if (a.expires <= now) this.delete(k)
      else a.sweep(now)
    }
  }

  closeAll(): void {
    for (const k of [...this.map.keys()]) this.delete(k)
  }

  isPending(key: string): boolean {
    return this.pending.has(key)
  }

  reserve(key: string, username: string): void {
    this.pending.set(key, username)
  }

  release(key: string): void {
    this.pending.delete(key)
  }

  /** Allocations held or being created by `username`. */
  countFor(username: string): number {
    let n = 0
    for (const a of this.map.values()) if (a.username === username) n++
    for (const u of this.pending.values()) if (u === username) n++
    return n
  }

  relayPorts(): Set<number> {
    return new Set(this.byRelayPort.keys())
  }

  /** Is `port` the relay port of a live (unexpired at `now`) allocation? */
  isRelayPort(port: number, now: number): boolean {
    const a = this.byRelayPort.get(port)
    return a !== undefined && this.live(a, now) !== undefined
  }
}
