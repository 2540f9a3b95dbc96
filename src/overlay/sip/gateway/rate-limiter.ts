/**
 * Per-source token buckets for the gateway (keyed by ip:port for UDP, by
 * connection for TCP), and a throttle for debug logging of bad input, so that a
 * flood costs little and cannot fill the log.
 *
 * A bucket holds up to `burst` tokens and refills at `perSecond`. A message
 * that finds a token is served. Past that the bucket runs into debt, down to
 * `-burst`: those messages are refused with 503 + Retry-After (RFC 3261
 * §21.5.4); below that the source is far above its rate and messages are
 * dropped without an answer (no reflection of the flood).
 *
 * The defaults (5,000/s, burst 10,000) leave room for a 3,000 msg/s sipp load
 * from one source; `--sip-rate N` sets perSecond = N, burst = 2N.
 */
export interface RateLimit {
  perSecond: number
  burst: number
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 5000, burst: 10_000 }

export type RateVerdict = 'ok' | 'reject' | 'drop'

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string): RateVerdict {
    const now = this.now()
    let b = this.buckets.get(key)
    if (b == null) {
      if (this.buckets.size >= this.maxKeys) this.evict(now)
      b = { tokens: this.limit.burst, at: now }
      this.buckets.set(key, b)
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond)
      b.at = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 'ok'
    }
    if (b.tokens > -this.limit.burst) {
      b.tokens -= 1
      return 'reject'
    }
    return 'drop'
  }

  /** Seconds until `key` has a token again (for Retry-After), at least 1. */
  retryAfter(key: string): number {
    const b = this.buckets.get(key)
    if (b == null || b.tokens >= 1) return 1
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond))
  }

  forget(key: string): void {
    this.buckets.delete(key)
  }

  get size(): number {
    return this.buckets.size
  }

  /** Drop buckets that have refilled completely (they hold no state), else the oldest. */
  private evict(now: number): void {
    const fullAfterMs = (this.limit.burst / this.limit.perSecond) * 1000
    for (const [k, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(k)
    if (this.buckets.size < this.maxKeys) return
    const oldest = this.buckets.keys().next()
    if (oldest.done !== true) this.buckets.delete(oldest.value)
  }
}

/**
 * At most `perWindow` log lines per `windowMs`; the rest are counted and
 * reported in one line when the next window opens.
 */
export class LogThrottle {
  private windowStart = 0
  private used = 0
  private suppressed = 0

  constructor(
    private readonly write: (msg: string) => void,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  log(msg: string): void {
    const now = this.now()
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.write(`(${this.suppressed} similar messages suppressed)`)
      this.windowStart = now
      this.used = 0
      this.suppressed = 0
    }
    if (this.used < this.perWindow) {
      this.used++
      this.write(msg)
    } else this.suppressed++
  }
}
