/**
 * Ordered work per key (a Call-ID, a transaction) that stays synchronous when
 * it can: a task whose key is idle runs at once, and only a task that returns
 * a promise (an SDP body waiting for the media anchor) makes later tasks of
 * the same key wait. Messages that cross untouched thus keep the transaction
 * layer's synchronous timing, while a CANCEL or ACK never overtakes the INVITE
 * whose offer is still being anchored.
 */
export type MaybePromise<T> = T | Promise<T>

/** `f(v)` now when `v` is a value, after it resolves when it is a promise. */
export function thenMaybe<T, R>(v: MaybePromise<T>, f: (t: T) => MaybePromise<R>): MaybePromise<R> {
  return v instanceof Promise ? v.then(f) : f(v)
}

export class Lanes {
  private readonly tails = new Map<string, Promise<void>>()

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Run `task` after every earlier task of `key` (at once when there is none). */
  run(key: string, task: () => MaybePromise<void>): void {
    const tail = this.tails.get(key)
    if (tail != null) {
      this.track(key, tail.then(task))
      return
    }
    let result: MaybePromise<void>
    try {
      result = task()
    } catch (err) {
      this.onError(err)
      return
    }
    if (result instanceof Promise) this.track(key, result)
  }

  /** `task`'s result, with `task` run in `key`'s order; its failure goes to the caller. */
  value<T>(key: string, task: () => MaybePromise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.run(key, () => {
        let result: MaybePromise<T>
        try {
          result = task()
        } catch (err) {
          reject(err as Error)
          return
        }
        if (result instanceof Promise) return result.then(resolve, reject)
        resolve(result)
      })
    })
  }

  private track(key: string, p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.onError(err))
    this.tails.set(key, t)
    void t.then(() => {
      if (this.tails.get(key) === t) this.tails.delete(key)
    })
  }
}
