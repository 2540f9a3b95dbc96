/**
 * The one state primitive of the UI: a value, a setter and subscribers. Stores
 * are created by the composition root (main.tsx) and handed down through
 * React context, so there is no global mutable state; React reads them with
 * useSyncExternalStore (see ui/use-store.ts).
 */
export interface Store<T> {
  get(): T
  /** Replace the value (or derive it from the previous one); subscribers run if it changed. */
  set(next: T | ((prev: T) => T)): void
  /** Shallow-merge into an object value. */
  patch(part: Partial<T>): void
  subscribe(listener: () => void): () => void
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial
  const listeners = new Set<() => void>()
  const set = (next: T | ((prev: T) => T)): void => {
    const v = typeof next === 'function' ? (next as (prev: T) => T)(value) : next
    if (Object.is(v, value)) return
    value = v
    for (const l of [...listeners]) {
      try {
        l()
      } catch (err) {
        console.error('store listener failed', err)
      }
    }
  }
  return {
    get: () => value,
    set,
    patch: (part) => set((prev) => ({ ...prev, ...part })),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
