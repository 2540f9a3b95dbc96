/**
 * A call's ICE restarts through sip.js (issue 13 §8, roaming). The policy
 * (ice-restart-policy.ts) decides when; this sends the restart and answers
 * the other end's, using sip.js's own session description handler:
 *
 * - Our restart: a re-INVITE whose offer is made with
 *   `createOffer({ iceRestart: true })` (sip.js's `offerOptions`), so it
 *   carries a new ice-ufrag/ice-pwd (RFC 8445 §2.4, RFC 8839 §4.4.1.1.1);
 *   sip.js waits for the new candidates before it sends it (no trickle).
 * - Glare while our offer is still being made: sip.js answers a crossing
 *   re-INVITE with 491 only once ours is sent (its dialog then holds the
 *   client transaction). Before that it would apply the peer's offer on top
 *   of our half-made one. RFC 3261 §14.2 says a UAS that receives an INVITE
 *   "while an INVITE it had sent on that dialog is in progress MUST return a
 *   491", so we do so from the start of ours.
 * - The peer's restart: Chromium still reports gathering `complete` when our
 *   answer to an ICE-restart offer is set, so sip.js would send the answer at
 *   once with no candidates of the new generation. For such an offer (its
 *   ice-ufrag differs from the current remote one) the answer is made with
 *   the same `iceRestart` option, which makes sip.js wait for the new
 *   gathering (media-handler.ts ends it early as for any offer).
 * - The app's own network-change signals (`online`, Network Information
 *   `change`, where the browser has them) restart at once.
 */
import { RequestPendingError, SessionState } from 'sip.js'
import { formatReason } from '../../shared/sip/reason-header.js'
import type { Core, Session, Web } from 'sip.js'
import { IceRestartPolicy } from './ice-restart-policy.js'
import type { IceRestartPolicyOptions, RecoveryState, RestartResult } from './ice-restart-policy.js'

type InviteHandler = (request: Core.IncomingInviteRequest) => void

/** Quiet time after the last network-change event before the restart. */
export const NETWORK_SETTLE_MS = 1_000
/** How often the media path is sampled (getStats) to tell a live pair from a dead one. */
const MEDIA_SAMPLE_MS = 500

export interface CallRecoveryOptions {
  ownsCallId: boolean
  onState(state: RecoveryState): void
  log(text: string): void
  /** Subscribe to the device's network changes; @default browserNetworkChanges */
  networkChanges?: (cb: () => void) => () => void
  /** Policy tuning (tests). */
  policy?: Partial<
    Omit<IceRestartPolicyOptions, 'restart' | 'connected' | 'ownsCallId' | 'onState'>
  >
}

/** The `a=ice-ufrag` of an SDP body (the session-level or first media one). */
export function iceUfrag(sdp: string | undefined): string | undefined {
  return /^a=ice-ufrag:(\S+)\s*$/m.exec(sdp ?? '')?.[1]
}

/** An offer whose ICE credentials differ from the current remote ones restarts ICE (RFC 8839 §4.4.1.1.1). */
export function isIceRestartOffer(
  offer: string | undefined,
  currentRemote: string | undefined,
): boolean {
  const next = iceUfrag(offer)
  const now = iceUfrag(currentRemote)
  return next != null && now != null && next !== now
}

/** `online` and the Network Information API's `change`, where this browser has them. */
export function browserNetworkChanges(cb: () => void): () => void {
  if (typeof window === 'undefined') return () => {}
  const conn = (navigator as Navigator & { connection?: EventTarget }).connection
  window.addEventListener('online', cb)
  conn?.addEventListener('change', cb)
  return () => {
    window.removeEventListener('online', cb)
    conn?.removeEventListener('change', cb)
  }
}

export class CallRecovery {
  private readonly policy: IceRestartPolicy
  /** Our restart offer is being made (before sip.js sends it). */
  private preparing = false
  private pc: RTCPeerConnection | undefined
  private readonly offs: Array<() => void> = []
  private lastBytes = -1
  private lastGrowth = 0

  constructor(
    private readonly session: Session,
    private readonly opts: CallRecoveryOptions,
  ) {
    this.policy = new IceRestartPolicy({
      ...opts.policy,
      ownsCallId: opts.ownsCallId,
      onState: (s) => {
        opts.onState(s)
        if (s === 'lost') this.hangUp()
      },
      connected: () => this.connected(),
      restart: () => this.restart(),
    })
    this.interceptInvites()
  }

  get reconnecting(): boolean {
    return this.policy.reconnecting
  }

  /** Start watching the call's peer connection (once the call is established). */
  attach(pc: RTCPeerConnection): void {
    if (this.pc != null) return
    this.pc = pc
    const onIce = (): void => {
      this.opts.log(`ICE ${pc.iceConnectionState}`)
      this.policy.iceState(pc.iceConnectionState)
    }
    pc.addEventListener('iceconnectionstatechange', onIce)
    this.offs.push(() => pc.removeEventListener('iceconnectionstatechange', onIce))
    const poll = setInterval(() => void this.sample(pc), MEDIA_SAMPLE_MS)
    this.offs.push(() => clearInterval(poll))
    // A move fires several events (the old network goes, the new one comes): restart once
    // the last one is NETWORK_SETTLE_MS old, so that gathering finds the new interface.
    let settle: ReturnType<typeof setTimeout> | undefined
    const watch = this.opts.networkChanges ?? browserNetworkChanges
    this.offs.push(
      watch(() => {
        clearTimeout(settle)
        settle = setTimeout(() => {
          this.opts.log('the network changed: restarting ICE')
          this.policy.networkChanged()
        }, NETWORK_SETTLE_MS)
      }),
      () => clearTimeout(settle),
    )
  }

