/**
 * The gateway's media anchor (issue 12 §3): a `GatewayMedia` that makes the
 * node a media B2BUA between stock SIP phones on loopback (plain RTP/AVP) and
 * the overlay (WebRTC: ICE with the supernodes' STUN/TURN, DTLS-SRTP).
 *
 *   gateway ── cross({callId, kind, direction, sdp}) ──▶ MediaAnchor
 *                                                         ├─ pass-through calls (phone already WebRTC)
 *                                                         └─ AnchoredCall per Call-ID ─ PhoneLeg ⇄ MediaRelay ⇄ WebRtcLeg
 *
 * A phone body that already negotiates ICE and DTLS-SRTP (a=ice-ufrag and
 * a=fingerprint) is not anchored: it crosses unchanged, and so does the rest
 * of that call's SDP, so its media stays end to end.
 *
 * Resources are bounded: at most `maxCalls` anchored calls; a call whose offer
 * goes unanswered for `setupTimeoutMs`, or whose media stops for
 * `idleTimeoutMs` while it should flow, is freed and reported to `onIdle` (so
 * the gateway can end the dialog). `end()` and `close()` free everything.
 */
import { networkInterfaces } from 'node:os'
import type { Logger } from '../../shared/logger.js'
import type { GatewayMedia, SdpCrossing } from '../sip/gateway/gateway-media.js'
import { MediaNegotiationError, MediaPathError } from '../sip/gateway/gateway-media.js'
import type { AnchoredCallStats } from './anchored-call.js'
import { AnchoredCall } from './anchored-call.js'
import type { IceServerInit } from './ice-servers.js'
import { forHostFamily, hostIceFamily, toLibdatachannel } from './ice-servers.js'
import { isWebRtcSdp, parseSdp } from './sdp.js'

/** The anchor is full: still a 488 for the gateway, but distinguishable (a 503 would suit it too). */
export class MediaAnchorFullError extends MediaNegotiationError {
  static override readonly name = 'MediaAnchorFullError'
  constructor(readonly maxCalls: number) {
    super(`media anchor is full (${maxCalls} calls)`)
    this.name = MediaAnchorFullError.name
  }
}

export interface MediaAnchorOptions {
  /**
   * STUN/TURN servers for each new call's ICE, W3C `RTCIceServer` shaped (as
   * `TurnService.iceServers()` returns them). Asked once per call.
   * @default no ICE servers (host candidates only)
   */
  iceServers?: () => Promise<readonly IceServerInit[]> | readonly IceServerInit[]
  /** @default 32 */
  maxCalls?: number
  /**
   * Offer G.711 ↔ Opus transcoding (transcode/) when the phone has only G.711
   * and the far end only Opus, or the other way round. Costs CPU per call
   * (libopus as WASM); off, such calls fail with 488 "no common codec".
   * @default true
   */
  transcoding?: boolean
  /** Bound on ICE gathering before an SDP is sent with the candidates found so far. @default 2000 */
  gatherTimeoutMs?: number
  /**
   * Bound on holding the first answer from the overlay until ICE and DTLS are
   * up, so that what the phone sends at once is not lost. @default 3000
   */
  connectWaitMs?: number
  /** Free a call when no packet arrives from either leg for this long while media should flow. @default 60000 */
  idleTimeoutMs?: number
  /** Free a call whose first offer stays unanswered this long (RFC 3261 Timer C is > 3 min). @default 200000 */
  setupTimeoutMs?: number
  /** Address for ICE host candidates; tests pin 127.0.0.1. @default all interfaces */
  bindAddress?: string
  /** UDP ports for ICE, inclusive. @default any */
  icePortRange?: readonly [number, number]
  /** UDP ports for the phone-side RTP sockets on 127.0.0.1, inclusive. @default any */
  rtpPortRange?: readonly [number, number]
  /** A call the anchor freed on its own (idle or setup timeout): the gateway should end the dialog. */
  onIdle?: (callId: string, why: 'idle' | 'setup-timeout') => void
  log?: Logger
  now?: () => number
}

/** Bound on remembered pass-through Call-IDs when the gateway never calls end(). */
const MAX_PASSTHROUGH = 1024

export class MediaAnchor implements GatewayMedia {
  private readonly calls = new Map<string, AnchoredCall>()
  /** Calls being set up (socket opening): counted against maxCalls. */
  private readonly opening = new Map<string, Promise<AnchoredCall>>()
  private readonly passthrough = new Set<string>()
  /** Calls ended while their socket was still opening. */
  private readonly cancelled = new Set<string>()
  private readonly sweep: ReturnType<typeof setInterval>
  private closed = false
  private idleListener: ((callId: string, reason: string) => void) | undefined
  private readonly maxCalls: number
  private readonly idleTimeoutMs: number
  private readonly setupTimeoutMs: number
  private readonly now: () => number

  constructor(private readonly options: MediaAnchorOptions = {}) {
    this.maxCalls = options.maxCalls ?? 32
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000
    this.setupTimeoutMs = options.setupTimeoutMs ?? 200_000
    this.now = options.now ?? Date.now
    const every = Math.max(50, Math.min(this.idleTimeoutMs, this.setupTimeoutMs) / 4)
    this.sweep = setInterval(() => this.expire(), every)
    this.sweep.unref()
  }

