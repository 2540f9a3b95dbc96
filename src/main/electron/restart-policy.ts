/**
 * When to restart the node process after it dies unexpectedly: soon at
 * first, then more slowly, and not at all after a few failures in a short
 * while (a node that crashes on start would otherwise spin forever; the tray
 * then says why it is offline). Failures older than the window are forgotten,
 * so a node that ran for hours gets a fresh set of retries.
 */

export interface RestartPolicyOptions {
  /** Delay before the 1st, 2nd, ... restart within the window. */
  delaysMs?: readonly number[]
  windowMs?: number
  now?: () => number
}

export const DEFAULT_RESTART_DELAYS_MS = [1_000, 5_000, 30_000] as const
export const DEFAULT_RESTART_WINDOW_MS = 10 * 60_000

export class RestartPolicy {
  readonly #delays: readonly number[]
  readonly #windowMs: number
  readonly #now: () => number
  #failures: number[] = []

  constructor(opts: RestartPolicyOptions = {}) {
    this.#delays = opts.delaysMs ?? DEFAULT_RESTART_DELAYS_MS
    this.#windowMs = opts.windowMs ?? DEFAULT_RESTART_WINDOW_MS
    this.#now = opts.now ?? Date.now
  }

  /** Record a failure; the delay before restarting, or undefined to give up. */
  next(): number | undefined {
    const now = this.#now()
    this.#failures = this.#failures.filter((t) => now - t < this.#windowMs)
    this.#failures.push(now)
    return this.#delays[this.#failures.length - 1]
  }

  reset(): void {
    this.#failures = []
  }
}
