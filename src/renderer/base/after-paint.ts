/**
 * Run `fn` once the next frame has been painted: work that can wait a frame
 * (starting a tone, whose first AudioContext takes 8–12 ms in Chromium)
 * then does not hold back the screen it belongs to. A requestAnimationFrame
 * callback runs just before a paint and a task queued from it just after.
 * Hidden pages get no frames, so a timer runs `fn` anyway after `latestMs`:
 * a backgrounded window still rings. `fn` runs once.
 */
export function afterPaint(fn: () => void, latestMs = 100): void {
  let done = false
  const run = (): void => {
    if (done) return
    done = true
    clearTimeout(fallback)
    fn()
  }
  const fallback = setTimeout(run, latestMs)
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(run, 0))
}
