/**
 * When a relayed call cannot carry video, drop the video and keep the call.
 *
 * A supernode's TURN server limits what it relays per allocation and in
 * total (src/overlay/turn/relay-limits.ts; RFC 8656 §21.3.1) and discards
 * the excess. WebRTC's congestion control (transport-wide feedback plus
 * loss-based estimation) brings the video down towards what the path
 * carries, but a relay capped below video's floor keeps losing packets, and
 * the audio sharing that allocation loses with it. So: on a relayed path,
 * while we send video, a sustained loss (or an encoder held back by bandwidth
 * at a trickle) turns our video off, and the user reads why. Direct paths
 * are left to congestion control alone. Pure; fed once per stats poll.
 */
import type { MediaPath } from '../../shared/api/contract.js'
import type { VideoQuality } from './video-quality.js'

export interface FallbackSample {
  path: MediaPath
  /** We are sending video (camera or screen). */
  sending: boolean
  /** Audio loss over the last interval, percent. */
  audioLossPercent: number | null
  video: VideoQuality
}

export interface FallbackOptions {
  /** Consecutive bad polls (one a second) before giving up on video. @default 8 */
  badPolls?: number
  /** Loss, percent, above which a poll is bad. @default 15 */
  lossPercent?: number
  /** An encoder limited by bandwidth below this, kbit/s, is a bad poll. @default 60 */
  floorKbps?: number
}

export type FallbackVerdict =
  | { drop: false }
  | { drop: true; reason: 'loss'; lossPercent: number }
  | { drop: true; reason: 'bandwidth'; kbps: number }

export class VideoFallback {
  private bad = 0
  private worst: FallbackVerdict = { drop: false }
  private readonly badPolls: number
  private readonly lossPercent: number
  private readonly floorKbps: number

  constructor(opts: FallbackOptions = {}) {
    this.badPolls = opts.badPolls ?? 8
    this.lossPercent = opts.lossPercent ?? 15
    this.floorKbps = opts.floorKbps ?? 60
  }

  /** One poll; `drop: true` once, when video should go. Resets after it. */
  sample(s: FallbackSample): FallbackVerdict {
    const verdict = this.judge(s)
    if (!verdict.drop) {
      this.bad = 0
      this.worst = verdict
      return { drop: false }
    }
    this.bad += 1
    this.worst = verdict
    if (this.bad < this.badPolls) return { drop: false }
    this.bad = 0
    return this.worst
  }

  reset(): void {
    this.bad = 0
    this.worst = { drop: false }
  }

  private judge(s: FallbackSample): FallbackVerdict {
    if (s.path !== 'relay' || !s.sending) return { drop: false }
    const out = s.video.outbound
    const losses = [s.audioLossPercent, out?.lossPercent, s.video.inbound?.lossPercent].filter(
      (n): n is number => n != null,
    )
    const loss = losses.length > 0 ? Math.max(...losses) : 0
    if (loss > this.lossPercent) return { drop: true, reason: 'loss', lossPercent: loss }
    if (out?.limitation === 'bandwidth' && out.kbps != null && out.kbps < this.floorKbps)
      return { drop: true, reason: 'bandwidth', kbps: out.kbps }
    return { drop: false }
  }
}
