/**
 * What the Kaiwa app's own RTCPeerConnection receives and sends, read with
 * getStats (W3C webrtc-stats: inbound-rtp `packetsReceived`, `audioLevel`,
 * `totalAudioEnergy`; outbound-rtp `packetsSent`; the codec's `mimeType`),
 * for UI tests that must see more than the app's own call-quality summary.
 *
 * `trackPeerConnections` goes in as an init script, before the app loads: it
 * keeps a reference to each RTCPeerConnection the page constructs (the
 * subclass changes nothing else), so the test reads the app's real one.
 */
import type { Page } from 'playwright-core'

export interface PageAudioStats {
  packetsReceived: number
  packetsSent: number
  /** The inbound track's audio level now, 0..1 (0 is silence). */
  audioLevel: number
  totalAudioEnergy: number
  /** The inbound codec, e.g. `audio/opus`. */
  codec?: string
  /** The selected ICE candidate pair's remote end (`address:port`, candidate type). */
  remote?: string
}

type Tracked = { __kaiwaTestPeers?: RTCPeerConnection[] }

/** Init script: keep every RTCPeerConnection the page creates in `__kaiwaTestPeers`. */
export function trackPeerConnections(): void {
  const Native = window.RTCPeerConnection
  const peers: RTCPeerConnection[] = []
  class TrackedPeerConnection extends Native {
    constructor(config?: RTCConfiguration) {
      super(config)
      peers.push(this)
    }
  }
  window.RTCPeerConnection = TrackedPeerConnection
  ;(window as Tracked).__kaiwaTestPeers = peers
}

/** Audio stats of the newest open peer connection the app made, or null without one. */
export function pageAudioStats(page: Page): Promise<PageAudioStats | null> {
  return page.evaluate(async () => {
    const peers = (window as Tracked).__kaiwaTestPeers ?? []
    const pc = peers.filter((p) => p.connectionState !== 'closed').at(-1)
    if (pc == null) return null
    const all = new Map<string, Record<string, unknown>>()
    ;(await pc.getStats()).forEach((s: Record<string, unknown>) => all.set(s.id as string, s))
    const out: PageAudioStats = {
      packetsReceived: 0,
      packetsSent: 0,
      audioLevel: 0,
      totalAudioEnergy: 0,
    }
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0)
    for (const s of all.values()) {
      if (s.kind !== 'audio') continue
      if (s.type === 'inbound-rtp') {
        out.packetsReceived += num(s.packetsReceived)
        out.audioLevel = Math.max(out.audioLevel, num(s.audioLevel))
        out.totalAudioEnergy += num(s.totalAudioEnergy)
        const codec = all.get(s.codecId as string)?.mimeType
        if (typeof codec === 'string') out.codec = codec
      } else if (s.type === 'outbound-rtp') out.packetsSent += num(s.packetsSent)
    }
    for (const s of all.values()) {
      if (s.type !== 'transport') continue
      const pair = all.get(s.selectedCandidatePairId as string)
      const remote = all.get(pair?.remoteCandidateId as string)
      if (remote != null)
        out.remote = `${String(remote.address)}:${String(remote.port)} ${String(remote.candidateType)}`
    }
    return out
  })
}

/**
 * The strongest frequency (Hz) in what the app receives, over `ms` of its
 * inbound audio track: WebAudio's AnalyserNode (an FFT of 8192 points, about
 * 6 Hz apart at 48 kHz, dB magnitudes averaged over the window), the peak bin
 * refined by parabolic interpolation. Null without a live inbound track.
 */
export function pageHeardHz(page: Page, ms = 1000): Promise<number | null> {
  return page.evaluate(async (windowMs) => {
    const peers = (window as Tracked).__kaiwaTestPeers ?? []
    const pc = peers.filter((p) => p.connectionState !== 'closed').at(-1)
    const track = pc
      ?.getReceivers()
      .map((r) => r.track)
      .find((t) => t.kind === 'audio' && t.readyState === 'live')
    if (track == null) return null
    const ctx = new AudioContext()
    try {
      const analyser = ctx.createAnalyser()
      analyser.fftSize = 8192
      analyser.smoothingTimeConstant = 0
      ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser)
      const bins = new Float32Array(analyser.frequencyBinCount)
      const sum = new Float64Array(bins.length)
      const until = performance.now() + windowMs
      let looks = 0
      while (performance.now() < until) {
        await new Promise((r) => setTimeout(r, 50))
        analyser.getFloatFrequencyData(bins)
        for (let i = 0; i < bins.length; i++) sum[i]! += Math.max(bins[i]!, -200)
        looks++
      }
      if (looks === 0) return null
      let k = 1
      for (let i = 2; i < sum.length - 1; i++) if (sum[i]! > sum[k]!) k = i
      const [a, b, c] = [sum[k - 1]!, sum[k]!, sum[k + 1]!]
      const offset = a - 2 * b + c === 0 ? 0 : (0.5 * (a - c)) / (a - 2 * b + c)
      return ((k + offset) * ctx.sampleRate) / analyser.fftSize
    } finally {
      await ctx.close()
    }
  }, ms)
}
