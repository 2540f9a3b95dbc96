/**
 * Live "is this user ID free?" feedback while someone types a name to claim.
 * Each keystroke restarts a short timer; only when typing pauses does one
 * `lookup` go to the node (a DHT get costs the network something), and an
 * answer for a name no longer in the box is dropped.
 * `not_found` means available; a record means taken (or already ours).
 */
import { normalizeUserId } from '../../shared/user-id.js'

export type Availability =
  | { state: 'idle' }
  | { state: 'invalid'; input: string }
  | { state: 'checking'; name: string }
  | { state: 'available'; name: string }
  | { state: 'taken'; name: string }
  /** The name is claimed by this very account (e.g. after a restore). */
  | { state: 'yours'; name: string }
  /** The check itself failed (no supernode yet, timeout); claiming may still work. */
  | { state: 'unknown'; name: string; reason: string }

export interface AvailabilityOptions {
  /** Resolves with the record's fingerprint when the name exists; rejects with `{code}` otherwise. */
  lookup(name: string): Promise<{ fingerprint: string }>
  /** This account's fingerprint, to tell "yours" from "taken". */
  ownFingerprint?: () => string | undefined
  onChange(a: Availability): void
  /** Pause after the last keystroke before asking (default 400 ms). */
  delayMs?: number
}

export interface AvailabilityChecker {
  check(input: string): void
  dispose(): void
}

export function createAvailabilityChecker(opts: AvailabilityOptions): AvailabilityChecker {
  const delay = opts.delayMs ?? 400
  let timer: ReturnType<typeof setTimeout> | undefined
  let generation = 0
  let disposed = false

  const emit = (gen: number, a: Availability): void => {
    if (!disposed && gen === generation) opts.onChange(a)
  }

  return {
    check(input) {
      const gen = ++generation
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      if (input.trim() === '') return emit(gen, { state: 'idle' })
      let name: string
      try {
        name = normalizeUserId(input)
      } catch {
        return emit(gen, { state: 'invalid', input })
      }
      emit(gen, { state: 'checking', name })
      timer = setTimeout(() => {
        timer = undefined
        opts.lookup(name).then(
          (record) => {
            const own = opts.ownFingerprint?.()
            emit(gen, {
              state: own != null && own === record.fingerprint ? 'yours' : 'taken',
              name,
            })
          },
          (err: unknown) => {
            const code = (err as { code?: unknown } | null)?.code
            if (code === 'not_found') return emit(gen, { state: 'available', name })
            const reason = err instanceof Error ? err.message : String(err)
            emit(gen, { state: 'unknown', name, reason })
          },
        )
      }, delay)
    },
    dispose() {
      disposed = true
      if (timer !== undefined) clearTimeout(timer)
    },
  }
}
