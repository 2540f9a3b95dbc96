// Signal helpers for the transcoder tests: tones, Goertzel power, tone fits.

/** `samples` of a sine at `hz`, amplitude `amp`, starting at sample `offset`. */
export function tone(
  hz: number,
  rate: number,
  samples: number,
  amp = 8000,
  offset = 0,
): Int16Array {
  const out = new Int16Array(samples)
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * (i + offset)) / rate))
  return out
}

/** Goertzel: the amplitude of the `hz` component of `x` (a unit sine reads ≈ 1 × its amplitude). */
export function goertzelAmplitude(x: ArrayLike<number>, hz: number, rate: number): number {
  const w = (2 * Math.PI * hz) / rate
  const coeff = 2 * Math.cos(w)
  let s1 = 0
  let s2 = 0
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i]! + coeff * s1 - s2
    s2 = s1
    s1 = s0
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2
  return (2 * Math.sqrt(Math.max(0, power))) / x.length
}

export function rms(x: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!
  return Math.sqrt(sum / Math.max(1, x.length))
}

export const db = (ratio: number): number => 20 * Math.log10(ratio)

/** Frequency from zero crossings with linear interpolation between samples. */
export function zeroCrossingHz(x: ArrayLike<number>, rate: number): number {
  const crossings: number[] = []
  for (let i = 1; i < x.length; i++) {
    const a = x[i - 1]!
    const b = x[i]!
    if (a < 0 && b >= 0) crossings.push(i - 1 + -a / (b - a))
  }
  if (crossings.length < 2) return 0
  const periods = crossings.length - 1
  return (periods * rate) / (crossings[crossings.length - 1]! - crossings[0]!)
}

/**
 * SNR of `x` as a pure `hz` tone: least-squares fit of a·sin + b·cos + c, then
 * fitted power over residual power, in dB. Independent of delay and gain.
 */
export function toneSnrDb(x: ArrayLike<number>, hz: number, rate: number): number {
  const n = x.length
  const w = (2 * Math.PI * hz) / rate
  // Normal equations for [sin, cos, 1].
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ]
  const r = [0, 0, 0]
  for (let i = 0; i < n; i++) {
    const f = [Math.sin(w * i), Math.cos(w * i), 1]
    for (let a = 0; a < 3; a++) {
      r[a]! += f[a]! * x[i]!
      for (let b = 0; b < 3; b++) m[a]![b]! += f[a]! * f[b]!
    }
  }
  const coef = solve3(m, r)
  let sig = 0
  let err = 0
  for (let i = 0; i < n; i++) {
    const fit = coef[0]! * Math.sin(w * i) + coef[1]! * Math.cos(w * i) + coef[2]!
    sig += (fit - coef[2]!) ** 2
    err += (x[i]! - fit) ** 2
  }
  return 10 * Math.log10(sig / Math.max(err, 1e-9))
}

function solve3(m: number[][], r: number[]): number[] {
  const a = m.map((row, i) => [...row, r[i]!])
  for (let c = 0; c < 3; c++) {
    let p = c
    for (let i = c + 1; i < 3; i++) if (Math.abs(a[i]![c]!) > Math.abs(a[p]![c]!)) p = i
    ;[a[c], a[p]] = [a[p]!, a[c]!]
    for (let i = 0; i < 3; i++) {
      if (i === c) continue
      const f = a[i]![c]! / a[c]![c]!
      for (let k = c; k < 4; k++) a[i]![k]! -= f * a[c]![k]!
    }
  }
  return [0, 1, 2].map((i) => a[i]![3]! / a[i]![i]!)
}
