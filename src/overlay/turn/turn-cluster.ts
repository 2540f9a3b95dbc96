/**
 * A TURN server (turn-server.ts) on several threads: the main thread's own TurnServer and N-1
 * worker threads (turn-worker.ts), all listening on one UDP/TCP port with SO_REUSEPORT. The
 * kernel hashes each client's 5-tuple to one thread's socket, so an allocation, its relay sockets
 * and its data plane live in the thread that got its Allocate; what they must agree on is shared
 * (turn-shared.ts): admission against the global caps and per-user quota in this thread, live
 * relay ports in shared memory, the nonce key, and the node's addresses that XOR-RELAYED-ADDRESS
 * announces (RFC 8656 §7.3; sent to the threads when they change and before each admission
 * answer). Server-wide bandwidth (relayKbps) is split evenly: each thread relays at most
 * relayKbps / N (the kernel's hash spreads clients evenly).
 *
 * The reuseport hash depends on the number of sockets in the group: while a thread is down (a
 * crash, until its restart) the kernel maps 5-tuples over the remaining ones, and the restarted
 * thread's socket may sit where another thread's did, so clients of any thread may reach a thread
 * without their allocation. That thread answers their Refresh, CreatePermission and ChannelBind
 * with 437 Allocation Mismatch (RFC 8656 §7: no allocation for this 5-tuple) and drops their
 * ChannelData; clients allocate again (a WebRTC ICE restart). A thread that stops without close()
 * is reported on the log and restarted after a delay that grows while it keeps failing; the node
 * itself goes on.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Duplex } from 'node:stream'
import { InvalidInputError, KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { DEFAULT_RELAY_CAPS } from './relay-limits.js'
import type { RelayCaps } from './relay-limits.js'
import { TurnServer } from './turn-server.js'
import type { TurnServerOptions, TurnStats } from './turn-server.js'
import { DEFAULT_MAX_ALLOCATIONS_PER_USER } from './turn-options.js'
import { AllocationArbiter, RelayPortMap } from './turn-shared.js'
import type { PortableTurnOptions, TurnWorkerCommand, TurnWorkerMessage } from './turn-worker.js'

/** The most relay threads (RelayPortMap marks a port with a byte). */
export const MAX_TURN_THREADS = 64

/** The most relay threads a supernode starts unless told (`--turn-workers`). */
export const DEFAULT_MAX_TURN_THREADS = 4

/**
 * Relay threads by default: one per core (more would only contend for the cores and the kernel's
 * send path), at most DEFAULT_MAX_TURN_THREADS: each thread is a V8 isolate of its own, and it
 * gets an even share of the relayed-bandwidth cap (20 Mbit/s by default), which at more threads
 * is less than a few video calls. On one core the node's own thread relays alone.
 */
export function defaultTurnThreads(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(DEFAULT_MAX_TURN_THREADS, cores))
}

/** turn-worker.js is not next to this module nor in dist/ (a bundle shipped without it). */
export class TurnWorkerMissingError extends KaiwaError {
  constructor(tried: string[]) {
    super(`the TURN relay thread module is missing (looked for ${tried.join(', ')})`, 'internal')
    this.name = 'TurnWorkerMissingError'
  }
}

/** A relay thread could not listen on the shared port. */
export class TurnWorkerStartError extends KaiwaError {
  constructor(index: number, reason: string) {
    super(`TURN relay thread ${index} did not start: ${reason}`, 'unavailable')
    this.name = 'TurnWorkerStartError'
  }
}

export interface TurnClusterOptions {
  server: TurnServerOptions
  /** Relay threads in all, this one included: 2…MAX_TURN_THREADS. */
  threads: number
  log: Logger
  /** Delay before restarting a thread that stopped (doubles up to 30 s while it keeps failing). */
  restartDelayMs?: number
}

/** TurnServer.stats() of all threads, and the threads' own figures. */
export interface TurnClusterStats extends TurnStats {
  relayThreads: number
  /** Threads that stopped without close() and were restarted (or are about to be). */
  relayThreadRestarts: number
}

interface Thread {
  worker: Worker
  /** Unique per start: the arbiter's owner id (a restarted thread is a new owner). */
  owner: number
  stats: TurnStats | undefined
  startedAt: number
}

/**
 * Where turn-worker.js is: beside this module (tsc's dist/), under dist/ for the bundled CLI
 * (dist/kaiwa.bundle.mjs), or in dist/ when this module runs from src/ (the tests).
 */
export function turnWorkerUrl(base: string = import.meta.url): URL {
  const candidates = [
    './turn-worker.js',
    './overlay/turn/turn-worker.js',
    '../overlay/turn/turn-worker.js',
    '../../../dist/overlay/turn/turn-worker.js',
  ].map((c) => new URL(c, base))
  const found = candidates.find((u) => existsSync(fileURLToPath(u)))
  if (found === undefined) throw new TurnWorkerMissingError(candidates.map((u) => u.pathname))
  return found
}

