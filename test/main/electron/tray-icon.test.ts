import { describe, expect, it } from 'vitest'
import { trayIconBitmap } from '../../../src/main/electron/tray-icon.js'

/** [b, g, r, a] at (x, y). */
function pixel(buf: Buffer, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 4
  return [buf[i]!, buf[i + 1]!, buf[i + 2]!, buf[i + 3]!]
}

describe('tray icon bitmap', () => {
  it('is BGRA, size × size', () => {
    expect(trayIconBitmap(16).length).toBe(16 * 16 * 4)
    expect(trayIconBitmap(32).length).toBe(32 * 32 * 4)
  })

  it('draws the logo: transparent corners, teal square, light bubble, teal dots', () => {
    const size = 64
    const b = trayIconBitmap(size)
    expect(pixel(b, size, 0, 0)[3]).toBe(0) // rounded corner
    expect(pixel(b, size, 32, 4)).toEqual([0x6e, 0x76, 0x0f, 255]) // top edge: teal
    expect(pixel(b, size, 28, 27)).toEqual([0xfa, 0xfd, 0xf0, 255]) // inside the bubble
    expect(pixel(b, size, 24, 31)).toEqual([0x6e, 0x76, 0x0f, 255]) // the first dot
  })

  it('antialiases edges with premultiplied alpha', () => {
    const size = 16
    const b = trayIconBitmap(size)
    let partial = 0
    for (let i = 0; i < size * size; i++) {
      const [bl, g, r, a] = [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!]
      expect(Math.max(bl, g, r)).toBeLessThanOrEqual(a)
      if (a > 0 && a < 255) partial++
    }
    expect(partial).toBeGreaterThan(0)
  })

  it('refuses silly sizes', () => {
    expect(() => trayIconBitmap(0)).toThrow(RangeError)
    expect(() => trayIconBitmap(2.5)).toThrow(RangeError)
  })
})
