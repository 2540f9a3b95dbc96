/**
 * Where each arriving RTP packet sits on its sender's timeline.
 *
 * RTP timestamps wrap at 2^32 and sequence numbers at 2^16 (RFC 3550 §5.1);
 * the transcoder works on an extended position instead: a plain number that
 * grows with the sender's clock from the first packet (position 0), so
 * timestamp arithmetic across a wrap, a talkspurt gap or an event's start
 * timestamp (RFC 4733 §2.5.1.2: the same for every packet of an event) is
 * simple subtraction.
 *
 * Sequence numbers sort packets into in-order (possibly after a loss), late
 * or duplicate (dropped: the transcoder has no jitter buffer, and the
 * receiving leg has one), and a restarted source: a new SSRC, or a jump
 * beyond RFC 3550 §A.1's MAX_DROPOUT / MAX_MISORDER, which continues at the
 * position the caller gives so the other leg sees one unbroken stream.
 */
import type { RtpPacket } from './rtp.js'
import { seqDelta, tsDelta } from './rtp.js'

/** RFC 3550 §A.1 defaults. */
const MAX_DROPOUT = 3000
const MAX_MISORDER = 100

export interface Placement {
  /** Extended position of the packet's timestamp, in the sender's clock units. */
  at: number
  /** Packets missing between the previous accepted packet and this one. */
  lost: number
  /** The first packet of a (new) source: no loss can be inferred. */
  restart: boolean
}

export class InboundStream {
  private ssrc: number | undefined
  private seq = 0
  private ts = 0
  private at = 0

  /**
   * Where `packet` sits, or undefined for a late or duplicate packet.
   * `continueAt` is where a restarted source's first packet goes.
   */
  place(packet: RtpPacket, continueAt: number): Placement | undefined {
    if (this.ssrc === packet.ssrc) {
      const d = seqDelta(this.seq, packet.sequenceNumber)
      if (d > 0 && d <= MAX_DROPOUT)
        return { at: this.at + tsDelta(this.ts, packet.timestamp), lost: d - 1, restart: false }
      if (d <= 0 && d >= -MAX_MISORDER) return undefined
    }
    return { at: continueAt, lost: 0, restart: true }
  }

  /** Record an accepted packet at position `at` (possibly moved forward by the caller). */
  accept(packet: RtpPacket, at: number): void {
    this.ssrc = packet.ssrc
    this.seq = packet.sequenceNumber
    this.ts = packet.timestamp
    this.at = at
  }
}

/** `(base + position × scale) mod 2^32`, for positions of either sign. */
export function wireTimestamp(base: number, position: number, scale = 1): number {
  const t = (base + position * scale) % 0x1_0000_0000
  return t < 0 ? t + 0x1_0000_0000 : t
}
