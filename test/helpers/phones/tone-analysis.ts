/**
 * Which tone a recording holds, by the Goertzel algorithm (a single DFT term
 * per frequency, so any frequency can be probed, not only FFT bins).
 *
 * The recording is cut into 100 ms frames; frames quieter than -40 dBFS RMS
 * (before the far side's audio arrives, while on hold, after the BYE) are left
 * out, so silence neither helps nor hurts. Over the voiced frames (Hann
 * windowed, powers summed):
 * - `dominantHz`: the strongest DFT bin (10 Hz apart at 100 ms), then refined
 *   by probing every 0.25 Hz within one bin of it;
 * - `share(hz)`: the part of the voiced energy within ±30 Hz of `hz` (three
 *   bins either side: a Hann-windowed pure tone keeps > 99.9 % of its energy
 *   there), by Parseval's theorem: Σ|X_k|² over all N bins = N·Σ|x_n|².
 */

export interface ToneReport {
  /** Frequency (Hz) of the strongest component in the voiced frames. */
  dominantHz: number
  /** Part (0..1) of the voiced energy within ±30 Hz of the asked frequency. */
  share: number
  /** `share` as tone-to-rest power ratio in dB. */
  toneOverRestDb: number
  /** Seconds of voiced (≥ -40 dBFS) frames. */
  voicedSeconds: number
  /** RMS (dBFS) of the voiced frames. */
  voicedDbfs: number
}

/** Frames below this RMS (of full scale 1.0) are silence: -40 dBFS. */
export const VOICED_RMS = 0.01
const FRAME_SECONDS = 0.1
const BAND_BINS = 3
const FINE_STEP_HZ = 0.25

/** |X(f)|² of `frame` at `hz` (any frequency), the Goertzel recurrence. */
export function goertzelPower(frame: Float64Array, hz: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / sampleRate)
  let s1 = 0
  let s2 = 0
  for (let i = 0; i < frame.length; i++) {
    const s0 = frame[i]! + coeff * s1 - s2
    s2 = s1
    s1 = s0
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/** Analyse `samples` (mono, full scale 1.0) for the tone at `hz`. */
export function analyseTone(samples: Float64Array, sampleRate: number, hz: number): ToneReport {
  const n = Math.round(sampleRate * FRAME_SECONDS)
  const binHz = sampleRate / n
  const window = Float64Array.from(
    { length: n },
    (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n),
  )
  const frames: Float64Array[] = []
  let rawEnergy = 0
  let windowedEnergy = 0
  for (let from = 0; from + n <= samples.length; from += n) {
    const raw = samples.subarray(from, from + n)
    let e = 0
    for (const x of raw) e += x * x
    if (Math.sqrt(e / n) < VOICED_RMS) continue
    rawEnergy += e
    const w = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      w[i] = raw[i]! * window[i]!
      windowedEnergy += w[i]! * w[i]!
    }
    frames.push(w)
  }
  if (frames.length === 0)
    return {
      dominantHz: 0,
      share: 0,
      toneOverRestDb: -Infinity,
      voicedSeconds: 0,
      voicedDbfs: -Infinity,
    }

  const power = (f: number): number =>
    frames.reduce((p, w) => p + goertzelPower(w, f, sampleRate), 0)
  let peakBin = 1
  let peak = -1
  const bins = new Float64Array(Math.floor(n / 2))
  for (let k = 1; k < bins.length; k++) {
    bins[k] = power(k * binHz)
    if (bins[k]! > peak) [peak, peakBin] = [bins[k]!, k]
  }
  let dominantHz = peakBin * binHz
  let fine = peak
  for (let f = (peakBin - 1) * binHz; f <= (peakBin + 1) * binHz; f += FINE_STEP_HZ) {
    const p = power(f)
    if (p > fine) [fine, dominantHz] = [p, f]
  }

  // One-sided bins: bin k and bin N-k carry the same power.
  const k0 = Math.round(hz / binHz)
  let band = 0
  for (let k = Math.max(1, k0 - BAND_BINS); k <= Math.min(bins.length - 1, k0 + BAND_BINS); k++)
    band += 2 * bins[k]!
  const share = Math.min(1, band / (n * windowedEnergy))
  return {
    dominantHz,
    share,
    toneOverRestDb: 10 * Math.log10(share / Math.max(1e-12, 1 - share)),
    voicedSeconds: frames.length * FRAME_SECONDS,
    voicedDbfs: 10 * Math.log10(rawEnergy / (frames.length * n)),
  }
}
