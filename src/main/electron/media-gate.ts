/**
 * What the page may capture beyond the microphone, and when (issue 14 §2,
 * §4). The camera: only after the UI asked for it in a call under way (a
 * video call, or Camera turned on; both are the user's clicks), until Camera
 * goes off or the last call ends. The screen: only a source the user picked
 * in our picker from the list we gave out in this call, handed to the page's
 * next getDisplayMedia() once, within SCREEN_CHOICE_TTL_MS. Everything closes
 * when the call gate closes (call-gate.ts) or the page goes away.
 */
import { SCREEN_CHOICE_TTL_MS } from '../../shared/api/screen-share.js'

export class MediaGate {
  #camera = false
  #listed = new Set<string>()
  #choice: { id: string; at: number } | undefined

  constructor(
    private readonly callActive: () => boolean,
    private readonly ttlMs = SCREEN_CHOICE_TTL_MS,
  ) {}

  /** The camera may be used now. */
  get camera(): boolean {
    return this.#camera && this.callActive()
  }

  /** A source was picked and not yet used: display capture may be asked for. */
  screenArmed(now: number): boolean {
    return this.callActive() && this.#choice != null && now - this.#choice.at <= this.ttlMs
  }

  /** The UI asks for the camera; false outside a call. */
  startCamera(): boolean {
    if (!this.callActive()) return false
    this.#camera = true
    return true
  }

  stopCamera(): void {
    this.#camera = false
  }

  /** The sources just listed for the picker (replacing any earlier list). */
  listed(ids: readonly string[]): void {
    this.#listed = new Set(ids)
    this.#choice = undefined
  }

  /** The user picked `id`; false unless it was listed in this call. */
  choose(id: string, now: number): boolean {
    if (!this.callActive() || !this.#listed.has(id)) return false
    this.#choice = { id, at: now }
    return true
  }

  /** The picked source for this getDisplayMedia(), used up; undefined if none (or stale). */
  take(now: number): string | undefined {
    const c = this.#choice
    this.#choice = undefined
    if (c == null || !this.callActive() || now - c.at > this.ttlMs) return undefined
    return c.id
  }

  /** The calls ended or the page went away. */
  reset(): void {
    this.#camera = false
    this.#listed = new Set()
    this.#choice = undefined
  }
}
