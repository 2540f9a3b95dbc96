/**
 * The tray icon, drawn in code from the same geometry as assets/icon.svg (a
 * teal rounded square with a speech bubble). Electron's nativeImage reads PNG
 * and JPEG but not SVG, and a tray with a missing icon is invisible on Linux:
 * the window could then be closed to a tray nobody can click. Drawing it
 * removes that failure mode and any file to ship.
 */

const TEAL = [0x0f, 0x76, 0x6e] as const
const LIGHT = [0xf0, 0xfd, 0xfa] as const
/** Samples per pixel side; 4×4 gives smooth edges at 16 px. */
const SUPERSAMPLE = 4

/** The SVG's coordinates (viewBox 0 0 256 256). */
function background(x: number, y: number): boolean {
  const r = 56
  const cx = Math.min(Math.max(x, r), 256 - r)
  const cy = Math.min(Math.max(y, r), 256 - r)
  return x >= 0 && x <= 256 && y >= 0 && y <= 256 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}

/** The bubble: a capsule from (70,126) to (144,126), radius 42, and its tail. */
function bubble(x: number, y: number): boolean {
  const cx = Math.min(Math.max(x, 70), 144)
  if ((x - cx) ** 2 + (y - 126) ** 2 <= 42 * 42) return true
  // Tail: the triangle (80,168) (114,168) (80,196).
  return x >= 80 && y >= 168 && y <= 196 && (x - 80) / 34 + (y - 168) / 28 <= 1
}

function dot(x: number, y: number): boolean {
  return [96, 128, 160].some((cx) => (x - cx) ** 2 + (y - 126) ** 2 <= 81)
}

/**
 * A `size`×`size` bitmap in Electron's `createFromBitmap` layout: BGRA,
 * premultiplied alpha, rows top to bottom.
 */
export function trayIconBitmap(size: number): Buffer {
  if (!Number.isInteger(size) || size < 1 || size > 1024) {
    throw new RangeError(`icon size must be an integer from 1 to 1024, not ${size}`)
  }
  const out = Buffer.alloc(size * size * 4)
  const scale = 256 / size
  const n = SUPERSAMPLE * SUPERSAMPLE
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (px + (sx + 0.5) / SUPERSAMPLE) * scale
          const y = (py + (sy + 0.5) / SUPERSAMPLE) * scale
          if (!background(x, y)) continue
          const c = bubble(x, y) && !dot(x, y) ? LIGHT : TEAL
          r += c[0]
          g += c[1]
          b += c[2]
          a += 255
        }
      }
      // Sums of premultiplied samples: a colour times its coverage.
      const i = (py * size + px) * 4
      out[i] = Math.round(b / n)
      out[i + 1] = Math.round(g / n)
      out[i + 2] = Math.round(r / n)
      out[i + 3] = Math.round(a / n)
    }
  }
  return out
}
