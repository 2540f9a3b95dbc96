/** getStats() figures → the quality the call screen shows and the media path it logs. */
import { describe, expect, it } from 'vitest'
import { gradeOf, mediaPath, qualityFromStats } from '../../../src/renderer/call/call-quality.js'
import type { StatsEntry } from '../../../src/renderer/call/call-quality.js'

function report(opts: {
  local?: string
  remote?: string
  rtt?: number
  jitter?: number
  received?: number
  lost?: number
  sent?: number
  viaTransport?: boolean
}): StatsEntry[] {
  const pair: StatsEntry = {
    id: 'CP1',
    type: 'candidate-pair',
    localCandidateId: 'L1',
    remoteCandidateId: 'R1',
    state: 'succeeded',
    nominated: !opts.viaTransport,
    ...(opts.rtt != null ? { currentRoundTripTime: opts.rtt } : {}),
  }
  return [
    // A pair that is not the selected one must not count.
    {
      id: 'CP0',
      type: 'candidate-pair',
      localCandidateId: 'L0',
      remoteCandidateId: 'R0',
      state: 'failed',
    },
    { id: 'L0', type: 'local-candidate', candidateType: 'relay' },
    { id: 'R0', type: 'remote-candidate', candidateType: 'relay' },
    pair,
    ...(opts.viaTransport ? [{ id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' }] : []),
    { id: 'L1', type: 'local-candidate', candidateType: opts.local ?? 'host' },
    { id: 'R1', type: 'remote-candidate', candidateType: opts.remote ?? 'host' },
    {
      id: 'IN',
      type: 'inbound-rtp',
      kind: 'audio',
      packetsReceived: opts.received ?? 0,
      packetsLost: opts.lost ?? 0,
      ...(opts.jitter != null ? { jitter: opts.jitter } : {}),
    },
    { id: 'OUT', type: 'outbound-rtp', kind: 'audio', packetsSent: opts.sent ?? 0 },
  ]
}

const byId = (entries: StatsEntry[]) => new Map(entries.map((e) => [e.id, e]))

describe('media path', () => {
  it.each([
    ['host', 'host', 'direct'],
    ['srflx', 'prflx', 'direct'],
    ['relay', 'host', 'relay'],
    ['srflx', 'relay', 'relay'],
  ])('%s ↔ %s is %s', (local, remote, path) => {
    expect(mediaPath(byId(report({ local, remote })))).toBe(path)
    expect(mediaPath(byId(report({ local, remote, viaTransport: true })))).toBe(path)
  })

  it('is unknown before a pair is selected', () => {
    expect(mediaPath(byId([{ id: 'IN', type: 'inbound-rtp', kind: 'audio' }]))).toBe('unknown')
  })

  it('takes Firefox-style `selected` pairs too', () => {
    const entries = report({ local: 'relay' }).map((e) =>
      e.id === 'CP1' ? { ...e, nominated: false, selected: true } : e,
    )
    expect(mediaPath(byId(entries))).toBe('relay')
  })
})

describe('qualityFromStats', () => {
  it('reads RTT, jitter and counters, in ms and percent', () => {
    const q = qualityFromStats(
      report({ rtt: 0.0234, jitter: 0.0031, received: 990, lost: 10, sent: 1000 }),
    )
    expect(q).toMatchObject({
      rttMs: 23,
      jitterMs: 3.1,
      lossPercent: 1,
      path: 'direct',
      packetsReceived: 990,
      packetsSent: 1000,
      grade: 'good',
      snapshot: { packetsReceived: 990, packetsLost: 10 },
    })
  })

  it('measures loss over the last interval, not the whole call', () => {
    const first = qualityFromStats(report({ received: 1000, lost: 0 }))
    expect(first.lossPercent).toBe(0)
    // 50 more received, 50 lost in the last second: 50 %, though 4.8 % overall.
    const second = qualityFromStats(report({ received: 1050, lost: 50 }), first.snapshot)
    expect(second.lossPercent).toBe(50)
    expect(second.grade).toBe('poor')
  })

  it('falls back to remote-inbound-rtp for RTT and reports nothing it cannot know', () => {
    const q = qualityFromStats([
      { id: 'RI', type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.18 },
    ])
    expect(q).toMatchObject({
      rttMs: 180,
      jitterMs: null,
      lossPercent: null,
      path: 'unknown',
      grade: 'fair',
    })
    expect(qualityFromStats([]).grade).toBe('unknown')
  })

  it('grades by the worst figure', () => {
    expect(gradeOf({ rttMs: 40, jitterMs: 5, lossPercent: 0 })).toBe('good')
    expect(gradeOf({ rttMs: 200, jitterMs: 5, lossPercent: 0 })).toBe('fair')
    expect(gradeOf({ rttMs: 40, jitterMs: 60, lossPercent: 0 })).toBe('poor')
    expect(gradeOf({ rttMs: 40, jitterMs: 5, lossPercent: 2 })).toBe('fair')
  })
})
