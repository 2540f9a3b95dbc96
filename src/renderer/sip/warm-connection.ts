/**
 * A peer connection that starts gathering ICE candidates before the call
 * exists, once the user shows they are about to call (they typed a user ID).
 *
 * Why: sip.js does not trickle, so the INVITE leaves only when gathering
 * ends (ice-gathering.ts), and Chromium asks TURN for a relay candidate only
 * one allocation step (~50 ms) into gathering, plus two round trips (RFC 8656
 * §6.1–6.2). Started at the Call click, that wait is most of dial → ringing;
 * started while the user types, it is over before they click. The pooled
 * candidates (`iceCandidatePoolSize`, RFC 8829 §4.1.1) are the call's: the
 * description handler adopts this connection (media-handler.ts) and
 * setLocalDescription hands them out at once.
 *
 * Costs and limits: one TURN allocation held while a warm connection waits;
 * it is closed (and the allocation released) after `idleMs` without a call,
 * and at most one exists. The microphone is not opened here: only at the call.
 */

/** What a warm connection was made with: the call's media must use the same servers. */
export interface WarmConnection {
  pc: RTCPeerConnection
  iceServers: RTCIceServer[]
}

export interface WarmConnectionsOptions {
  /** Fresh STUN/TURN servers (the node's `iceServers`). */
  iceServers: () => Promise<RTCIceServer[]>
  /** The configuration a call's connection is made with, for these servers. */
  configuration: (iceServers: RTCIceServer[]) => RTCConfiguration
  /** @default new RTCPeerConnection(config) */
  create?: (config: RTCConfiguration) => RTCPeerConnection
  /** How long a warm connection waits for a call before it is closed. @default 20_000 */
  idleMs?: number
  log?: (text: string) => void
}

interface Pending {
  servers: Promise<RTCIceServer[]>
  warm?: WarmConnection
  timer?: ReturnType<typeof setTimeout>
  closed: boolean
}

export class WarmConnections {
  private pending: Pending | undefined
  private readonly idleMs: number

  constructor(private readonly opts: WarmConnectionsOptions) {
    this.idleMs = opts.idleMs ?? 20_000
  }

  /**
   * The user is about to call: start gathering now, unless a warm connection
   * is already waiting (its idle time then starts again). Never throws.
   */
  prepare(): void {
    const p = this.pending
    if (p != null) {
      this.arm(p)
      return
    }
    const next: Pending = { servers: this.opts.iceServers(), closed: false }
    this.pending = next
    this.arm(next)
    next.servers.then(
      (iceServers) => {
        if (next.closed) return
        try {
          const config = this.opts.configuration(iceServers)
          const pc = this.opts.create?.(config) ?? new RTCPeerConnection(config)
          next.warm = { pc, iceServers }
        } catch (err) {
          this.opts.log?.(`no warm peer connection: ${String(err)}`)
          this.drop(next)
        }
      },
      () => this.drop(next),
    )
  }

  /**
   * The ICE servers of the waiting warm connection (or of the one being made),
   * to give the call the same ones; undefined when none is waiting.
   */
  iceServers(): Promise<RTCIceServer[]> | undefined {
    return this.pending?.servers
  }

  /**
   * Hand the warm connection to a call whose media uses `iceServers` (the same
   * array `iceServers()` gave). The caller owns it from then on. Undefined when
   * none is ready, or it no longer fits (other servers, already used or closed).
   */
  take(iceServers: RTCIceServer[]): RTCPeerConnection | undefined {
    const p = this.pending
    const warm = p?.warm
    if (p == null || warm == null || warm.iceServers !== iceServers) return undefined
    this.pending = undefined
    p.closed = true
    if (p.timer !== undefined) clearTimeout(p.timer)
    const pc = warm.pc
    if (pc.signalingState !== 'stable' || pc.connectionState === 'closed') {
      pc.close()
      return undefined
    }
    return pc
  }

  /** Close what is waiting (the app stops, the user signs out). */
  close(): void {
    if (this.pending != null) this.drop(this.pending)
  }

  private arm(p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer)
    p.timer = setTimeout(() => this.drop(p), this.idleMs)
  }

  private drop(p: Pending): void {
    p.closed = true
    if (p.timer !== undefined) clearTimeout(p.timer)
    p.warm?.pc.close()
    if (this.pending === p) this.pending = undefined
  }
}
