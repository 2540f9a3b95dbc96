/**
 * Per-stream video figures from RTCPeerConnection.getStats() (W3C
 * webrtc-stats §8.2–8.6): for what we receive (inbound-rtp) and what we send
 * (outbound-rtp) the resolution, the frame rate, the bitrate over the last
 * interval and the packet loss (inbound: our own counters; outbound: what the
 * far end reports in RTCP receiver reports, RFC 3550 §6.4.1, as
 * remote-inbound-rtp). Pure: the call controller polls and keeps the
 * counters between polls.
 */

/** The stats fields this reads (all optional: browsers differ). */
export interface VideoStatsEntry {
  id: string
  type: string
  kind?: string
  mediaType?: string
  timestamp?: number
  frameWidth?: number
  frameHeight?: number
  framesPerSecond?: number
  framesDecoded?: number
  framesSent?: number
  bytesReceived?: number
  bytesSent?: number
  packetsReceived?: number
  packetsLost?: number
  packetsSent?: number
  fractionLost?: number
  localId?: string
  qualityLimitationReason?: string
}

/** One direction of video, as the call screen shows it. */
export interface VideoStreamQuality {
  width: number | null
  height: number | null
  fps: number | null
  /** Over the last interval (null on the first poll), kbit/s. */
  kbps: number | null
  /** Loss over the last interval, or since the start on the first poll, percent. */
  lossPercent: number | null
  /** Frames decoded (inbound) or sent (outbound) so far. */
  frames: number
  /** Outbound: why the encoder holds back ('bandwidth', 'cpu', 'none', ...). */
  limitation?: string
}

export interface VideoQuality {
  inbound: VideoStreamQuality | undefined
  outbound: VideoStreamQuality | undefined
}

/** Counters kept between polls, per direction. */
export interface VideoSnapshot {
  inBytes: number
  inAt: number
  inReceived: number
  inLost: number
  outBytes: number
  outAt: number
}

const isVideo = (s: VideoStatsEntry): boolean => (s.kind ?? s.mediaType) === 'video'
const round1 = (n: number): number => Math.round(n * 10) / 10

/** The busiest stream of a type: a stopped transceiver can leave an idle entry behind. */
function busiest(
  all: VideoStatsEntry[],
  type: string,
  bytes: (s: VideoStatsEntry) => number | undefined,
): VideoStatsEntry | undefined {
  let best: VideoStatsEntry | undefined
  for (const s of all) {
    if (s.type !== type || !isVideo(s)) continue
    if (best == null || (bytes(s) ?? 0) > (bytes(best) ?? 0)) best = s
  }
  return best
}

function kbpsOver(bytes: number, at: number, prevBytes: number, prevAt: number): number | null {
  const dt = at - prevAt
  const db = bytes - prevBytes
  if (!(prevAt > 0) || dt <= 0 || db < 0) return null
  return Math.round((db * 8) / dt) // bytes per ms × 8 = kbit/s
}

/**
 * Video figures from one getStats() report; `prev` is the last poll's
 * snapshot. Absent directions (an audio call, or the camera off) are
 * undefined.
 */
export function videoFromStats(
  entries: Iterable<VideoStatsEntry>,
  prev?: VideoSnapshot,
): { video: VideoQuality; snapshot: VideoSnapshot } {
  const all = [...entries]
  const inb = busiest(all, 'inbound-rtp', (s) => s.bytesReceived)
  const out = busiest(all, 'outbound-rtp', (s) => s.bytesSent)
  const snapshot: VideoSnapshot = {
    inBytes: inb?.bytesReceived ?? 0,
    inAt: inb?.timestamp ?? 0,
    inReceived: inb?.packetsReceived ?? 0,
    inLost: Math.max(0, inb?.packetsLost ?? 0),
    outBytes: out?.bytesSent ?? 0,
    outAt: out?.timestamp ?? 0,
  }
  let inbound: VideoStreamQuality | undefined
  if (inb != null) {
    const dRecv = snapshot.inReceived - (prev?.inReceived ?? 0)
    const dLost = snapshot.inLost - (prev?.inLost ?? 0)
    const interval = prev != null && dRecv >= 0 && dLost >= 0 && dRecv + dLost > 0
    const total = snapshot.inReceived + snapshot.inLost
    const loss = interval
      ? (100 * dLost) / (dRecv + dLost)
      : total > 0
        ? (100 * snapshot.inLost) / total
        : null
    inbound = {
      width: inb.frameWidth ?? null,
      height: inb.frameHeight ?? null,
      fps: inb.framesPerSecond != null ? round1(inb.framesPerSecond) : null,
      kbps:
        prev != null ? kbpsOver(snapshot.inBytes, snapshot.inAt, prev.inBytes, prev.inAt) : null,
      lossPercent: loss != null ? round1(loss) : null,
      frames: inb.framesDecoded ?? 0,
    }
  }
  let outbound: VideoStreamQuality | undefined
  if (out != null) {
    // RFC 3550 §6.4.1: fraction lost since the previous receiver report, 0..1.
    const remote = all.find((s) => s.type === 'remote-inbound-rtp' && s.localId === out.id)
    outbound = {
      width: out.frameWidth ?? null,
      height: out.frameHeight ?? null,
      fps: out.framesPerSecond != null ? round1(out.framesPerSecond) : null,
      kbps:
        prev != null
          ? kbpsOver(snapshot.outBytes, snapshot.outAt, prev.outBytes, prev.outAt)
          : null,
      lossPercent: remote?.fractionLost != null ? round1(remote.fractionLost * 100) : null,
      frames: out.framesSent ?? 0,
      ...(out.qualityLimitationReason != null ? { limitation: out.qualityLimitationReason } : {}),
    }
  }
  return { video: { inbound, outbound }, snapshot }
}

/** "640×480 · 30 fps · 1,200 kbit/s · 0.5 % loss", the parts known. */
export function videoSummary(
  q: VideoStreamQuality,
  units: { fps(n: number): string; kbps(n: number): string; loss(n: number): string },
): string {
  const parts: string[] = []
  if (q.width != null && q.height != null) parts.push(`${q.width}×${q.height}`)
  if (q.fps != null) parts.push(units.fps(q.fps))
  if (q.kbps != null) parts.push(units.kbps(q.kbps))
  if (q.lossPercent != null) parts.push(units.loss(q.lossPercent))
  return parts.length > 0 ? parts.join(' · ') : '–'
}
