/**
 * ITU-T G.711 µ-law (PCMU) and A-law (PCMA), table-driven.
 *
 * Both laws are 8-bit logarithmic codes of 16-bit linear PCM: a sign bit, a
 * 3-bit segment (exponent) and a 4-bit step (mantissa), with every other bit
 * inverted on the wire (µ-law all bits, A-law the even ones: XOR 0x55).
 * The values match the classic Sun Microsystems g711.c that most RTP stacks
 * derive from: µ-law works on the top 14 bits with a bias of 33, A-law on the
 * top 13 bits, and both truncate (the decoder returns the segment midpoint).
 *
 * The tables are built once at load: 256 decoded values per law, and one
 * code per 14-bit (µ-law) or 13-bit (A-law) input, so encoding a sample is a
 * shift and a lookup.
 */

export type G711Law = 'PCMU' | 'PCMA'

/** The code for silence (linear 0): µ-law 0xFF, A-law 0xD5. */
export const G711_SILENCE: Readonly<Record<G711Law, number>> = { PCMU: 0xff, PCMA: 0xd5 }

/** µ-law bias in the 14-bit domain (G.711 §3: 33 = 0x84 >> 2). */
const ULAW_BIAS = 33
/** Largest 14-bit magnitude before the bias would overflow segment 7. */
const ULAW_CLIP = 8159

function buildUlawEncode(): Uint8Array {
  const table = new Uint8Array(1 << 14)
  for (let i = 0; i < table.length; i++) {
    const v = (i << 18) >> 18 // the 14-bit two's-complement value of index i
    const mask = v < 0 ? 0x7f : 0xff
    const magnitude = Math.min(Math.abs(v), ULAW_CLIP) + ULAW_BIAS
    // Segment = position of the highest set bit above bit 5; a clipped input
    // (biased magnitude 8192) is past segment 7 and takes the largest code.
    let segment = 0
    while (segment < 8 && magnitude >= 64 << segment) segment++
    const step = (magnitude >> (segment + 1)) & 0x0f
    table[i] = (segment > 7 ? 0x7f : (segment << 4) | step) ^ mask
  }
  return table
}

function buildUlawDecode(): Int16Array {
  const table = new Int16Array(256)
  for (let code = 0; code < 256; code++) {
    const u = ~code & 0xff
    const segment = (u >> 4) & 0x07
    const step = u & 0x0f
    // G.711 Table 2a: magnitude = ((2·step + 33) << segment) − 33, here × 4 for 16 bits.
    const magnitude = (((2 * step + ULAW_BIAS) << segment) - ULAW_BIAS) << 2
    table[code] = u & 0x80 ? -magnitude : magnitude
  }
  return table
}

function buildAlawEncode(): Uint8Array {
  const table = new Uint8Array(1 << 13)
  for (let i = 0; i < table.length; i++) {
    const v = (i << 19) >> 19 // the 13-bit two's-complement value of index i
    // A-law is symmetric around −½: negative inputs use the one's complement.
    const mask = v >= 0 ? 0xd5 : 0x55
    const magnitude = v >= 0 ? v : -v - 1
    let segment = 0
    while (segment < 7 && magnitude >= 32 << segment) segment++
    const step = (segment < 2 ? magnitude >> 1 : magnitude >> segment) & 0x0f
    table[i] = ((segment << 4) | step) ^ mask
  }
  return table
}

function buildAlawDecode(): Int16Array {
  const table = new Int16Array(256)
  for (let code = 0; code < 256; code++) {
    const a = code ^ 0x55
    const segment = (a >> 4) & 0x07
    const step = a & 0x0f
    // G.711 Table 1a: segment 0 is linear ((2·step + 1)), the others
    // (2·step + 33) << (segment − 1); × 8 for 16 bits.
    const magnitude = segment === 0 ? (2 * step + 1) << 3 : ((2 * step + 33) << (segment - 1)) << 3
    table[code] = a & 0x80 ? magnitude : -magnitude
  }
  return table
}

const ULAW_ENCODE = buildUlawEncode()
const ULAW_DECODE = buildUlawDecode()
const ALAW_ENCODE = buildAlawEncode()
const ALAW_DECODE = buildAlawDecode()

/** One 16-bit sample to its µ-law code. */
export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE[(sample >> 2) & 0x3fff]!
}

/** One µ-law code to its 16-bit sample. */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff]!
}

/** One 16-bit sample to its A-law code. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[(sample >> 3) & 0x1fff]!
}

/** One A-law code to its 16-bit sample. */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff]!
}

/** Encode 16-bit PCM to G.711 codes, into `out` when given (same length). */
export function g711Encode(
  law: G711Law,
  pcm: Int16Array,
  out = new Uint8Array(pcm.length),
): Uint8Array {
  if (out.length < pcm.length) throw new RangeError('G.711 output buffer is shorter than the input')
  if (law === 'PCMU')
    for (let i = 0; i < pcm.length; i++) out[i] = ULAW_ENCODE[(pcm[i]! >> 2) & 0x3fff]!
  else for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENCODE[(pcm[i]! >> 3) & 0x1fff]!
  return out
}

/** Decode G.711 codes to 16-bit PCM, into `out` when given (same length). */
export function g711Decode(
  law: G711Law,
  codes: Uint8Array,
  out = new Int16Array(codes.length),
): Int16Array {
  if (out.length < codes.length)
    throw new RangeError('G.711 output buffer is shorter than the input')
  const table = law === 'PCMU' ? ULAW_DECODE : ALAW_DECODE
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]!]!
  return out
}
