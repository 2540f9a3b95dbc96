/**
 * Whether a call is under way, as the UI announces it (`desktop.callStarting`
 * before it asks for the microphone, `desktop.callEnded` after hanging up).
 * The microphone permission and the power-save blocker follow it. Counted,
 * not a flag, because a second call can start (call waiting) before the first
 * ends; capped, so a confused renderer cannot pin it open with endless starts.
 * A reload or a crashed renderer resets it: nobody is left to end those calls.
 */

export const MAX_CONCURRENT_CALLS = 4

export class CallGate {
  #calls = 0
  readonly #onChange: (active: boolean) => void
  readonly #max: number

  /** `onChange` runs when the gate opens (first call) and closes (last call ended). */
  constructor(onChange: (active: boolean) => void = () => {}, max = MAX_CONCURRENT_CALLS) {
    this.#onChange = onChange
    this.#max = max
  }

  get active(): boolean {
    return this.#calls > 0
  }

  get calls(): number {
    return this.#calls
  }

  /** A call is starting; false (and no change) when already at the cap. */
  start(): boolean {
    if (this.#calls >= this.#max) return false
    this.#calls += 1
    if (this.#calls === 1) this.#onChange(true)
    return true
  }

  /** A call ended; an end without a start is ignored. */
  end(): void {
    if (this.#calls === 0) return
    this.#calls -= 1
    if (this.#calls === 0) this.#onChange(false)
  }

  reset(): void {
    if (this.#calls === 0) return
    this.#calls = 0
    this.#onChange(false)
  }
}
