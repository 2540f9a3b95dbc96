/**
 * What the relay threads of one TURN server (turn-cluster.ts) share. The kernel hashes each
 * client's 5-tuple to one thread's listen socket (SO_REUSEPORT), so an allocation (RFC 8656 §6),
 * its relay sockets, permissions and channels live in the thread that got its Allocate. Shared
 * across threads:
 * - admission (AllocationArbiter, in the main thread): the server-wide cap on concurrent
 *   allocations (508, RFC 8656 §19) and the per-username quota (486, RFC 8656 §7.2), counted
 *   over all threads; a thread asks before it binds a relay and reports each allocation's end;
 * - the live relay ports (RelayPortMap, a SharedArrayBuffer): the peer policy (peer-policy.ts)
 *   lets a client reach the host's own address only at a live relay port, whichever thread
 *   owns it (two clients relayed through the same server reach each other's relayed address),
 *   and no thread binds a relay on a port another thread holds (PortsInUse).
 * Credentials (REST API HMAC, turn-credentials.ts) and nonces (HMAC with a shared key,
 * turn-auth.ts) are stateless, so every thread checks them alone.
 */

/** Admission of allocations across threads; TurnServerOptions.shared. */
export interface SharedAllocations {
  /** May `username` hold one more allocation? 0 (yes, counted now), 486 (quota) or 508 (cap). */
  admit(username: string): Promise<0 | 486 | 508>
  /** An admitted allocation ended (or was never made): count it no more. */
  release(username: string): void
  readonly relayPorts: RelayPortMap
}

/**
 * Relay ports live in any thread: one byte per port, holding the owning thread's number + 1
 * (0: none). Written with Atomics by the owner; cleared for a whole thread when it dies.
 */
export class RelayPortMap {
  private readonly owners: Uint8Array

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(65536),
    private readonly owner = 0,
  ) {
    this.owners = new Uint8Array(buffer)
  }

  mark(port: number): void {
    Atomics.store(this.owners, port, this.owner + 1)
  }

  /** Unmark `port` if this thread owns it (a port closed here may be another's by now). */
  clear(port: number): void {
    Atomics.compareExchange(this.owners, port, this.owner + 1, 0)
  }

  has(port: number): boolean {
    return Atomics.load(this.owners, port) !== 0
  }

  /** Unmark every port of thread `owner` (it died: its sockets closed with it). */
  clearOwner(owner: number): void {
    for (let p = 0; p < this.owners.length; p++) {
      Atomics.compareExchange(this.owners, p, owner + 1, 0)
    }
  }
}

/**
 * The ports a new relay must not take: this thread's own, and every port another relay thread
 * holds, of either family. A bind of a port another thread holds in the same family fails
 * anyway, but one of the other family would succeed (IPv4 and IPv6 relay sockets do not
 * conflict), and then one RelayPortMap byte would name two relays: the first to close would
 * unmark the other's live port, and the peer policy of the other threads would refuse it.
 */
export class PortsInUse extends Set<number> {
  constructor(
    own: Iterable<number>,
    private readonly others: RelayPortMap | undefined,
  ) {
    super(own)
  }

  override has(port: number): boolean {
    return super.has(port) || this.others?.has(port) === true
  }
}

/**
 * The main thread's count of allocations by thread and username: exact global caps, since one
 * thread decides every admission. A thread that dies loses its allocations, and dropOwner
 * forgets them.
 */
export class AllocationArbiter {
  private total = 0
  private readonly perUser = new Map<string, number>()
  private readonly byOwner = new Map<number, Map<string, number>>()

  constructor(
    /** Concurrent allocations over all threads (RelayCaps.maxAllocations); change at will. */
    public maxAllocations: number,
    /** Per username (TurnServerOptions.maxAllocationsPerUser). */
    private readonly quota: number,
  ) {}

  get size(): number {
    return this.total
  }

  admit(owner: number, username: string): 0 | 486 | 508 {
    if (this.total >= this.maxAllocations) return 508
    if ((this.perUser.get(username) ?? 0) >= this.quota) return 486
    this.total++
    this.perUser.set(username, (this.perUser.get(username) ?? 0) + 1)
    const mine = this.byOwner.get(owner) ?? new Map<string, number>()
    mine.set(username, (mine.get(username) ?? 0) + 1)
    this.byOwner.set(owner, mine)
    return 0
  }

  release(owner: number, username: string): void {
    const mine = this.byOwner.get(owner)
    const n = mine?.get(username) ?? 0
    if (mine === undefined || n === 0) return
    if (n === 1) mine.delete(username)
    else mine.set(username, n - 1)
    this.drop(username, 1)
  }

  dropOwner(owner: number): void {
    for (const [username, n] of this.byOwner.get(owner) ?? []) this.drop(username, n)
    this.byOwner.delete(owner)
  }

  private drop(username: string, n: number): void {
    this.total -= n
    const left = (this.perUser.get(username) ?? 0) - n
    if (left > 0) this.perUser.set(username, left)
    else this.perUser.delete(username)
  }

  /** The main thread's own SharedAllocations (thread 0, no messages). */
  local(ports: RelayPortMap, owner = 0): SharedAllocations {
    return {
      admit: (username) => Promise.resolve(this.admit(owner, username)),
      release: (username) => this.release(owner, username),
      relayPorts: ports,
    }
  }
}
