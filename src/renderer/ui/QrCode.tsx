/** A QR code of `text`, drawn as SVG (see contacts/qr.ts). */
import { useMemo } from 'react'
import { qrPath } from '../contacts/qr.js'

export function QrCode(props: { text: string; label: string; size?: number }) {
  const { size, d } = useMemo(() => qrPath(props.text), [props.text])
  return (
    <svg
      className="qr"
      role="img"
      aria-label={props.label}
      viewBox={`0 0 ${size} ${size}`}
      width={props.size ?? 192}
      height={props.size ?? 192}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} className="qr-bg" />
      <path d={d} className="qr-fg" />
    </svg>
  )
}
