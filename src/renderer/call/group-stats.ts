/**
 * One group-call pair's figures from its peer connection's getStats()
 * (W3C webrtc-stats): what arrives (audio bytes and packets, decoded video
 * frames) and whether the selected candidate pair goes through a TURN relay
 * (RFC 8656) on either side. Pure, so the tests can feed it plain objects.
 */
import type { StatsEntry } from './call-quality.js'

export interface LegStats {
  audioBytes: number
  audioPackets: number
  framesDecoded: number
  /** direct, relayed (a TURN relay candidate on either end), or not known yet. */
  path: 'direct' | 'relayed' | 'unknown'
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

export function legStats(entries: readonly StatsEntry[]): LegStats {
  const byId = new Map(entries.map((e) => [e.id, e]))
  let audioBytes = 0
  let audioPackets = 0
  let framesDecoded = 0
  let pairId: string | undefined
  for (const e of entries) {
    if (e.type === 'inbound-rtp' && e.kind === 'audio') {
      audioBytes += num(e.bytesReceived)
      audioPackets += num(e.packetsReceived)
    } else if (e.type === 'inbound-rtp' && e.kind === 'video') {
      framesDecoded += num(e.framesDecoded)
    } else if (e.type === 'transport' && typeof e.selectedCandidatePairId === 'string') {
      pairId = e.selectedCandidatePairId
    }
  }
  if (pairId == null) {
    // Chromium always names it on the transport; others flag the pair instead.
    pairId = entries.find(
      (e) => e.type === 'candidate-pair' && e.selected === true && e.state === 'succeeded',
    )?.id
  }
  const pair = pairId != null ? byId.get(pairId) : undefined
  let path: LegStats['path'] = 'unknown'
  if (pair != null) {
    const local = byId.get(String(pair.localCandidateId))
    const remote = byId.get(String(pair.remoteCandidateId))
    if (local != null || remote != null)
      path =
        local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'relayed' : 'direct'
  }
  return { audioBytes, audioPackets, framesDecoded, path }
}