  /**
   * ICE connected and, where the far end sends media, bytes arriving: after a
   * move Chromium may report "connected" over a pair that died, and an ICE
   * restart that succeeds over the old pair's corpse fires no state change.
   */
  private connected(): boolean {
    const st = this.pc?.iceConnectionState
    if (st !== 'connected' && st !== 'completed') return false
    const receiving = this.pc
      ?.getTransceivers()
      .some((t) => t.currentDirection === 'sendrecv' || t.currentDirection === 'recvonly')
    return receiving !== true || performance.now() - this.lastGrowth < MEDIA_SAMPLE_MS * 3
  }

  /** Bytes received on the peer connection's transports: growing means the path works. */
  private async sample(pc: RTCPeerConnection): Promise<void> {
    let bytes = 0
    try {
      ;(await pc.getStats()).forEach((s: { type?: string; bytesReceived?: number }) => {
        if (s.type === 'transport') bytes += s.bytesReceived ?? 0
      })
    } catch {
      return
    }
    if (bytes > this.lastBytes) this.lastGrowth = performance.now()
    this.lastBytes = bytes
    // Media back while recovering: let the policy look again (no ICE event may come).
    if (this.policy.reconnecting) this.policy.iceState(pc.iceConnectionState)
  }

  dispose(): void {
    this.policy.dispose()
    for (const off of this.offs.splice(0)) off()
  }

  /** Gave up: BYE with the cause (RFC 3326), which may not get through; the call ends here anyway. */
  private hangUp(): void {
    this.dispose()
    const s = this.session
    if (s.state !== SessionState.Established) return
    const reason = formatReason(480, 'the network changed and the call could not reconnect')
    s.bye({ requestOptions: { extraHeaders: [`Reason: ${reason}`] } }).catch((err: unknown) => {
      this.opts.log(`BYE after the network was lost: ${String(err)}`)
      void s.dispose().catch(() => {})
    })
  }

  /** One re-INVITE with an ICE-restart offer, keeping the hold state of the last offer. */
  private async restart(): Promise<RestartResult> {
    const s = this.session
    if (s.state !== SessionState.Established) return 'failed'
    const before =
      s.sessionDescriptionHandlerOptionsReInvite as Web.SessionDescriptionHandlerOptions
    s.sessionDescriptionHandlerOptionsReInvite = withIceRestart(before)
    this.preparing = true
    this.opts.log(`ICE restart: re-INVITE (ICE ${this.pc?.iceConnectionState ?? '?'})`)
    try {
      return await new Promise<RestartResult>((resolve) => {
        s.invite({
          requestDelegate: {
            onAccept: () => {
              this.opts.log('ICE restart re-INVITE accepted')
              resolve('ok')
            },
            onReject: (r) => {
              const code = r.message.statusCode ?? 0
              this.opts.log(`ICE restart re-INVITE answered ${code} ${r.message.reasonPhrase}`)
              resolve(code === 491 ? 'glare' : 'failed')
            },
          },
        }).then(
          () => {
            this.preparing = false
          },
          (err: unknown) => {
            if (err instanceof RequestPendingError) return resolve('busy')
            this.opts.log(`ICE restart re-INVITE not sent: ${String(err)}`)
            resolve('failed')
          },
        )
      })
    } finally {
      this.preparing = false
      s.sessionDescriptionHandlerOptionsReInvite = before
    }
  }

  /**
   * sip.js hands in-dialog INVITEs to the session's onInviteRequest (its
   * dialog delegate calls it through `this`, so an own property takes over).
   */
  private interceptInvites(): void {
    const target = this.session as unknown as { onInviteRequest?: InviteHandler }
    if (typeof target.onInviteRequest !== 'function') return
    const original = target.onInviteRequest.bind(this.session)
    target.onInviteRequest = (request) => {
      if (this.preparing) {
        this.opts.log('re-INVITE crossed our ICE restart: 491 Request Pending')
        request.reject({ statusCode: 491 })
        return
      }
      const remote = this.pc?.remoteDescription?.sdp
      if (!isIceRestartOffer(request.message.body, remote)) return original(request)
      // sip.js reads the re-INVITE options when it starts answering: set them for this answer only.
      const s = this.session
      const before =
        s.sessionDescriptionHandlerOptionsReInvite as Web.SessionDescriptionHandlerOptions
      s.sessionDescriptionHandlerOptionsReInvite = withIceRestart(before)
      try {
        original(request)
      } finally {
        s.sessionDescriptionHandlerOptionsReInvite = before
      }
      this.policy.remoteRestart()
    }
  }
}

function withIceRestart(
  options: Web.SessionDescriptionHandlerOptions | undefined,
): Web.SessionDescriptionHandlerOptions {
  return { ...options, offerOptions: { ...options?.offerOptions, iceRestart: true } }
}
