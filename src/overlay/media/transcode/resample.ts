/**
 * 8 kHz ↔ 48 kHz resampling by the integer factor 6, as two polyphase FIR
 * filters sharing one Kaiser-windowed sinc low-pass prototype.
 *
 * The prototype runs at 48 kHz with its cutoff at 3.8 kHz: G.711's band
 * (300–3400 Hz) passes flat, and everything from about 4.2 kHz up (the images
 * an upsampler creates around 8, 16, 24 kHz; what a downsampler would fold
 * back below 4 kHz) is attenuated by about 60 dB. 216 taps at β = 5.65 gives
 * that transition (Kaiser's formula: N ≈ (A − 8) / (2.285·Δω)).
 *
 * Both directions are stateful: each keeps the last input samples the filter
 * reaches back to, so a stream cut into frames of any size comes out sample
 * for sample as if it were filtered in one piece — no clicks at frame edges.
 * The price is a fixed delay of (TAPS − 1) / 2 = 107.5 samples at 48 kHz
 * (2.24 ms) each way.
 */

export const RESAMPLE_FACTOR = 6
const TAPS_PER_PHASE = 36
const TAPS = RESAMPLE_FACTOR * TAPS_PER_PHASE
const HIGH_RATE = 48_000
const CUTOFF_HZ = 3_800
const KAISER_BETA = 5.65

/** The filters' group delay in 48 kHz samples. */
export const RESAMPLE_DELAY_48K = (TAPS - 1) / 2

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1
  let term = 1
  const q = (x * x) / 4
  for (let k = 1; k < 50 && term > sum * 1e-12; k++) {
    term *= q / (k * k)
    sum += term
  }
  return sum
}

/** The low-pass prototype at 48 kHz, normalised to unity gain at DC. */
function prototype(): Float64Array {
  const h = new Float64Array(TAPS)
  const fc = CUTOFF_HZ / HIGH_RATE
  const centre = (TAPS - 1) / 2
  const i0Beta = besselI0(KAISER_BETA)
  let sum = 0
  for (let n = 0; n < TAPS; n++) {
    const t = n - centre
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t)
    const r = (2 * n) / (TAPS - 1) - 1
    h[n] = sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta)
    sum += h[n]!
  }
  for (let n = 0; n < TAPS; n++) h[n]! /= sum
  return h
}

const H = prototype()

/**
 * The interpolator's phases: phase p of output 6m + p is
 * Σ_k 6·h[6k + p]·x[m − k] (the zero-stuffed input's other taps multiply 0).
 */
const UP_PHASES = (() => {
  const phases = new Float64Array(TAPS)
  for (let p = 0; p < RESAMPLE_FACTOR; p++)
    for (let k = 0; k < TAPS_PER_PHASE; k++)
      phases[p * TAPS_PER_PHASE + k] = RESAMPLE_FACTOR * H[RESAMPLE_FACTOR * k + p]!
  return phases
})()

function toInt16(x: number): number {
  const r = Math.round(x)
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r
}

/** 8 kHz → 48 kHz: six output samples per input sample. */
export class Upsampler {
  /** The last TAPS_PER_PHASE − 1 inputs, then room for the next frame. */
  private work = new Float64Array(TAPS_PER_PHASE - 1 + 480)

  process(input: Int16Array): Int16Array {
    const hist = TAPS_PER_PHASE - 1
    if (this.work.length < hist + input.length) {
      const grown = new Float64Array(hist + input.length)
      grown.set(this.work.subarray(0, hist))
      this.work = grown
    }
    const buf = this.work
    for (let i = 0; i < input.length; i++) buf[hist + i] = input[i]!
    const out = new Int16Array(input.length * RESAMPLE_FACTOR)
    const c = UP_PHASES
    for (let m = 0, o = 0; m < input.length; m++, o += RESAMPLE_FACTOR) {
      // All six phases read the same TAPS_PER_PHASE inputs: read each once and
      // keep six sums (about twice as fast as one phase at a time).
      let a0 = 0
      let a1 = 0
      let a2 = 0
      let a3 = 0
      let a4 = 0
      let a5 = 0
      for (let k = 0, i = hist + m; k < TAPS_PER_PHASE; k++, i--) {
        const x = buf[i]!
        a0 += c[k]! * x
        a1 += c[TAPS_PER_PHASE + k]! * x
        a2 += c[2 * TAPS_PER_PHASE + k]! * x
        a3 += c[3 * TAPS_PER_PHASE + k]! * x
        a4 += c[4 * TAPS_PER_PHASE + k]! * x
        a5 += c[5 * TAPS_PER_PHASE + k]! * x
      }
      out[o] = toInt16(a0)
      out[o + 1] = toInt16(a1)
      out[o + 2] = toInt16(a2)
      out[o + 3] = toInt16(a3)
      out[o + 4] = toInt16(a4)
      out[o + 5] = toInt16(a5)
    }
    // Keep the newest inputs as the next call's history.
    buf.copyWithin(0, input.length, input.length + hist)
    return out
  }

  /** Forget the history (a new, unrelated stream follows). */
  reset(): void {
    this.work.fill(0)
  }
}

/** 48 kHz → 8 kHz: one output per six inputs, low-passed first so nothing folds back. */
export class Downsampler {
  private work = new Float64Array(TAPS - 1 + 2880)
  /** Inputs still to pass before the next output sample (0..5): frames need not be multiples of 6. */
  private skip = RESAMPLE_FACTOR - 1

  process(input: Int16Array): Int16Array {
    const hist = TAPS - 1
    if (this.work.length < hist + input.length) {
      const grown = new Float64Array(hist + input.length)
      grown.set(this.work.subarray(0, hist))
      this.work = grown
    }
    const buf = this.work
    for (let i = 0; i < input.length; i++) buf[hist + i] = input[i]!
    const end = hist + input.length
    const count =
      this.skip < input.length
        ? Math.floor((input.length - 1 - this.skip) / RESAMPLE_FACTOR) + 1
        : 0
    const out = new Int16Array(count)
    let i = hist + this.skip
    for (let o = 0; o < count; o++, i += RESAMPLE_FACTOR) {
      // The prototype is symmetric (linear phase): pair the taps, halve the multiplies.
      let acc = 0
      for (let j = 0, far = i - TAPS + 1; j < TAPS / 2; j++)
        acc += H[j]! * (buf[i - j]! + buf[far + j]!)
      out[o] = toInt16(acc)
    }
    this.skip = i - end
    buf.copyWithin(0, input.length, end)
    return out
  }

  reset(): void {
    this.work.fill(0)
    this.skip = RESAMPLE_FACTOR - 1
  }
}
