/**
 * SDP codec order. Chromium lists Opus first today, but the order in our
 * offer and answer is what picks the codec, so we say it ourselves: Opus
 * first, everything else (G.711 fallbacks, telephone-event for DTMF) kept
 * behind it.
 */

/** Move `codec`'s payload types to the front of every m=audio line. */
export function preferAudioCodec(sdp: string, codec = 'opus'): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n'
  const lines = sdp.split(eol)
  const wanted = new RegExp(`^a=rtpmap:(\\d+) ${codec}/`, 'i')
  // Sections: each m= line owns the attribute lines up to the next m= line.
  let mIndex = -1
  const sections: Array<{ m: number; pts: Set<string> }> = []
  lines.forEach((line, i) => {
    if (line.startsWith('m=')) {
      mIndex = i
      sections.push({ m: i, pts: new Set() })
      return
    }
    const hit = wanted.exec(line)
    if (hit && mIndex >= 0) sections.at(-1)!.pts.add(hit[1]!)
  })
  for (const { m, pts } of sections) {
    const parts = lines[m]!.split(' ')
    if (!parts[0]!.startsWith('m=audio') || parts.length < 4 || pts.size === 0) continue
    const formats = parts.slice(3)
    const first = formats.filter((f) => pts.has(f))
    const rest = formats.filter((f) => !pts.has(f))
    lines[m] = [...parts.slice(0, 3), ...first, ...rest].join(' ')
  }
  return lines.join(eol)
}

/** The same as a sip.js SessionDescriptionHandlerModifier. */
export function preferOpus(
  description: RTCSessionDescriptionInit,
): Promise<RTCSessionDescriptionInit> {
  if (description.sdp == null) return Promise.resolve(description)
  return Promise.resolve({ type: description.type, sdp: preferAudioCodec(description.sdp) })
}
