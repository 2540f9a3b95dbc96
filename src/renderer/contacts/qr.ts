/**
 * A QR code as one SVG path (no image data URL, no canvas): crisp at any
 * size, themable with CSS, and fine under a strict CSP.
 */
import qrcode from 'qrcode-generator'

export interface QrPath {
  /** Modules per side, including the quiet zone. */
  size: number
  d: string
}

/** The quiet zone QR readers need around the code (ISO/IEC 18004: 4 modules). */
const QUIET = 4

export function qrPath(text: string): QrPath {
  const qr = qrcode(0, 'M')
  qr.addData(text, 'Byte')
  qr.make()
  const n = qr.getModuleCount()
  let d = ''
  for (let r = 0; r < n; r++) {
    // Runs of dark modules on a row become one rectangle: a much shorter path.
    let c = 0
    while (c < n) {
      if (!qr.isDark(r, c)) {
        c++
        continue
      }
      const start = c
      while (c < n && qr.isDark(r, c)) c++
      d += `M${start + QUIET} ${r + QUIET}h${c - start}v1h-${c - start}z`
    }
  }
  return { size: n + 2 * QUIET, d }
}
