/**
 * Keeps this node connected to its bootstrap peers. libp2p's bootstrap module
 * dials once; a user whose bootstrap node is down needs to hear about it and to
 * be reconnected when it comes back, so unreachable addresses are retried with
 * exponential backoff (1 s doubling to 60 s, with jitter) and every failure is
 * logged with what to check.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../../shared/logger.js'
import type { KaiwaLibp2p } from './libp2p-factory.js'

export interface BootstrapDialerInit {
  node: () => KaiwaLibp2p
  addrs: string[]
  log: Logger
  minDelayMs?: number
  maxDelayMs?: number
  /** How often a connected bootstrap peer is re-checked. */
  checkIntervalMs?: number
}

export class BootstrapDialer {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private running = false
  private readonly targets: Multiaddr[]
  /** Targets whose last attempt failed, so their recovery is reported. */
  private readonly failing = new Set<Multiaddr>()

  constructor(private readonly init: BootstrapDialerInit) {
    this.targets = init.addrs.map((a) => multiaddr(a))
  }

  start(): void {
    if (this.running) return
    this.running = true
    for (const target of this.targets) void this.attempt(target, this.init.minDelayMs ?? 1000)
  }

  /**
   * Try every bootstrap peer this node is not connected to now, not at its
   * next check (the machine roamed and its connections were dropped).
   */
  retryNow(): void {
    if (!this.running) return
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const target of this.targets) void this.attempt(target, this.init.minDelayMs ?? 1000)
  }

  stop(): void {
    this.running = false
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private schedule(fn: () => void, ms: number): void {
    if (!this.running) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    t.unref?.()
    this.timers.add(t)
  }

  private async attempt(target: Multiaddr, delay: number): Promise<void> {
    if (!this.running) return
    const node = this.init.node()
    const peer = target.getComponents().find((c) => c.name === 'p2p')?.value
    // Only open ones: a connection just aborted (roaming) is listed until its close event.
    const connected =
      peer != null &&
      node.getConnections().some((c) => c.remotePeer.toString() === peer && c.status === 'open')
    const maxDelay = this.init.maxDelayMs ?? 60_000
    const minDelay = this.init.minDelayMs ?? 1000
    if (connected) {
      // libp2p itself (e.g. a relay reservation or the DHT) may have reconnected in the
      // meantime; the user was told it was unreachable, so tell them it is back.
      if (this.failing.delete(target)) {
        this.init.log.info(`connected to bootstrap ${target.toString()}`)
      }
      this.schedule(() => void this.attempt(target, minDelay), this.init.checkIntervalMs ?? 30_000)
      return
    }
    try {
      await node.dial(target, { signal: AbortSignal.timeout(10_000) })
      this.failing.delete(target)
      this.init.log.info(`connected to bootstrap ${target.toString()}`)
      this.schedule(() => void this.attempt(target, minDelay), this.init.checkIntervalMs ?? 30_000)
    } catch (err) {
      if (!this.running) return
      this.failing.add(target)
      const wait = Math.min(maxDelay, delay) * (0.8 + Math.random() * 0.4)
      this.init.log.warn(
        `bootstrap ${target.toString()} unreachable (${describe(err)}); retrying in ` +
          `${(wait / 1000).toFixed(1)} s. Check that the bootstrap node is running and the ` +
          `address (including /p2p/<peer id>) is right`,
      )
      this.schedule(() => void this.attempt(target, Math.min(maxDelay, delay * 2)), wait)
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0])
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 200)
  return String(err)
}
