/**
 * The overlay side of an anchored call: one WebRTC audio track (ICE per RFC
 * 8445, DTLS-SRTP per RFC 5764, rtcp-mux and BUNDLE as WebRTC requires).
 *
 * Why node-datachannel and not werift: it is already in the tree (it is what
 * @libp2p/webrtc runs on, so no new dependency), and libdatachannel does ICE
 * (libjuice, with STUN and TURN), DTLS and SRTP natively in C++, handing us
 * plain RTP per track. werift would add a second, pure-JS WebRTC stack doing
 * SRTP in JavaScript on the node's two busy cores.
 *
 * SIP carries whole bodies, not trickled candidates (RFC 8840 is not in
 * play), so the leg waits for ICE gathering to complete, bounded by
 * `gatherTimeoutMs`, and the SDP it returns lists every candidate found by
 * then.
 *
 * Timing on one host (both anchors in one process, as in the tests, where
 * an ICE round trip takes microseconds) exposed two races, both avoided by
 * the order in which the legs start ICE and DTLS: the answerer holds back the
 * offer's candidates briefly (holdCandidates), and the offerer takes the DTLS
 * client role (overlay-side.ts, `offer`).
 */
import ndc from 'node-datachannel'
import type { Direction, IceServer, PeerConnection, Track } from 'node-datachannel'
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Codec } from './codecs.js'
import type { MediaDirection } from './sdp.js'

export interface WebRtcLegInit {
  /** Shown in libdatachannel's logs. */
  name: string
  iceServers: IceServer[]
  /** Local address for ICE host candidates (tests pin 127.0.0.1); default: all interfaces. */
  bindAddress?: string
  /** Local UDP port range for ICE, inclusive. */
  portRange?: readonly [number, number]
  gatherTimeoutMs: number
  /** How long an answerer holds back the offer's candidates (holdCandidates). @default 250 */
  lateCandidatesMs?: number
  /** Decrypted RTP and RTCP from the far end (libdatachannel hands both to the track). */
  onPacket: (packet: Buffer) => void
}

export interface TrackSpec {
  mid: string
  direction: MediaDirection
  codecs: readonly Codec[]
  ssrc: number
  cname: string
}

const NDC_DIRECTION: Record<MediaDirection, Direction> = {
  sendrecv: 'SendRecv',
  sendonly: 'SendOnly',
  recvonly: 'RecvOnly',
  inactive: 'Inactive',
}

const LATE_CANDIDATES_MS = 250

/** An SDP without its a=candidate lines, and those candidates (RFC 8839 §5.1). */
export function splitCandidates(sdp: string): { sdp: string; candidates: string[] } {
  const candidates: string[] = []
  const kept = sdp.split(/\r?\n/).filter((line) => {
    if (!line.startsWith('a=candidate:')) return true
    candidates.push(line.slice(2))
    return false
  })
  return { sdp: kept.join('\r\n'), candidates }
}

export class WebRtcLeg {
  private track: Track | undefined
  private closed = false
  /** Waiters for the connection to settle (connected, failed or closed). */
  private readonly settleWaiters = new Set<() => void>()

  private constructor(private readonly pc: PeerConnection) {
    pc.onStateChange((state) => {
      if (state === 'connected' || state === 'failed' || state === 'closed') this.settle()
    })
  }

  /** Create a peer connection and our full offer (candidates included). */
  static async offer(
    init: WebRtcLegInit,
    spec: TrackSpec,
  ): Promise<{ leg: WebRtcLeg; sdp: string }> {
    const leg = WebRtcLeg.create(init, spec)
    try {
      const gathered = leg.gathered(init.gatherTimeoutMs)
      leg.pc.setLocalDescription('offer')
      return { leg, sdp: await gathered }
    } catch (err) {
      leg.close()
      throw err
    }
  }

  /** Create a peer connection for the far end's offer and our full answer. */
  static async answer(
    init: WebRtcLegInit,
    spec: TrackSpec,
    remoteOffer: string,
  ): Promise<{ leg: WebRtcLeg; sdp: string }> {
    const leg = WebRtcLeg.create(init, spec)
    try {
      const gathered = leg.gathered(init.gatherTimeoutMs)
      // With auto-negotiation libdatachannel answers as soon as the offer is set,
      // from the track we added under the offer's mid (and only our codecs).
      // The offer's candidates come later (holdCandidates).
      const { sdp, candidates } = splitCandidates(remoteOffer)
      leg.setRemote(sdp, 'offer')
      leg.holdCandidates(candidates, spec.mid, init.lateCandidatesMs ?? LATE_CANDIDATES_MS)
      return { leg, sdp: await gathered }
    } catch (err) {
      leg.close()
      throw err
    }
  }

