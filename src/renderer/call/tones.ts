/**
 * Call tones generated with WebAudio (no audio assets to ship or to allow in
 * the CSP): the incoming ringtone, the ringback heard while the other side
 * rings, and short DTMF feedback when a keypad key is pressed.
 */
export interface TonePlayer {
  /** Incoming call: repeats until stop(). */
  ring(): void
  /** Outgoing call ringing: 425 Hz, 1 s on, 4 s off (ETSI). Repeats until stop(). */
  ringback(): void
  /** One DTMF key's two frequencies (ITU-T Q.23), 120 ms. */
  dtmf(key: string): void
  stop(): void
  /** Play through this output device where the browser can (AudioContext.setSinkId). */
  setSink(deviceId: string | undefined): void
}

const DTMF: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
} // prettier-ignore

type SinkContext = AudioContext & { setSinkId?: (id: string) => Promise<void> }

export function createTonePlayer(
  makeContext: () => AudioContext = () => new AudioContext(),
): TonePlayer {
  let ctx: SinkContext | undefined
  let loop: ReturnType<typeof setInterval> | undefined
  let sink: string | undefined
  const live = new Set<OscillatorNode>()

  const context = (): SinkContext | undefined => {
    try {
      ctx ??= makeContext() as SinkContext
      if (sink !== undefined) void ctx.setSinkId?.(sink).catch(() => {})
      // A context made before any user gesture starts suspended.
      if (ctx.state === 'suspended') void ctx.resume().catch(() => {})
      return ctx
    } catch {
      return undefined // no WebAudio: calls still work, silently
    }
  }

  /** Sine tones at `freqs` from `at` (s, context time) for `dur` s, with soft edges. */
  const beep = (freqs: number[], at: number, dur: number, volume: number): void => {
    const c = context()
    if (c == null) return
    const gain = c.createGain()
    gain.gain.setValueAtTime(0, c.currentTime + at)
    gain.gain.linearRampToValueAtTime(volume, c.currentTime + at + 0.02)
    gain.gain.setValueAtTime(volume, c.currentTime + at + dur - 0.03)
    gain.gain.linearRampToValueAtTime(0, c.currentTime + at + dur)
    gain.connect(c.destination)
    for (const f of freqs) {
      const osc = c.createOscillator()
      osc.type = 'sine'
      osc.frequency.value = f
      osc.connect(gain)
      osc.start(c.currentTime + at)
      osc.stop(c.currentTime + at + dur)
      live.add(osc)
      osc.onended = () => {
        live.delete(osc)
        osc.disconnect()
      }
    }
  }

  const repeat = (everyMs: number, burst: () => void): void => {
    stop()
    burst()
    loop = setInterval(burst, everyMs)
  }

  function stop(): void {
    if (loop !== undefined) clearInterval(loop)
    loop = undefined
    for (const osc of live) {
      try {
        osc.stop()
      } catch {
        // already stopped
      }
    }
    live.clear()
  }

  return {
    ring: () =>
      repeat(3000, () => {
        // A two-note chime, twice: recognisable without being a siren.
        beep([880, 1320], 0, 0.22, 0.12)
        beep([660, 990], 0.25, 0.3, 0.12)
        beep([880, 1320], 0.8, 0.22, 0.12)
        beep([660, 990], 1.05, 0.3, 0.12)
      }),
    ringback: () => repeat(5000, () => beep([425], 0, 1, 0.06)),
    dtmf(key) {
      const pair = DTMF[key.toUpperCase()]
      if (pair) beep(pair, 0, 0.12, 0.05)
    },
    stop,
    setSink(deviceId) {
      sink = deviceId ?? ''
      if (ctx) void ctx.setSinkId?.(sink).catch(() => {})
    },
  }
}
