/**
 * The WAV reader and the Goertzel tone analysis the stock-phone tests rely
 * on, against synthetic recordings: the header quirks the phones write, a
 * tone in silence, two tones, noise, and files that are not PCM16 WAV.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeToneWav } from './stock-phone.js'
import { analyseTone, goertzelPower } from './tone-analysis.js'
import { WavFormatError, parseWav, readWav } from './wav-file.js'

function sine(hz: number, seconds: number, amp: number, rate = 8000): Float64Array {
  return Float64Array.from(
    { length: rate * seconds },
    (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate),
  )
}

/** A PCM16 WAV of interleaved `frames` (rows of channel samples, full scale 1.0). */
function wav(frames: number[][], rate: number, dataSize?: number, format = 1): Buffer {
  const ch = frames[0]?.length ?? 1
  const bytes = frames.length * ch * 2
  const buf = Buffer.alloc(44 + bytes)
  buf.write('RIFF', 0)
  buf.writeUInt32LE(36 + bytes, 4)
  buf.write('WAVEfmt ', 8)
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(format, 20)
  buf.writeUInt16LE(ch, 22)
  buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * ch * 2, 28)
  buf.writeUInt16LE(ch * 2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36)
  buf.writeUInt32LE(dataSize ?? bytes, 40)
  frames.forEach((f, i) =>
    f.forEach((x, c) => buf.writeInt16LE(Math.round(x * 32767), 44 + 2 * (i * ch + c))),
  )
  return buf
}

describe('WAV reader', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-wav-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the tone WAV the harness writes for linphonec', async () => {
    const path = join(dir, 'tone.wav')
    await writeToneWav(path, 440, 1)
    const w = await readWav(path)
    expect(w).toMatchObject({ sampleRate: 8000, channels: 1 })
    expect(w.samples.length).toBe(8000)
    expect((await readFile(path)).length).toBe(44 + 16000)
  })

  it('reads to the end of the file when the data size is 0, unfinalized or too large', () => {
    const frames = Array.from({ length: 100 }, () => [0.5])
    for (const size of [0, 0xffffffff, 200 + 44])
      expect(parseWav(wav(frames, 8000, size)).samples.length).toBe(100)
    // A smaller, honest size is kept (trailing chunks are not audio).
    expect(parseWav(wav(frames, 8000, 100)).samples.length).toBe(50)
  })

  it('mixes stereo down to mono at any rate', () => {
    const w = parseWav(
      wav(
        [
          [0.5, -0.5],
          [0.25, 0.25],
        ],
        48000,
      ),
    )
    expect(w).toMatchObject({ sampleRate: 48000, channels: 2 })
    expect([...w.samples].map((x) => Math.round(x * 100) / 100)).toEqual([0, 0.25])
  })

  it('refuses what is not PCM16 WAV with a WavFormatError', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError)
    expect(() => parseWav(wav([[0]], 8000, undefined, 3))).toThrow(/not PCM/)
    const eight = wav([[0]], 8000)
    eight.writeUInt16LE(8, 34)
    expect(() => parseWav(eight)).toThrow(/8-bit/)
    expect(() => parseWav(wav([[0]], 8000).subarray(0, 36))).toThrow(/no data chunk/)
  })
})

describe('Goertzel tone analysis', () => {
  it('finds |X(f)|² of a DFT bin', () => {
    // A unit sine on bin 44 of 800 points: |X_k| = N/2.
    expect(goertzelPower(sine(440, 0.1, 1), 440, 8000)).toBeCloseTo(400 * 400, 0)
  })

  it('finds a tone to well under a Hz, ignoring silence around it', () => {
    const s = new Float64Array(8000 * 3)
    s.set(sine(1003.3, 1.5, 0.3), 8000)
    const r = analyseTone(s, 8000, 1000)
    expect(Math.abs(r.dominantHz - 1003.3)).toBeLessThan(0.5)
    expect(r.share).toBeGreaterThan(0.999)
    expect(r.voicedSeconds).toBeCloseTo(1.5, 1)
    expect(r.voicedDbfs).toBeCloseTo(20 * Math.log10(0.3 / Math.SQRT2), 0)
  })

  it("gives the far tone's share when the phone's own tone leaks in", () => {
    const far = sine(440, 1, 0.3)
    const own = sine(1000, 1, 0.1)
    const r = analyseTone(
      far.map((x, i) => x + own[i]!),
      8000,
      440,
    )
    expect(r.dominantHz).toBeCloseTo(440, 0)
    // Powers 0.09 : 0.01.
    expect(r.share).toBeCloseTo(0.9, 2)
    expect(analyseTone(far, 8000, 1000).share).toBeLessThan(1e-4)
  })

  it('reports a noisy recording as a small share, and silence as nothing heard', () => {
    let seed = 1
    const noise = Float64Array.from({ length: 8000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return (seed / 2 ** 31 - 0.5) * 0.5
    })
    expect(analyseTone(noise, 8000, 440).share).toBeLessThan(0.05)
    expect(analyseTone(new Float64Array(8000), 8000, 440)).toMatchObject({
      voicedSeconds: 0,
      share: 0,
    })
  })
})
