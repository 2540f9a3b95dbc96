/**
 * When a call in progress restarts ICE (issue 13 §8, roaming): the laptop
 * left the office Wi-Fi for a phone's tethering, the old candidate pair is
 * dead, and the call must find a new path without anyone redialling.
 *
 * An ICE restart is a new offer with fresh ice-ufrag/ice-pwd (RFC 8445 §2.4,
 * RFC 8839 §4.4.1.1.1) sent in a re-INVITE (RFC 3261 §14). This module only
 * decides *when*; call-recovery.ts sends it through sip.js. No sip.js, no DOM:
 * the clock and the re-INVITE are given, so the rules are unit-tested.
 *
 * - Triggers: ICE `disconnected` for longer than a grace (it often comes back
 *   by itself: a lost burst, a Wi-Fi hiccup), ICE `failed` at once, and a
 *   network change the app learns of at once.
 * - One restart in flight: a trigger while a re-INVITE is out, or while its
 *   retry timer runs, changes nothing.
 * - Glare (RFC 3261 §14.1): both ends restarted at once and got 491 Request
 *   Pending. The owner of the Call-ID retries after 2.1–4 s, the other end
 *   after 0–2 s (in 10 ms units), so the other end's retry usually lands
 *   first and ours finds ICE already connected and is not sent.
 * - An answered restart gives ICE `connectTimeoutMs` to connect before the
 *   next attempt; a refused or unsendable one is retried after a backoff.
 * - The peer restarting (its offer carried new ICE credentials) counts as
 *   recovery under way: our own restart waits `connectTimeoutMs` for it.
 * - Bounded: after `maxAttempts` re-INVITEs that did not bring ICE back (491s
 *   counted apart, up to `maxGlare`), the call is lost.
 */

export type RestartResult =
  /** 2xx: the answer is applied, ICE is checking the new candidates. */
  | 'ok'
  /** 491 Request Pending: the other end's re-INVITE crossed ours. */
  | 'glare'
  /** Another re-INVITE of ours (hold, resume) is still out: try again shortly. */
  | 'busy'
  /** Any other final response, a timeout, or an offer that could not be made. */
  | 'failed'

/** `reconnecting`: media is down and a restart is under way; `lost`: gave up. */
export type RecoveryState = 'stable' | 'reconnecting' | 'lost'

