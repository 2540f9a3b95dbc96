/**
 * Live call quality from RTCPeerConnection.getStats(), polled every second:
 * round-trip time, jitter, audio packet loss (over the last interval, so a bad
 * minute long ago does not colour the figure forever) and the media path of
 * the selected candidate pair: `relay` when either end is a TURN relay
 * candidate, else `direct` (host, server- or peer-reflexive: hole punched).
 * Video, per stream, is video-quality.ts's.
 */
import type { MediaPath } from '../../shared/api/contract.js'
import { videoFromStats } from './video-quality.js'
import type { VideoQuality, VideoSnapshot, VideoStatsEntry } from './video-quality.js'

/** The fields of RTCStats entries this reads (all optional: browsers differ). */
export interface StatsEntry extends VideoStatsEntry {
  id: string
  type: string
  kind?: string
  mediaType?: string
  selectedCandidatePairId?: string
  selected?: boolean
  nominated?: boolean
  state?: string
  localCandidateId?: string
  remoteCandidateId?: string
  candidateType?: string
  currentRoundTripTime?: number
  roundTripTime?: number
  jitter?: number
  packetsReceived?: number
  packetsLost?: number
  packetsSent?: number
}

/** Counters kept between polls. */
export interface StatsSnapshot {
  packetsReceived: number
  packetsLost: number
  video?: VideoSnapshot
}

export type QualityGrade = 'good' | 'fair' | 'poor' | 'unknown'

export interface CallQuality {
  rttMs: number | null
  jitterMs: number | null
  /** Loss over the last interval (or the whole call on the first poll), percent. */
  lossPercent: number | null
  path: MediaPath
  /** Audio RTP packets received and sent so far. */
  packetsReceived: number
  packetsSent: number
  grade: QualityGrade
  /** Video received and sent, per stream (video-quality.ts). */
  video: VideoQuality
  snapshot: StatsSnapshot
}

const isAudio = (s: StatsEntry): boolean => (s.kind ?? s.mediaType) === 'audio'

export function selectedPair(byId: Map<string, StatsEntry>): StatsEntry | undefined {
  const all = [...byId.values()]
  for (const t of all) {
    if (t.type === 'transport' && t.selectedCandidatePairId) {
      const p = byId.get(t.selectedCandidatePairId)
      if (p) return p
    }
  }
  const pairs = all.filter((s) => s.type === 'candidate-pair')
  return (
    pairs.find((p) => p.selected === true) ??
    pairs.find((p) => p.nominated === true && p.state === 'succeeded')
  )
}

export function mediaPath(byId: Map<string, StatsEntry>): MediaPath {
  const pair = selectedPair(byId)
  if (pair == null) return 'unknown'
  const local = pair.localCandidateId ? byId.get(pair.localCandidateId) : undefined
  const remote = pair.remoteCandidateId ? byId.get(pair.remoteCandidateId) : undefined
  if (local?.candidateType === 'relay' || remote?.candidateType === 'relay') return 'relay'
  return 'direct'
}

export function gradeOf(q: Pick<CallQuality, 'rttMs' | 'jitterMs' | 'lossPercent'>): QualityGrade {
  const { rttMs, jitterMs, lossPercent } = q
  if (rttMs == null && jitterMs == null && lossPercent == null) return 'unknown'
  // ITU-T G.114 puts one-way delay above 150 ms as noticeable; 300 ms RTT is that.
  if ((rttMs ?? 0) > 300 || (lossPercent ?? 0) > 5 || (jitterMs ?? 0) > 50) return 'poor'
  if ((rttMs ?? 0) > 150 || (lossPercent ?? 0) > 1 || (jitterMs ?? 0) > 30) return 'fair'
  return 'good'
}

export function qualityFromStats(entries: Iterable<StatsEntry>, prev?: StatsSnapshot): CallQuality {
  const byId = new Map<string, StatsEntry>()
  for (const e of entries) byId.set(e.id, e)
  const all = [...byId.values()]
  const inbound = all.filter((s) => s.type === 'inbound-rtp' && isAudio(s))
  const outbound = all.filter((s) => s.type === 'outbound-rtp' && isAudio(s))
  const sum = (list: StatsEntry[], f: (s: StatsEntry) => number | undefined): number =>
    list.reduce((n, s) => n + (f(s) ?? 0), 0)
  const packetsReceived = sum(inbound, (s) => s.packetsReceived)
  const packetsLost = Math.max(
    0,
    sum(inbound, (s) => s.packetsLost),
  )
  const packetsSent = sum(outbound, (s) => s.packetsSent)

  const pair = selectedPair(byId)
  const remoteInbound = all.find((s) => s.type === 'remote-inbound-rtp' && isAudio(s))
  const rttS = pair?.currentRoundTripTime ?? remoteInbound?.roundTripTime
  const jitterS = inbound.find((s) => s.jitter != null)?.jitter

  const dRecv = packetsReceived - (prev?.packetsReceived ?? 0)
  const dLost = packetsLost - (prev?.packetsLost ?? 0)
  const interval = prev != null && dRecv >= 0 && dLost >= 0 && dRecv + dLost > 0
  const lossPercent = interval
    ? (100 * dLost) / (dRecv + dLost)
    : packetsReceived + packetsLost > 0
      ? (100 * packetsLost) / (packetsReceived + packetsLost)
      : null

  const q = {
    rttMs: rttS != null ? Math.round(rttS * 1000) : null,
    jitterMs: jitterS != null ? Math.round(jitterS * 1000 * 10) / 10 : null,
    lossPercent: lossPercent != null ? Math.round(lossPercent * 10) / 10 : null,
  }
  const video = videoFromStats(all, prev?.video)
  return {
    ...q,
    path: mediaPath(byId),
    packetsReceived,
    packetsSent,
    grade: gradeOf(q),
    video: video.video,
    snapshot: { packetsReceived, packetsLost, video: video.snapshot },
  }
}
