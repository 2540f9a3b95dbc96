/**
 * Racing connection attempts, after Happy Eyeballs v2 (RFC 8305). A peer
 * behind a NAT lists direct addresses that may silently drop our packets
 * (its NAT's public address, its LAN) next to a relay path that always works;
 * dialled one after the other, each dead direct address costs a full
 * per-address timeout (6 s in libp2p) before the relay is tried. Here the
 * attempts overlap instead:
 *
 * - RFC 8305 §5: attempts start in order, one "Connection Attempt Delay" apart,
 *   and the next one starts at once when the one before it fails.
 * - RFC 8305 §5: the first attempt to succeed is used and the others are
 *   cancelled, except those marked `keepIfLost`: a direct path still coming up
 *   after the relay won is worth having (the caller upgrades onto it).
 *
 * Pure control flow: what an attempt dials is the caller's business
 * (link-dialer.ts), so this is tested with plain promises.
 */

/** RFC 8305 §8: "the recommended value for the Connection Attempt Delay is 250 ms". */
export const CONNECTION_ATTEMPT_DELAY_MS = 250

export interface RaceAttempt<T> {
  /** Names the attempt in logs and errors ("direct", "relay /ip4/…"). */
  readonly label: string
  run(signal: AbortSignal): Promise<T>
  /** Let it run on after another attempt wins; its late success goes to `onLateWin`. */
  readonly keepIfLost?: boolean
}

export interface RaceOptions<T> {
  /** RFC 8305 §5 Connection Attempt Delay between attempt starts. @default 250 */
  attemptDelayMs?: number
  /** Gives up the whole race (and every attempt still running). */
  signal?: AbortSignal
  /**
   * Asked after each failed attempt: something outside the race (another
   * dialler) may have connected meanwhile, and that is as good as winning.
   */
  fallback?: () => T | undefined
  /** An attempt failed; the race goes on. */
  onAttemptError?: (label: string, err: unknown) => void
  /** A `keepIfLost` attempt succeeded after the race was won. */
  onLateWin?: (value: T, label: string) => void
}

export interface RaceWin<T> {
  value: T
  /** The winning attempt's label, or 'existing' when the fallback answered. */
  label: string
}

/** Every attempt failed (each one's error is in `errors`, in attempt order). */
export class RaceFailedError extends Error {
  static override readonly name = 'RaceFailedError'
  override readonly name = RaceFailedError.name
  constructor(readonly errors: Array<{ label: string; error: unknown }>) {
    super(
      errors.length === 0
        ? 'nothing to try'
        : `every attempt failed: ${errors.map((e) => `${e.label}: ${errorText(e.error)}`).join('; ')}`,
    )
  }
}

/** Run `attempts` staggered (RFC 8305 §5); resolves with the first success. */
export function raceAttempts<T>(
  attempts: ReadonlyArray<RaceAttempt<T>>,
  opts: RaceOptions<T> = {},
): Promise<RaceWin<T>> {
  const delayMs = opts.attemptDelayMs ?? CONNECTION_ATTEMPT_DELAY_MS
  return new Promise<RaceWin<T>>((resolve, reject) => {
    const controllers = attempts.map(() => new AbortController())
    const errors: Array<{ label: string; error: unknown }> = []
    /** Attempts started and not yet finished. */
    const running = new Set<number>()
    let started = 0
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined

    // The caller's signal bounds kept attempts too, so it is watched until the
    // last attempt still running has finished.
    const onAbort = (): void => {
      for (const c of controllers) c.abort(opts.signal?.reason)
      settle(() => reject(opts.signal?.reason ?? new Error('aborted')))
    }
    const release = (): void => {
      if (settled && running.size === 0) opts.signal?.removeEventListener('abort', onAbort)
    }
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const win = (value: T, label: string, index: number): void => {
      settle(() => resolve({ value, label }))
      attempts.forEach((a, i) => {
        // Not started yet: never will be. Running and not kept: cancelled.
        if (i !== index && a.keepIfLost !== true) controllers[i]!.abort(new Error('race won'))
      })
    }
    const startNext = (): void => {
      clearTimeout(timer)
      if (settled || started >= attempts.length) return
      const index = started++
      const attempt = attempts[index]!
      const signal = controllers[index]!.signal
      running.add(index)
      attempt
        .run(signal)
        .then(
          (value) => {
            if (!settled) win(value, attempt.label, index)
            else if (!signal.aborted) opts.onLateWin?.(value, attempt.label)
          },
          (error: unknown) => {
            errors.push({ label: attempt.label, error })
            if (settled) return
            opts.onAttemptError?.(attempt.label, error)
            const existing = opts.fallback?.()
            if (existing !== undefined) return win(existing, 'existing', -1)
            // RFC 8305 §5: a failure starts the next attempt without waiting.
            if (started < attempts.length) return startNext()
            if (running.size === 1) settle(() => reject(new RaceFailedError(errors)))
          },
        )
        .finally(() => {
          running.delete(index)
          release()
        })
      if (started < attempts.length) timer = setTimeout(startNext, delayMs)
    }

    if (opts.signal?.aborted === true) return onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (attempts.length === 0) {
      settle(() => reject(new RaceFailedError([])))
      return release()
    }
    startNext()
  })
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
