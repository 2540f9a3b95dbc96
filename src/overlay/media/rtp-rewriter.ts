/**
 * RTP header rewriting for the relay (RFC 3550 §5.1). Each leg of an anchored
 * call is its own RTP session (RFC 7667 §3.2.1.4, "media-translator"), so
 * packets leaving the anchor carry that leg's own SSRC and that leg's payload
 * type numbers. Sequence numbers and timestamps pass through with an offset,
 * so a receiver sees one continuous stream even when the source restarts (a
 * phone's new SSRC after a re-INVITE, say): RFC 3550 §8.2 says a receiver
 * must cope with a changed SSRC, but keeping ours fixed spares the far end a
 * jitter buffer reset and keeps the WebRTC leg's signalled SSRC true.
 */

/** RFC 3550 §5.1: the fixed header is 12 bytes. */
const RTP_HEADER = 12

/** RFC 5761 §4: with rtcp-mux, a second byte of 192–223 is RTCP (PT 64–95 with the marker bit). */
export function isRtcp(packet: Uint8Array): boolean {
  return packet.length >= 2 && packet[1]! >= 192 && packet[1]! <= 223
}

/** RTP version 2 with a complete fixed header and its CSRC list (RFC 3550 §5.1). */
export function isRtp(packet: Uint8Array): boolean {
  if (packet.length < RTP_HEADER || packet[0]! >> 6 !== 2 || isRtcp(packet)) return false
  return packet.length >= RTP_HEADER + 4 * (packet[0]! & 0x0f)
}

export function payloadTypeOf(packet: Uint8Array): number {
  return packet[1]! & 0x7f
}

export interface RtpRewriterInit {
  /** The SSRC this leg's stream carries. */
  ssrc: number
  /** Incoming payload type → outgoing payload type; others are dropped. */
  payloadTypes: ReadonlyMap<number, number>
  /** Clock rate per incoming payload type, to carry timestamps across a source change. */
  clocks: ReadonlyMap<number, number>
  now?: () => number
}

export class RtpRewriter {
  private source: number | undefined
  private seqOffset = 0
  private tsOffset = 0
  private lastSeq = 0
  private lastTs = 0
  private lastAt = 0
  private readonly now: () => number

  constructor(private init: RtpRewriterInit) {
    this.now = init.now ?? Date.now
  }

  /** A re-negotiation changed the numbering; the stream (SSRC, offsets) continues. */
  setPayloadTypes(
    payloadTypes: ReadonlyMap<number, number>,
    clocks: ReadonlyMap<number, number>,
  ): void {
    this.init = { ...this.init, payloadTypes, clocks }
  }

  /** Number the packets that follow `n` later: room for `n` packets this leg inserted (event-start.ts). */
  shiftSequence(n: number): void {
    this.seqOffset = (this.seqOffset + n) & 0xffff
  }

  /** The packet as this leg sends it, or undefined when its payload type does not cross. */
  rewrite(packet: Uint8Array): Buffer | undefined {
    if (!isRtp(packet)) return undefined
    const out = Buffer.from(packet)
    const pt = out[1]! & 0x7f
    const mapped = this.init.payloadTypes.get(pt)
    if (mapped === undefined) return undefined
    const ssrc = out.readUInt32BE(8)
    const seq = out.readUInt16BE(2)
    const ts = out.readUInt32BE(4)
    const at = this.now()
    if (this.source === undefined) {
      this.source = ssrc
    } else if (ssrc !== this.source) {
      // A new source: continue right after the last packet sent, advancing the
      // timestamp by the wall-clock gap at this payload's clock rate.
      const clock = this.init.clocks.get(pt) ?? 8000
      const gap = Math.max(1, Math.round(((at - this.lastAt) * clock) / 1000))
      this.source = ssrc
      this.seqOffset = (this.lastSeq + 1 - seq) & 0xffff
      this.tsOffset = (this.lastTs + gap - ts) >>> 0
    }
    const outSeq = (seq + this.seqOffset) & 0xffff
    const outTs = (ts + this.tsOffset) >>> 0
    out[1] = (out[1]! & 0x80) | mapped
    out.writeUInt16BE(outSeq, 2)
    out.writeUInt32BE(outTs, 4)
    out.writeUInt32BE(this.init.ssrc >>> 0, 8)
    this.lastSeq = outSeq
    this.lastTs = outTs
    this.lastAt = at
    return out
  }
}
