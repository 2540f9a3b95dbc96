/**
 * Callers that ask the same question at the same time share one answer.
 *
 * Why: a busy node verifies every incoming request's sender against the
 * sender's DHT record (RFC 8224 §6.2). When the cached answer expires, every
 * request that arrives during the next network lookup would start its own
 * quorum read: at 2,000 MESSAGE/s that is thousands of concurrent DHT queries
 * for one name, which starves the very links the messages travel on.
 */
export class SingleFlight<K, V> {
  private readonly running = new Map<K, Promise<V>>()

  /** The answer of the `work` already running for `key`, or of a new one. */
  run(key: K, work: () => Promise<V>): Promise<V> {
    const existing = this.running.get(key)
    if (existing != null) return existing
    const p = work().finally(() => {
      if (this.running.get(key) === p) this.running.delete(key)
    })
    this.running.set(key, p)
    return p
  }

  isRunning(key: K): boolean {
    return this.running.has(key)
  }
}