export interface Timers {
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export interface IceRestartPolicyOptions {
  /** Send one re-INVITE with an ICE-restart offer; settles with its outcome. */
  restart(): Promise<RestartResult>
  /** The media path works right now (ICE connected and, where media is expected, arriving). */
  connected(): boolean
  /** This end generated the Call-ID (it placed the call): the longer 491 timer. */
  ownsCallId: boolean
  onState(state: RecoveryState): void
  /** How long `disconnected` may last before a restart. @default 2000 */
  graceMs?: number
  /** How long ICE gets to connect after a restart was answered. @default 8000 */
  connectTimeoutMs?: number
  /** Re-INVITEs (not counting 491s) before the call is lost. @default 5 */
  maxAttempts?: number
  /** 491s before the call is lost. @default 12 */
  maxGlare?: number
  /** [0, 1). @default Math.random */
  random?: () => number
  /** @default setTimeout/clearTimeout */
  timers?: Timers
}

export const DISCONNECTED_GRACE_MS = 2_000
export const CONNECT_TIMEOUT_MS = 8_000
export const MAX_RESTART_ATTEMPTS = 5
export const MAX_GLARE = 12
/** Waits after a refused or unsendable re-INVITE: 1 s, 2 s, 4 s, then 4 s. */
const BACKOFF_MS = [1_000, 2_000, 4_000]
/** Another re-INVITE of ours is out: look again soon. */
const BUSY_RETRY_MS = 500

/**
 * RFC 3261 §14.1: after a 491, "If the UAC is the owner of the Call-ID of
 * the dialog ID (meaning it generated the value), T has a randomly chosen
 * value between 2.1 and 4 seconds in units of 10 ms. If the UAC is not the
 * owner of the Call-ID of the dialog ID, T has a randomly chosen value of
 * between 0 and 2 seconds in units of 10 ms."
 */
export function glareRetryMs(ownsCallId: boolean, random: () => number = Math.random): number {
  const [lo, hi] = ownsCallId ? [210, 400] : [0, 200]
  return (lo + Math.floor(random() * (hi - lo + 1))) * 10
}

const defaultTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export class IceRestartPolicy {
  private timer: unknown
  /** `wait`: a grace or a connect wait (a new trigger cuts it short); `retry`: a retry timer (it stands). */
  private timerKind: 'wait' | 'retry' | undefined
  private inFlight = false
  private attempts = 0
  private glares = 0
  private recovering = false
  private done = false
  private readonly timers: Timers

  constructor(private readonly opts: IceRestartPolicyOptions) {
    this.timers = opts.timers ?? defaultTimers
  }

  /** Feed every `iceconnectionstatechange` here. */
  iceState(state: string): void {
    if (this.done) return
    switch (state) {
      case 'connected':
      case 'completed':
        // After a move ICE may still say "connected" over the dead pair: `connected()` decides.
        if (this.opts.connected()) this.recovered()
        return
      case 'disconnected':
        // Wait out the grace; a timer already running (grace, retry) covers it.
        if (this.recovering || this.inFlight || this.timer !== undefined) return
        this.schedule(this.opts.graceMs ?? DISCONNECTED_GRACE_MS, () => this.begin())
        return
      case 'failed':
        this.trigger()
        return
      case 'closed':
        this.dispose()
        return
      default:
      // new, checking: ICE is at work (after our restart, or the peer's).
    }
  }

  /** The device's network changed (an interface went, a new one came): the pair is likely dead. */
  networkChanged(): void {
    if (this.done) return
    this.trigger()
  }

  /**
   * The peer sent an ICE-restart offer and we answered it: recovery is under
   * way from its side; ours waits to see whether it connects.
   */
  remoteRestart(): void {
    if (this.done || this.inFlight) return
    if (this.opts.connected()) return
    this.clearTimer()
    this.markRecovering()
    this.schedule(this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, () => this.attempt())
  }

  /** Reconnecting right now (a restart out, or waiting for one to connect). */
  get reconnecting(): boolean {
    return this.recovering
  }

  dispose(): void {
    this.done = true
    this.clearTimer()
  }

  /** Restart now, unless one is out or its retry timer runs (a grace or connect wait is cut short). */
  private trigger(): void {
    if (this.inFlight || this.timerKind === 'retry') return
    this.clearTimer()
    this.begin()
  }

  /** Even with ICE still "connected": after a network change the pair is likely dead already. */
  private begin(): void {
    this.markRecovering()
    void this.attempt()
  }

  private markRecovering(): void {
    if (this.recovering) return
    this.recovering = true
    this.opts.onState('reconnecting')
  }

  private recovered(): void {
    this.clearTimer()
    this.attempts = 0
    this.glares = 0
    if (!this.recovering) return
    this.recovering = false
    this.opts.onState('stable')
  }

  private async attempt(): Promise<void> {
    if (this.done || this.inFlight) return
    this.clearTimer()
    if (this.attempts >= (this.opts.maxAttempts ?? MAX_RESTART_ATTEMPTS)) return this.lose()
    this.attempts++
    this.inFlight = true
    let result: RestartResult
    try {
      result = await this.opts.restart()
    } catch {
      result = 'failed'
    } finally {
      this.inFlight = false
    }
    if (this.done) return
    switch (result) {
      case 'ok':
        if (this.opts.connected()) return this.recovered()
        this.schedule(this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, () => this.attempt())
        return
      case 'glare':
        // A 491 is the peer restarting too, not a failed attempt; bounded apart.
        this.attempts--
        if (++this.glares > (this.opts.maxGlare ?? MAX_GLARE)) return this.lose()
        this.schedule(
          glareRetryMs(this.opts.ownsCallId, this.opts.random),
          () => this.retryUnlessConnected(),
          'retry',
        )
        return
      case 'busy':
        this.attempts--
        this.schedule(BUSY_RETRY_MS, () => this.retryUnlessConnected(), 'retry')
        return
      case 'failed': {
        const wait = BACKOFF_MS[Math.min(this.attempts - 1, BACKOFF_MS.length - 1)]!
        this.schedule(wait, () => this.retryUnlessConnected(), 'retry')
        return
      }
    }
  }

  /** A retry timer fired: the peer's restart may have done the job meanwhile. */
  private retryUnlessConnected(): void {
    if (this.opts.connected()) return this.recovered()
    void this.attempt()
  }

  private lose(): void {
    this.dispose()
    this.recovering = false
    this.opts.onState('lost')
  }

  private schedule(ms: number, fn: () => void, kind: 'wait' | 'retry' = 'wait'): void {
    this.clearTimer()
    this.timerKind = kind
    this.timer = this.timers.set(() => {
      this.timer = undefined
      this.timerKind = undefined
      if (!this.done) fn()
    }, ms)
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer)
    this.timer = undefined
    this.timerKind = undefined
  }
}
