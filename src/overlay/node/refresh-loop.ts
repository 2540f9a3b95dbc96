/**
 * Republishes this device's contact record every refresh interval, like a SIP
 * UA refreshing its registration before Expires (RFC 3261 §10.2.4), and soon
 * after the node's addresses change. Failures retry with backoff instead of
 * waiting a whole interval, so a node that started before its supernodes
 * appears in the overlay within seconds of them.
 *
 * `soon()` coalesces a burst of address changes into one republish, but a
 * steady stream of them never postpones it beyond one debounce from the first:
 * a client whose relay died publishes its new relay addresses within seconds
 * (issue 13), and a change during a republish is followed by another.
 */
import type { Logger } from '../../shared/logger.js'

export interface RefreshLoopInit {
  intervalMs: number
  run: () => Promise<void>
  log: Logger
  /** Delay before an address-change republish; coalesces bursts of updates. */
  debounceMs?: number
}

export class RefreshLoop {
  private timer: ReturnType<typeof setTimeout> | undefined
  /** The pending timer is a `soon()` one (not the interval's). */
  private soonPending = false
  private running = false
  private busy = false
  private again = false
  private failures = 0

  constructor(private readonly init: RefreshLoopInit) {}

  start(): void {
    this.running = true
    this.arm(this.init.intervalMs)
  }

  stop(): void {
    this.running = false
    if (this.timer != null) clearTimeout(this.timer)
  }

  /** Republish shortly (addresses changed, or a role change). */
  soon(): void {
    if (!this.running) return
    if (this.busy) {
      this.again = true // republish once more when the running one ends
      return
    }
    if (this.soonPending) return // one is already due within a debounce
    this.arm(this.init.debounceMs ?? 500)
    this.soonPending = true
  }

  private arm(ms: number): void {
    if (!this.running) return
    if (this.timer != null) clearTimeout(this.timer)
    this.soonPending = false
    this.timer = setTimeout(() => void this.tick(), ms)
    this.timer.unref?.()
  }

  private async tick(): Promise<void> {
    this.soonPending = false
    if (this.busy) {
      this.again = true
      return
    }
    this.busy = true
    try {
      await this.init.run()
      this.failures = 0
      this.arm(this.init.intervalMs)
    } catch (err) {
      this.failures++
      const wait = Math.min(this.init.intervalMs, 1000 * 2 ** Math.min(this.failures, 8))
      this.init.log.warn(
        `publishing the contact record failed (${String(err)}); retrying in ${wait / 1000} s`,
      )
      this.arm(wait)
    } finally {
      this.busy = false
      if (this.again) {
        this.again = false
        this.arm(0)
      }
    }
  }
}
