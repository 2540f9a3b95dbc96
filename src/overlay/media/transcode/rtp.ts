/**
 * The RTP fixed header (RFC 3550 §5.1), parsed and written without copying
 * the payload. The transcoder rewrites each leg's header, so parsing keeps
 * every field a translator may need: CSRCs (§5.1 CC), the header extension
 * (§5.3.1 X) and padding (§5.1 P).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers             | (CC × 32 bits)
 */

export const RTP_VERSION = 2
const FIXED_HEADER = 12

/** A datagram that is not a well-formed RTP packet. */
export class RtpParseError extends Error {
  static override readonly name = 'RtpParseError'
  constructor(message: string) {
    super(message)
    this.name = RtpParseError.name
  }
}

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers). */
  profile: number
  /** The extension body, a whole number of 32-bit words. */
  data: Uint8Array
}

export interface RtpPacket {
  marker: boolean
  payloadType: number
  sequenceNumber: number
  timestamp: number
  ssrc: number
  csrcs: number[]
  extension?: RtpHeaderExtension
  /** The payload without padding (a view into the parsed datagram). */
  payload: Uint8Array
  /** Padding octets after the payload, counting the final count octet (§5.1 P); 0 for none. */
  paddingLength: number
}

/** Parse one RTP datagram; throws `RtpParseError` on anything RFC 3550 §5.1 forbids. */
export function parseRtp(datagram: Uint8Array): RtpPacket {
  if (datagram.length < FIXED_HEADER)
    throw new RtpParseError(
      `RTP packet of ${datagram.length} bytes is shorter than the 12-byte fixed header`,
    )
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength)
  const b0 = datagram[0]!
  const version = b0 >> 6
  if (version !== RTP_VERSION) throw new RtpParseError(`RTP version ${version}, expected 2`)
  const hasPadding = (b0 & 0x20) !== 0
  const hasExtension = (b0 & 0x10) !== 0
  const csrcCount = b0 & 0x0f
  const b1 = datagram[1]!
  let offset = FIXED_HEADER + 4 * csrcCount
  if (datagram.length < offset)
    throw new RtpParseError(`RTP packet too short for its ${csrcCount} CSRCs`)
  const csrcs: number[] = []
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(FIXED_HEADER + 4 * i))
  let extension: RtpHeaderExtension | undefined
  if (hasExtension) {
    // §5.3.1: 16-bit profile field, 16-bit length in 32-bit words, then the words.
    if (datagram.length < offset + 4)
      throw new RtpParseError('RTP packet too short for its header extension')
    const profile = view.getUint16(offset)
    const words = view.getUint16(offset + 2)
    const end = offset + 4 + 4 * words
    if (datagram.length < end)
      throw new RtpParseError('RTP header extension runs past the end of the packet')
    extension = { profile, data: datagram.subarray(offset + 4, end) }
    offset = end
  }
  let end = datagram.length
  let paddingLength = 0
  if (hasPadding) {
    // §5.1: "The last octet of the padding contains a count of how many padding
    // octets should be ignored, including itself."
    paddingLength = datagram[end - 1]!
    if (paddingLength === 0 || end - paddingLength < offset)
      throw new RtpParseError(`RTP padding count ${paddingLength} is impossible`)
    end -= paddingLength
  }
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    ...(extension ? { extension } : {}),
    payload: datagram.subarray(offset, end),
    paddingLength,
  }
}

/** The fields `serializeRtp` needs; CSRCs, extension and padding are optional. */
export type RtpPacketInit = Omit<RtpPacket, 'csrcs' | 'paddingLength'> &
  Partial<Pick<RtpPacket, 'csrcs' | 'paddingLength'>>

/** Write an RTP datagram; throws `RangeError` for fields that do not fit their bits. */
export function serializeRtp(p: RtpPacketInit): Uint8Array {
  const csrcs = p.csrcs ?? []
  const padding = p.paddingLength ?? 0
  if (csrcs.length > 15)
    throw new RangeError(`an RTP header carries at most 15 CSRCs, not ${csrcs.length}`)
  if (!Number.isInteger(p.payloadType) || p.payloadType < 0 || p.payloadType > 127)
    throw new RangeError(`RTP payload type ${p.payloadType} is not 0..127`)
  if (!Number.isInteger(padding) || padding < 0 || padding > 255)
    throw new RangeError(`RTP padding ${padding} is not 0..255`)
  const ext = p.extension
  if (ext && (ext.data.length % 4 !== 0 || ext.data.length > 4 * 0xffff))
    throw new RangeError('an RTP header extension is a whole number (≤ 65535) of 32-bit words')
  const headerLength = FIXED_HEADER + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0)
  const out = new Uint8Array(headerLength + p.payload.length + padding)
  const view = new DataView(out.buffer)
  out[0] = (RTP_VERSION << 6) | (padding > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType
  view.setUint16(2, p.sequenceNumber & 0xffff)
  view.setUint32(4, p.timestamp >>> 0)
  view.setUint32(8, p.ssrc >>> 0)
  let offset = FIXED_HEADER
  for (const csrc of csrcs) {
    view.setUint32(offset, csrc >>> 0)
    offset += 4
  }
  if (ext) {
    view.setUint16(offset, ext.profile & 0xffff)
    view.setUint16(offset + 2, ext.data.length / 4)
    out.set(ext.data, offset + 4)
    offset += 4 + ext.data.length
  }
  out.set(p.payload, offset)
  if (padding > 0) out[out.length - 1] = padding
  return out
}

/** Signed distance a → b in 16-bit sequence space (RFC 3550 §A.1 wrap-around). */
export function seqDelta(from: number, to: number): number {
  return (((to - from) & 0xffff) << 16) >> 16
}

/** Signed distance a → b in 32-bit timestamp space. */
export function tsDelta(from: number, to: number): number {
  return (to - from) | 0
}
