/**
 * Per-source token bucket for the TURN server: each source IP may send `ratePerS` requests per
 * second on average with bursts of `burst`. RFC 8656 §21 (security considerations) asks servers
 * to limit what a single client can make them do; this bounds the cost of auth/allocation work.
 */
export interface TokenBucketOptions {
  ratePerS: number
  burst: number
  /** Buckets untouched for this long are forgotten (bounded memory). */
  idleMs?: number
}

interface Bucket {
  tokens: number
  at: number
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly idleMs: number
  private lastSweep = 0

  constructor(private readonly opts: TokenBucketOptions) {
    this.idleMs = opts.idleMs ?? 60_000
  }

  /** Take one token for `key` at time `now` (ms); false = over the limit, drop the message. */
  take(key: string, now: number): boolean {
    this.sweep(now)
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now }
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerS)
    b.at = now
    this.buckets.set(key, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.idleMs) return
    this.lastSweep = now
    for (const [k, b] of this.buckets) if (now - b.at > this.idleMs) this.buckets.delete(k)
  }
}