  async cross(crossing: SdpCrossing): Promise<string> {
    if (this.closed) throw new MediaNegotiationError('the media anchor is closed')
    const { callId, kind, direction, sdp } = crossing
    if (this.passthrough.has(callId)) return sdp
    const existing =
      this.calls.get(callId) ?? (await this.opening.get(callId)?.catch(() => undefined))
    if (
      existing == null &&
      kind === 'offer' &&
      direction === 'phone-to-overlay' &&
      phoneIsWebRtc(sdp)
    ) {
      this.rememberPassthrough(callId)
      return sdp
    }
    if (existing == null && kind === 'answer') {
      throw new MediaNegotiationError('an SDP answer for a call with no offer at the media anchor')
    }
    const call = existing ?? (await this.open(callId))
    try {
      if (kind === 'offer') {
        return direction === 'phone-to-overlay'
          ? await call.phoneOffer(sdp)
          : call.overlayOffer(sdp)
      }
      return direction === 'overlay-to-phone'
        ? await call.overlayAnswer(sdp)
        : await call.phoneAnswer(sdp)
    } catch (err) {
      // A call whose first offer or first answer failed holds sockets for
      // nothing (the gateway answers 488 and the dialog never starts).
      if (
        existing == null ||
        (kind === 'answer' && call.negotiating) ||
        err instanceof MediaPathError
      )
        this.end(callId)
      if (err instanceof MediaNegotiationError) throw err
      throw new MediaNegotiationError(`media anchor failed: ${String(err)}`)
    }
  }

  end(callId: string): void {
    this.passthrough.delete(callId)
    if (this.opening.has(callId)) this.cancelled.add(callId)
    const call = this.calls.get(callId)
    if (call == null) return
    this.calls.delete(callId)
    call.close()
    this.options.log?.debug(`media anchor: freed ${callId}`)
  }

  whenIdle(listener: (callId: string, reason: string) => void): void {
    this.idleListener = listener
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweep)
    await Promise.allSettled([...this.opening.values()])
    for (const id of [...this.calls.keys()]) this.end(id)
    this.passthrough.clear()
  }

  /** Counters of one anchored call, undefined when it is not anchored here. */
  stats(callId: string): AnchoredCallStats | undefined {
    return this.calls.get(callId)?.stats()
  }

  /** Counters of every anchored call. */
  allStats(): AnchoredCallStats[] {
    return [...this.calls.values()].map((c) => c.stats())
  }

  get size(): number {
    return this.calls.size
  }

  private async open(callId: string): Promise<AnchoredCall> {
    if (this.calls.size + this.opening.size >= this.maxCalls)
      throw new MediaAnchorFullError(this.maxCalls)
    const opening = (async () => {
      const all = await this.iceServers()
      const servers = toLibdatachannel(forHostFamily(all, hostIceFamily(networkInterfaces())))
      return AnchoredCall.open({
        callId,
        webrtc: {
          iceServers: servers,
          gatherTimeoutMs: this.options.gatherTimeoutMs ?? 2000,
          ...(this.options.bindAddress != null ? { bindAddress: this.options.bindAddress } : {}),
          ...(this.options.icePortRange != null ? { portRange: this.options.icePortRange } : {}),
        },
        ...(this.options.rtpPortRange != null ? { rtpPortRange: this.options.rtpPortRange } : {}),
        transcoding: this.options.transcoding ?? true,
        ...(this.options.connectWaitMs != null
          ? { connectWaitMs: this.options.connectWaitMs }
          : {}),
        now: this.now,
      })
    })()
    this.opening.set(callId, opening)
    try {
      const call = await opening
      if (this.closed || this.cancelled.has(callId)) {
        call.close()
        throw new MediaNegotiationError(
          this.closed ? 'the media anchor is closed' : 'the call has ended',
        )
      }
      this.calls.set(callId, call)
      return call
    } finally {
      this.opening.delete(callId)
      this.cancelled.delete(callId)
    }
  }

  /** The configured ICE servers; without them the call still gets host candidates. */
  private async iceServers(): Promise<readonly IceServerInit[]> {
    try {
      return (await this.options.iceServers?.()) ?? []
    } catch (err) {
      this.options.log?.warn(`media anchor: no ICE servers (${String(err)}), host candidates only`)
      return []
    }
  }

  private rememberPassthrough(callId: string): void {
    if (this.passthrough.size >= MAX_PASSTHROUGH) {
      const oldest = this.passthrough.values().next().value
      if (oldest !== undefined) this.passthrough.delete(oldest)
    }
    this.passthrough.add(callId)
  }

  private expire(): void {
    const now = this.now()
    for (const [id, call] of this.calls) {
      const s = call.relay.stats()
      if (call.negotiating) {
        if (now - call.startedAt > this.setupTimeoutMs) this.free(id, 'setup-timeout')
      } else if (
        call.relay.flowing &&
        now - Math.max(s.lastPacketAt, call.settledAt) > this.idleTimeoutMs
      ) {
        this.free(id, 'idle')
      }
    }
  }

  private free(callId: string, why: 'idle' | 'setup-timeout'): void {
    this.options.log?.warn(`media anchor: ${why} on ${callId}, freeing its media`)
    this.end(callId)
    this.options.onIdle?.(callId, why)
    // Q.850 cause 102, "recovery on timer expiry" (RFC 3326 §2 allows Q.850 causes).
    const text =
      why === 'idle'
        ? `No media for ${Math.round(this.idleTimeoutMs / 1000)} s`
        : 'Call setup timed out'
    this.idleListener?.(callId, `Q.850 ;cause=102 ;text="${text}"`)
  }
}

/** A phone offer that already speaks ICE + DTLS-SRTP; unparseable bodies are anchored (and refused there). */
function phoneIsWebRtc(sdp: string): boolean {
  try {
    return isWebRtcSdp(parseSdp(sdp))
  } catch {
    return false
  }
}
