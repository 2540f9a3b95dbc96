/** Fixed-window counters per id (peer, sender name); cheap, and good enough to blunt floods. */
export class RateCounter {
  private readonly windows = new Map<string, { start: number; count: number }>()
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one hit; false when `id` is over the limit in the current window. */
  hit(id: string, now: number): boolean {
    let w = this.windows.get(id)
    if (w === undefined || now - w.start >= this.windowMs || now < w.start) {
      w = { start: now, count: 0 }
      this.windows.set(id, w)
    }
    w.count++
    return w.count <= this.limit
  }

  /** Drops finished windows so the map does not grow with every id ever seen. */
  prune(now: number): void {
    for (const [id, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(id)
  }
}