/** Cumulative counters add up; the live gauge (`allocations`) does not outlive its thread. */
function add(a: TurnStats, b: TurnStats, gauges = true): TurnStats {
  const out = { ...a }
  for (const k of Object.keys(b) as (keyof TurnStats)[]) {
    if (k === 'allocations' && !gauges) continue
    out[k] = (a[k] ?? 0) + b[k]
  }
  return out
}

export class TurnCluster {
  private readonly main: TurnServer
  private readonly arbiter: AllocationArbiter
  private readonly ports = new RelayPortMap()
  private readonly nonceKey = randomBytes(32)
  private readonly threads = new Map<number, Thread>()
  private readonly workerUrl: URL
  private readonly portable: PortableTurnOptions
  private current: RelayCaps
  /** Counters of threads that stopped, so totals never go back. */
  private retired: TurnStats | undefined
  private restarts = 0
  private owners = 1
  private port = 0
  private closing = false
  private announcer: ReturnType<typeof setInterval> | undefined
  private announced: [string | undefined, string | undefined] = [undefined, undefined]

  /** Throws InvalidInputError on a thread count out of range, TurnWorkerMissingError. */
  constructor(private readonly opts: TurnClusterOptions) {
    const n = opts.threads
    if (!Number.isInteger(n) || n < 2 || n > MAX_TURN_THREADS) {
      throw new InvalidInputError(`TURN relay threads must be 2-${MAX_TURN_THREADS}, not ${n}`)
    }
    this.workerUrl = turnWorkerUrl()
    const s = opts.server
    this.current = { ...DEFAULT_RELAY_CAPS, ...s.caps }
    this.arbiter = new AllocationArbiter(
      this.current.maxAllocations,
      s.maxAllocationsPerUser ?? DEFAULT_MAX_ALLOCATIONS_PER_USER,
    )
    const {
      now: _now,
      relayedAddress: _a,
      relayedAddress6: _a6,
      shared: _s,
      reusePort: _r,
      nonceKey: _k,
      ...portable
    } = s
    this.portable = { ...portable, caps: this.share(this.current) }
    this.main = new TurnServer({
      ...s,
      caps: this.share(this.current),
      reusePort: 'claim',
      nonceKey: this.nonceKey,
      shared: this.arbiter.local(this.ports),
    })
  }

  /** One thread's part of the caps: relayKbps split evenly, maxAllocations counted globally. */
  private share(caps: RelayCaps): RelayCaps {
    return { relayKbps: caps.relayKbps / this.opts.threads, maxAllocations: caps.maxAllocations }
  }

  /** Listen in this thread (claiming the port), then start the others on the same port. */
  async listen(): Promise<{ address: string; port: number }> {
    const bound = await this.main.listen()
    this.port = bound.port
    this.announce()
    try {
      const starts = []
      for (let i = 1; i < this.opts.threads; i++) starts.push(this.start(i))
      await Promise.all(starts)
    } catch (err) {
      await this.close()
      throw err
    }
    this.announcer = setInterval(() => this.announce(), 1000)
    this.announcer.unref()
    return bound
  }

  /** Start thread `index`; resolves once it listens. */
  private start(index: number): Promise<void> {
    const owner = this.owners++
    const worker = new Worker(this.workerUrl, {
      workerData: {
        index,
        options: this.portable,
        port: this.port,
        nonceKey: this.nonceKey,
        relayPorts: this.ports.buffer,
        announces: {
          v4: this.opts.server.relayedAddress !== undefined,
          v6: this.opts.server.relayedAddress6 !== undefined,
        },
        announced: this.announced[0],
        announced6: this.announced[1],
      },
    })
    const thread: Thread = { worker, owner, stats: undefined, startedAt: Date.now() }
    this.threads.set(index, thread)
    const post = (m: TurnWorkerCommand) => worker.postMessage(m)
    return new Promise((resolve, reject) => {
      let up = false
      worker.on('message', (m: TurnWorkerMessage) => {
        if (m.t === 'stats') thread.stats = m.stats
        else if (m.t === 'admit') {
          // The node's addresses as of this Allocate first (messages arrive in order), so its
          // XOR-RELAYED-ADDRESS is as fresh as this thread's own would be: the 1 s announcer may
          // be behind, and had nothing to say before libp2p had an address.
          this.announce()
          post({ t: 'admitted', id: m.id, code: this.arbiter.admit(owner, m.username) })
        } else if (m.t === 'release') this.arbiter.release(owner, m.username)
        else if (m.t === 'listening') {
          up = true
          // Caps changed while it started.
          post({ t: 'caps', caps: this.share(this.current) })
          resolve()
        } else if (m.t === 'failed') reject(new TurnWorkerStartError(index, m.error))
      })
      worker.on('error', (err) => {
        this.opts.log.warn(`TURN relay thread ${index} failed: ${String(err)}`)
        if (!up) reject(new TurnWorkerStartError(index, String(err)))
      })
      worker.on('exit', (code) => {
        if (!up) reject(new TurnWorkerStartError(index, `exited with code ${code}`))
        this.stopped(index, thread, code, up)
      })
    })
  }

