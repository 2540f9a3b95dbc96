import { describe, expect, it } from 'vitest'
import {
  Downsampler,
  RESAMPLE_DELAY_48K,
  Upsampler,
} from '../../../../src/overlay/media/transcode/resample.js'
import { db, goertzelAmplitude, rms, tone, zeroCrossingHz } from './signal.js'

/** Skip the filter's start-up (its history starts as zeros). */
const settle = <T extends Int16Array>(x: T, n: number): T => x.subarray(n) as T

describe('Upsampler (8 → 48 kHz)', () => {
  for (const hz of [440, 1000, 3000]) {
    it(`keeps a ${hz} Hz tone's frequency and level`, () => {
      const out = settle(new Upsampler().process(tone(hz, 8000, 8000)), 2 * 48 * 10)
      expect(out.length).toBeGreaterThan(40_000)
      expect(zeroCrossingHz(out, 48_000)).toBeCloseTo(hz, 0)
      // Within 0.5 dB of the input's 8000 amplitude.
      expect(Math.abs(db(goertzelAmplitude(out, hz, 48_000) / 8000))).toBeLessThan(0.5)
    })
  }

  it('removes the images around 8 kHz by at least 55 dB', () => {
    const out = settle(new Upsampler().process(tone(1000, 8000, 8000)), 960)
    const wanted = goertzelAmplitude(out, 1000, 48_000)
    for (const image of [7000, 9000, 15_000, 17_000])
      expect(db(wanted / goertzelAmplitude(out, image, 48_000)), `${image} Hz`).toBeGreaterThan(55)
  })

  it('gives the same samples whatever the frame sizes (no clicks at frame edges)', () => {
    const input = tone(440, 8000, 4000)
    const whole = new Upsampler().process(input)
    const up = new Upsampler()
    const parts: Int16Array[] = []
    for (let i = 0, n = 1; i < input.length; i += n, n = (n * 7 + 3) % 250 || 1)
      parts.push(up.process(input.subarray(i, Math.min(input.length, i + n))))
    const joined = new Int16Array(whole.length)
    let o = 0
    for (const p of parts) joined.set(p, (o += p.length) - p.length)
    expect(o).toBe(whole.length)
    expect(joined).toEqual(whole)
  })
})

describe('Downsampler (48 → 8 kHz)', () => {
  for (const hz of [440, 1000, 3000]) {
    it(`keeps a ${hz} Hz tone's frequency and level`, () => {
      const out = settle(new Downsampler().process(tone(hz, 48_000, 48_000)), 80)
      expect(zeroCrossingHz(out, 8000)).toBeCloseTo(hz, 0)
      expect(Math.abs(db(goertzelAmplitude(out, hz, 8000) / 8000))).toBeLessThan(0.5)
    })
  }

  it('attenuates 5 kHz (above the 4 kHz Nyquist) by at least 55 dB instead of folding it to 3 kHz', () => {
    const input = tone(5000, 48_000, 48_000, 16_000)
    const out = settle(new Downsampler().process(input), 80)
    expect(db(rms(input) / Math.max(rms(out), 1e-3))).toBeGreaterThan(55)
    expect(goertzelAmplitude(out, 3000, 8000)).toBeLessThan(16_000 * 10 ** (-55 / 20))
  })

  it('gives the same samples whatever the frame sizes, including sizes not a multiple of 6', () => {
    const input = tone(1000, 48_000, 9600)
    const whole = new Downsampler().process(input)
    const down = new Downsampler()
    const parts: number[] = []
    for (let i = 0, n = 5; i < input.length; i += n, n = (n * 13 + 7) % 1000 || 1)
      parts.push(...down.process(input.subarray(i, Math.min(input.length, i + n))))
    expect(Int16Array.from(parts)).toEqual(whole)
  })

  it('round-trips 8 → 48 → 8 kHz with only the two filters’ delay', () => {
    const input = tone(440, 8000, 8000)
    const back = new Downsampler().process(new Upsampler().process(input))
    // Both filters' delay at 48 kHz, less the decimator's phase (it keeps the
    // 6th of every 6 samples): exactly 35 samples at 8 kHz.
    const delay8 = (2 * RESAMPLE_DELAY_48K - 5) / 6
    let err = 0
    for (let i = 200; i < input.length; i++) err += (back[i]! - input[i - delay8]!) ** 2
    const snr = 10 * Math.log10((rms(input) ** 2 * (input.length - 200)) / err)
    expect(snr).toBeGreaterThan(30)
  })

  it('starts over after reset()', () => {
    const down = new Downsampler()
    const first = down.process(tone(440, 48_000, 960))
    down.process(tone(3000, 48_000, 965))
    down.reset()
    expect(down.process(tone(440, 48_000, 960))).toEqual(first)
    const up = new Upsampler()
    const a = up.process(tone(440, 8000, 160))
    up.process(tone(1000, 8000, 33))
    up.reset()
    expect(up.process(tone(440, 8000, 160))).toEqual(a)
  })
})
