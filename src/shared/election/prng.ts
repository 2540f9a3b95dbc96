/**
 * A small seeded pseudo-random generator for the election simulation, so a run
 * is reproducible from its seed (Math.random cannot be seeded). sfc32 (Chris
 * Doty-Humphrey's Small Fast Counter, from PractRand): 128 bits of state, passes
 * PractRand, and needs only 32-bit integer operations, which V8 keeps fast.
 * Not for anything security-related.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Standard normal (Box–Muller). */
  normal(): number
  /** Log-normal with the given median and shape σ (the normal's standard deviation). */
  logNormal(median: number, sigma: number): number
}

export function createPrng(seed: number): Prng {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const u32 = (): number => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  // Mix the seed through the state before the first output (as PractRand does).
  for (let i = 0; i < 15; i++) u32()
  const next = (): number => u32() / 4294967296
  let spare: number | null = null
  const normal = (): number => {
    if (spare != null) {
      const s = spare
      spare = null
      return s
    }
    // 1 − next() is in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - next()))
    const theta = 2 * Math.PI * next()
    spare = r * Math.sin(theta)
    return r * Math.cos(theta)
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
  }
}