  private static create(init: WebRtcLegInit, spec: TrackSpec): WebRtcLeg {
    const pc = new ndc.PeerConnection(init.name, {
      iceServers: init.iceServers,
      ...(init.bindAddress != null ? { bindAddress: init.bindAddress } : {}),
      ...(init.portRange != null
        ? { portRangeBegin: init.portRange[0], portRangeEnd: init.portRange[1] }
        : {}),
    })
    const leg = new WebRtcLeg(pc)
    try {
      const audio = new ndc.Audio(spec.mid, NDC_DIRECTION[spec.direction])
      for (const c of spec.codecs) {
        const ch = c.channels > 1 ? `/${c.channels}` : ''
        // The native binding rejects an explicit undefined profile: pass it only when there is one.
        if (c.fmtp != null) audio.addAudioCodec(c.pt, `${c.name}/${c.clock}${ch}`, c.fmtp)
        else audio.addAudioCodec(c.pt, `${c.name}/${c.clock}${ch}`)
      }
      // A signalled SSRC lets the far end demultiplex our stream without guessing (RFC 5576 §4.1).
      audio.addSSRC(spec.ssrc, spec.cname, spec.cname, `${spec.cname}-audio`)
      leg.track = pc.addTrack(audio)
      leg.track.onMessage((msg) => {
        if (!leg.closed) init.onPacket(msg)
      })
    } catch (err) {
      leg.close()
      throw new MediaNegotiationError(`cannot set up the WebRTC audio track: ${String(err)}`)
    }
    return leg
  }

  /**
   * The offerer's candidates, given to our ICE agent `delayMs` after its
   * offer (unless the offerer's own checks connected us first).
   *
   * Why: given them at once, we start checks (RFC 8445 §6.1.4) while our
   * answer is still crossing SIP, and the offerer's agent answers them before
   * it has our answer (§7.3). With both anchors in one process,
   * libdatachannel 0.23 at the offerer then now and then closes the peer
   * connection while applying our answer ("Got a remote candidate without ICE
   * transport"). Held back, our checks start after our answer has normally
   * reached the offerer, whose own checks may connect us sooner
   * (peer-reflexive, §7.3.1.3).
   */
  private holdCandidates(candidates: readonly string[], mid: string, delayMs: number): void {
    if (candidates.length === 0) return
    const timer = setTimeout(() => {
      if (this.closed || this.pc.state() === 'connected') return
      for (const c of candidates) {
        try {
          this.pc.addRemoteCandidate(c, mid)
        } catch {
          // a candidate libjuice cannot use (another address family, say) is skipped
        }
      }
    }, delayMs)
    timer.unref()
  }

  /** The far end's answer to our offer. */
  acceptAnswer(sdp: string): void {
    this.setRemote(sdp, 'answer')
  }

  private setRemote(sdp: string, type: 'offer' | 'answer'): void {
    try {
      this.pc.setRemoteDescription(sdp, type)
    } catch (err) {
      throw new MediaNegotiationError(`the far end's WebRTC ${type} was refused: ${String(err)}`)
    }
  }

  /** Resolves with the local description once gathering completes or the bound passes. */
  private gathered(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer)
        const local = this.closed ? null : this.pc.localDescription()
        if (local == null)
          reject(new MediaNegotiationError('no local WebRTC description was produced'))
        else resolve(local.sdp)
      }
      const timer = setTimeout(finish, timeoutMs)
      this.pc.onGatheringStateChange((state) => {
        if (state === 'complete') finish()
      })
    })
  }

  /**
   * Resolves once ICE and DTLS are up (or failed, or the leg closed), or after
   * `timeoutMs`: never rejects, since media may still come up later.
   */
  connected(timeoutMs: number): Promise<void> {
    if (this.closed || ['connected', 'failed', 'closed'].includes(this.pc.state()))
      return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.settleWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.settleWaiters.add(done)
    })
  }

  private settle(): void {
    for (const done of [...this.settleWaiters]) done()
  }

  /** True when libdatachannel took the packet (the track is open). */
  send(packet: Buffer): boolean {
    const t = this.track
    if (t == null || this.closed || !t.isOpen()) return false
    try {
      return t.sendMessageBinary(packet)
    } catch {
      return false
    }
  }

  get connectionState(): string {
    return this.closed ? 'closed' : this.pc.state()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.settle()
    try {
      this.track?.close()
    } catch {
      // the peer connection may already have closed it
    }
    try {
      this.pc.close()
    } catch {
      // already closed
    }
  }
}
