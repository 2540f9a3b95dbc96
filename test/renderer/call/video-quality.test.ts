/** getStats() video figures per stream, the summary the call screen shows, and the relay fallback. */
import { describe, expect, it } from 'vitest'
import { qualityFromStats } from '../../../src/renderer/call/call-quality.js'
import type { StatsEntry } from '../../../src/renderer/call/call-quality.js'
import { VideoFallback } from '../../../src/renderer/call/video-fallback.js'
import type { FallbackSample } from '../../../src/renderer/call/video-fallback.js'
import { videoFromStats, videoSummary } from '../../../src/renderer/call/video-quality.js'
import type { VideoQuality } from '../../../src/renderer/call/video-quality.js'

function report(t: number, inBytes: number, outBytes: number, lost = 0, recv = 100): StatsEntry[] {
  return [
    {
      id: 'IV',
      type: 'inbound-rtp',
      kind: 'video',
      timestamp: t,
      frameWidth: 640,
      frameHeight: 480,
      framesPerSecond: 29.97,
      framesDecoded: 90,
      bytesReceived: inBytes,
      packetsReceived: recv,
      packetsLost: lost,
    },
    { id: 'IA', type: 'inbound-rtp', kind: 'audio', packetsReceived: 50, packetsLost: 0 },
    {
      id: 'OV',
      type: 'outbound-rtp',
      kind: 'video',
      timestamp: t,
      frameWidth: 320,
      frameHeight: 240,
      framesPerSecond: 15,
      framesSent: 45,
      bytesSent: outBytes,
      qualityLimitationReason: 'bandwidth',
    },
    { id: 'RV', type: 'remote-inbound-rtp', kind: 'video', localId: 'OV', fractionLost: 0.025 },
  ]
}

describe('video quality', () => {
  it('gives resolution, frame rate and loss per stream; bitrate from the second poll', () => {
    const first = videoFromStats(report(1000, 100_000, 50_000))
    expect(first.video.inbound).toEqual({
      width: 640,
      height: 480,
      fps: 30,
      kbps: null,
      lossPercent: 0,
      frames: 90,
    })
    expect(first.video.outbound).toMatchObject({
      width: 320,
      height: 240,
      fps: 15,
      kbps: null,
      lossPercent: 2.5,
      frames: 45,
      limitation: 'bandwidth',
    })
    // One second later: 125,000 more bytes in (1 Mbit/s), 62,500 out (500 kbit/s); 10 of 110 lost.
    const next = videoFromStats(report(2000, 225_000, 112_500, 10, 200), first.snapshot)
    expect(next.video.inbound).toMatchObject({ kbps: 1000, lossPercent: 9.1 })
    expect(next.video.outbound?.kbps).toBe(500)
  })

  it('has no video streams in an audio call, and rides along in the call quality', () => {
    const audioOnly = report(1000, 0, 0).filter((s) => s.kind === 'audio')
    expect(videoFromStats(audioOnly).video).toEqual({ inbound: undefined, outbound: undefined })
    const q1 = qualityFromStats(report(1000, 100_000, 50_000))
    const q2 = qualityFromStats(report(2000, 225_000, 112_500), q1.snapshot)
    expect(q2.video.inbound?.kbps).toBe(1000)
    expect(q2.packetsReceived).toBe(50)
  })

  it('picks the busiest stream when a stopped transceiver left an idle one', () => {
    const idle: StatsEntry = { id: 'IV0', type: 'inbound-rtp', kind: 'video', bytesReceived: 10 }
    expect(videoFromStats([idle, ...report(1000, 9000, 0)]).video.inbound?.width).toBe(640)
  })

  it('summarises the known parts', () => {
    const units = {
      fps: (n: number) => `${n} fps`,
      kbps: (n: number) => `${n} kbit/s`,
      loss: (n: number) => `${n} % loss`,
    }
    const q = { width: 640, height: 480, fps: 30, kbps: 900, lossPercent: 0.5, frames: 1 }
    expect(videoSummary(q, units)).toBe('640×480 · 30 fps · 900 kbit/s · 0.5 % loss')
    const none = { width: null, height: null, fps: null, kbps: null, lossPercent: null, frames: 0 }
    expect(videoSummary(none, units)).toBe('–')
  })
})

describe('video fallback on a relay that cannot carry video', () => {
  const vq = (
    lossPercent: number | null,
    kbps: number | null,
    limitation = 'none',
  ): VideoQuality => ({
    inbound: undefined,
    outbound: { width: 640, height: 480, fps: 30, kbps, lossPercent, frames: 1, limitation },
  })
  const s = (over: Partial<FallbackSample>): FallbackSample => ({
    path: 'relay',
    sending: true,
    audioLossPercent: 0,
    video: vq(0, 800),
    ...over,
  })

  it('drops video after sustained loss on a relayed path, once', () => {
    const f = new VideoFallback({ badPolls: 3 })
    expect(f.sample(s({ video: vq(30, 80) })).drop).toBe(false)
    expect(f.sample(s({ video: vq(30, 80) })).drop).toBe(false)
    expect(f.sample(s({ video: vq(40, 80) }))).toEqual({
      drop: true,
      reason: 'loss',
      lossPercent: 40,
    })
    expect(f.sample(s({ video: vq(40, 80) })).drop).toBe(false)
  })

  it('drops video when the encoder is held at a trickle by bandwidth', () => {
    const f = new VideoFallback({ badPolls: 2 })
    f.sample(s({ video: vq(0, 20, 'bandwidth') }))
    expect(f.sample(s({ video: vq(0, 30, 'bandwidth') }))).toEqual({
      drop: true,
      reason: 'bandwidth',
      kbps: 30,
    })
  })

  it('leaves direct paths, good polls and calls without our video alone', () => {
    const f = new VideoFallback({ badPolls: 2 })
    expect(f.sample(s({ path: 'direct', video: vq(50, 10) })).drop).toBe(false)
    expect(f.sample(s({ path: 'direct', video: vq(50, 10) })).drop).toBe(false)
    expect(f.sample(s({ sending: false, audioLossPercent: 50 })).drop).toBe(false)
    f.sample(s({ audioLossPercent: 50 }))
    expect(f.sample(s({})).drop).toBe(false) // a good poll resets the count
    expect(f.sample(s({ audioLossPercent: 50 })).drop).toBe(false)
  })
})
