/**
 * Racing dials for a file stream (file-protocol.ts `openDirect`): the first
 * attempt to give a connection wins, and a later one starts after a head
 * start unless an earlier one has already settled it, as Happy Eyeballs
 * staggers its attempts (RFC 8305 §5).
 */

/**
 * The first of `attempts` to resolve with a value; undefined once every one
 * resolved without one (or rejected: an attempt that throws counts as none).
 */
export function firstOf<T>(
  attempts: ReadonlyArray<Promise<T | undefined>>,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    let left = attempts.length
    if (left === 0) return resolve(undefined)
    const none = (): void => {
      if (--left === 0) resolve(undefined)
    }
    for (const a of attempts)
      a.then((value) => (value !== undefined ? resolve(value) : none()), none)
  })
}

const WAITED: unique symbol = Symbol('waited')

/**
 * Resolves once `earlier` has settled without a value, or after `ms`, or when
 * `signal` aborts, whichever comes first; `true` when the next attempt should
 * start (`earlier` gave no value and nothing was aborted).
 */
export async function headStart<T>(
  earlier: Promise<T | undefined>,
  ms: number,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted) return false
  let timer: ReturnType<typeof setTimeout> | undefined
  let onAbort: (() => void) | undefined
  const waited = new Promise<typeof WAITED>((resolve) => {
    timer = setTimeout(() => resolve(WAITED), ms)
    onAbort = () => resolve(WAITED)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    const first = await Promise.race([earlier.catch(() => undefined), waited])
    return !signal.aborted && (first === undefined || first === WAITED)
  } finally {
    clearTimeout(timer)
    if (onAbort) signal.removeEventListener('abort', onAbort)
  }
}