  /** Thread `index` ended: forget what it held; restart it unless closing. */
  private stopped(index: number, thread: Thread, code: number, wasUp: boolean): void {
    if (this.threads.get(index) === thread) this.threads.delete(index)
    this.arbiter.dropOwner(thread.owner)
    this.ports.clearOwner(index)
    if (thread.stats !== undefined) {
      this.retired = this.retired ? add(this.retired, thread.stats, false) : thread.stats
      this.retired = { ...this.retired, allocations: 0 }
    }
    if (this.closing || !wasUp) return
    this.restarts++
    const quick = Date.now() - thread.startedAt < 10_000
    const base = this.opts.restartDelayMs ?? 1000
    const delay = Math.min(30_000, quick ? base * 2 ** Math.min(5, this.restarts - 1) : base)
    this.opts.log.warn(
      `TURN relay thread ${index} stopped (exit code ${code}); its allocations are gone, and ` +
        `clients of every thread may get 437 until they allocate again; restarting in ${delay} ms`,
    )
    setTimeout(() => {
      if (this.closing) return
      this.start(index).then(
        () => this.opts.log.info(`TURN relay thread ${index} restarted`),
        (err: unknown) => this.opts.log.warn(String(err)),
      )
    }, delay).unref()
  }

  /** relayedAddress() / relayedAddress6() change with the node's addresses: tell the threads. */
  private announce(): void {
    // Before libp2p has started the node has no address to announce yet (announceHost throws
    // "the node has not started"): announce nothing now, the next tick will.
    const read = (f: (() => string | undefined) | undefined): string | undefined => {
      try {
        return f?.()
      } catch {
        return undefined
      }
    }
    const now: [string | undefined, string | undefined] = [
      read(this.opts.server.relayedAddress?.bind(this.opts.server)),
      read(this.opts.server.relayedAddress6?.bind(this.opts.server)),
    ]
    if (now[0] === this.announced[0] && now[1] === this.announced[1]) return
    this.announced = now
    for (const t of this.threads.values()) {
      t.worker.postMessage({ t: 'announce', announced: now[0], announced6: now[1] })
    }
  }

  setCaps(caps: Partial<RelayCaps>): void {
    const given = Object.entries(caps).filter(([, v]) => v !== undefined)
    const next: RelayCaps = { ...this.current, ...Object.fromEntries(given) }
    this.main.setCaps(this.share(next)) // throws InvalidInputError on a bad cap
    this.current = next
    this.arbiter.maxAllocations = next.maxAllocations
    for (const t of this.threads.values()) {
      t.worker.postMessage({ t: 'caps', caps: this.share(next) } satisfies TurnWorkerCommand)
    }
  }

  caps(): RelayCaps {
    return { ...this.current }
  }

  /** TLS streams from the bridge port are served in this thread (turn-server.ts). */
  acceptTlsStream(stream: Duplex, remote: { address: string; port: number }): boolean {
    return this.main.acceptTlsStream(stream, remote)
  }

  listening(): string[] {
    return this.main.listening()
  }

  listen6Error(): string | undefined {
    return this.main.listen6Error()
  }

  /**
   * The sum over threads (other threads' counters are at most STATS_INTERVAL_MS old).
   * peersServed is summed too: a peer served by two threads counts twice.
   */
  stats(): TurnClusterStats {
    let sum = this.main.stats()
    if (this.retired) sum = add(sum, this.retired, false)
    for (const t of this.threads.values()) if (t.stats) sum = add(sum, t.stats)
    return { ...sum, relayThreads: this.threads.size + 1, relayThreadRestarts: this.restarts }
  }

  /** Each thread's own counters: this one first, then the others by index (tests, benchmarks). */
  threadStats(): TurnStats[] {
    const others = [...this.threads.entries()].sort(([a], [b]) => a - b)
    return [this.main.stats(), ...others.map(([, t]) => t.stats).filter((s) => s !== undefined)]
  }

  /** The worker threads by index (1…N-1), as running now. */
  workers(): Worker[] {
    return [...this.threads.entries()].sort(([a], [b]) => a - b).map(([, t]) => t.worker)
  }

  async close(): Promise<void> {
    this.closing = true
    if (this.announcer) clearInterval(this.announcer)
    const exits = [...this.threads.values()].map(
      (t) =>
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => void t.worker.terminate(), 3000)
          t.worker.once('exit', () => {
            clearTimeout(kill)
            resolve()
          })
          t.worker.postMessage({ t: 'close' } satisfies TurnWorkerCommand)
        }),
    )
    await Promise.all(exits)
    await this.main.close()
  }
}
