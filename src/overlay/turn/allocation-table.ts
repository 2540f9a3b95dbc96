/**
 * The TURN server's allocations keyed by 5-tuple (RFC 8656 §6), with lazy expiry (RFC 8656 §6:
 * an allocation is deleted when its lifetime runs out) and the per-user counts for the quota
 * (486, RFC 8656 §7.2), which include Allocates still binding their relay socket.
 */
import type { Allocation } from './allocation.js'

export class AllocationTable {
  private readonly map = new Map<string, Allocation>()
  /** 5-tuples whose Allocate is binding a relay socket, with their username. */
  private readonly pending = new Map<string, string>()

  get size(): number {
    return this.map.size
  }

  /** The live allocation of a 5-tuple; an expired one is closed and removed. */
  get(key: string, now: number): Allocation | undefined {
    const a = this.map.get(key)
    if (a && a.expires <= now) {
      this.delete(key)
      return undefined
    }
    return a
  }

  add(a: Allocation): void {
    this.map.set(a.key, a)
  }

  delete(key: string): void {
    this.map.get(key)?.close()
    this.map.delete(key)
  }

  sweep(now: number): void {
    for (const [k, a] of this.map) if (a.expires <= now) this.delete(k)
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
    return new Set([...this.map.values()].map((a) => a.relayPort))
  }
}
