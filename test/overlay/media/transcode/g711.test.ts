import { describe, expect, it } from 'vitest'
import {
  alawToLinear,
  G711_SILENCE,
  g711Decode,
  g711Encode,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear,
} from '../../../../src/overlay/media/transcode/g711.js'

// Reference values computed here from the published G.711 definition, the
// way the classic Sun g711.c reads it: segment end points and reconstruction
// levels in the 14-bit (µ-law) and 13-bit (A-law) domains, searched by brute
// force rather than by table.

/** µ-law reconstruction level of (segment, step) in 14-bit units, before sign. */
const ulawLevel = (seg: number, step: number): number => (2 * step + 33) * 2 ** seg - 33
/** A-law reconstruction level in 13-bit units (× 8 = 16-bit). */
const alawLevel = (seg: number, step: number): number =>
  seg === 0 ? (2 * step + 1) / 2 : ((2 * step + 33) * 2 ** (seg - 1)) / 2

function refUlawEncode(x: number): number {
  // Sun: 14-bit value by arithmetic shift, magnitude clipped at 8159, bias 33.
  const v = Math.floor(x / 4)
  const mask = v < 0 ? 0x7f : 0xff
  const biased = Math.min(Math.abs(v), 8159) + 33
  // The code whose biased interval [(16 + step)·2^(seg+1), (17 + step)·2^(seg+1)) holds the value.
  for (let seg = 0; seg < 8; seg++)
    for (let step = 0; step < 16; step++) {
      const lo = (16 + step) * 2 ** (seg + 1)
      if (biased >= lo && biased < lo + 2 ** (seg + 1)) return ((seg << 4) | step) ^ mask
    }
  return 0x7f ^ mask // past the last segment (only the clipped maximum)
}

function refAlawEncode(x: number): number {
  const v = Math.floor(x / 8)
  const mask = v >= 0 ? 0xd5 : 0x55
  const mag = v >= 0 ? v : -v - 1
  // Segment 0 and 1 have steps of 2, segment s ≥ 2 steps of 2^s, starting at 16·2^(s−1)·2.
  for (let seg = 0; seg < 8; seg++) {
    const width = seg < 2 ? 2 : 2 ** seg
    const start = seg === 0 ? 0 : 32 * 2 ** (seg - 1)
    if (mag < start + 16 * width) return ((seg << 4) | Math.floor((mag - start) / width)) ^ mask
  }
  throw new Error('unreachable')
}

function refUlawDecode(code: number): number {
  const u = ~code & 0xff
  const level = ulawLevel((u >> 4) & 7, u & 15) * 4
  return u & 0x80 ? 0 - level || 0 : level // 0x7F decodes to +0, not −0
}

function refAlawDecode(code: number): number {
  const a = code ^ 0x55
  const level = alawLevel((a >> 4) & 7, a & 15) * 16
  return a & 0x80 ? level : -level
}

describe('G.711 µ-law (PCMU)', () => {
  it('has the well-known vectors', () => {
    expect(linearToUlaw(0)).toBe(0xff)
    expect(ulawToLinear(0xff)).toBe(0)
    expect(ulawToLinear(0x7f)).toBe(0) // negative zero
    expect(ulawToLinear(0x00)).toBe(-32124)
    expect(ulawToLinear(0x80)).toBe(32124)
    expect(linearToUlaw(32767)).toBe(0x80)
    expect(linearToUlaw(-32768)).toBe(0x00)
    expect(linearToUlaw(-1)).toBe(0x7e) // Sun: −1 >> 2 = −1, magnitude 1 (+33) → step 1
    expect(G711_SILENCE.PCMU).toBe(0xff)
  })

  it('decodes every code to the reference level', () => {
    for (let c = 0; c < 256; c++) expect(ulawToLinear(c), `code ${c}`).toBe(refUlawDecode(c))
  })

  it('encodes every 16-bit sample as the reference does', () => {
    const mismatches: number[] = []
    for (let x = -32768; x < 32768; x++)
      if (linearToUlaw(x) !== refUlawEncode(x)) mismatches.push(x)
    expect(mismatches).toEqual([])
  })

  it('round-trips all 256 codes (0x7F, negative zero, becomes 0xFF)', () => {
    for (let c = 0; c < 256; c++) expect(linearToUlaw(ulawToLinear(c))).toBe(c === 0x7f ? 0xff : c)
  })
})

describe('G.711 A-law (PCMA)', () => {
  it('has the well-known vectors', () => {
    expect(linearToAlaw(0)).toBe(0xd5)
    expect(alawToLinear(0xd5)).toBe(8)
    expect(alawToLinear(0x55)).toBe(-8)
    expect(alawToLinear(0xaa)).toBe(32256)
    expect(alawToLinear(0x2a)).toBe(-32256)
    expect(linearToAlaw(32767)).toBe(0xaa)
    expect(linearToAlaw(-32768)).toBe(0x2a)
    expect(G711_SILENCE.PCMA).toBe(0xd5)
  })

  it('decodes every code to the reference level', () => {
    for (let c = 0; c < 256; c++) expect(alawToLinear(c), `code ${c}`).toBe(refAlawDecode(c))
  })

  it('encodes every 16-bit sample as the reference does', () => {
    const mismatches: number[] = []
    for (let x = -32768; x < 32768; x++)
      if (linearToAlaw(x) !== refAlawEncode(x)) mismatches.push(x)
    expect(mismatches).toEqual([])
  })

  it('round-trips all 256 codes', () => {
    for (let c = 0; c < 256; c++) expect(linearToAlaw(alawToLinear(c))).toBe(c)
  })
})

describe('g711Encode / g711Decode', () => {
  it('convert arrays with the scalar functions, into a given buffer too', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 5, -5])
    expect([...g711Encode('PCMU', pcm)]).toEqual([...pcm].map(linearToUlaw))
    expect([...g711Encode('PCMA', pcm)]).toEqual([...pcm].map(linearToAlaw))
    const codes = Uint8Array.from([0, 0x55, 0x7f, 0x80, 0xd5, 0xff])
    const out = new Int16Array(6)
    expect(g711Decode('PCMA', codes, out)).toBe(out)
    expect([...out]).toEqual([...codes].map(alawToLinear))
    expect([...g711Decode('PCMU', codes)]).toEqual([...codes].map(ulawToLinear))
  })

  it('refuses an output buffer that is too short', () => {
    expect(() => g711Encode('PCMU', new Int16Array(4), new Uint8Array(3))).toThrow(RangeError)
    expect(() => g711Decode('PCMA', new Uint8Array(4), new Int16Array(3))).toThrow(RangeError)
  })
})
