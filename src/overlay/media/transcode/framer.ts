/**
 * Cuts a stream of 8 kHz samples placed by RTP timestamp into fixed frames,
 * for when the two legs packetize differently: a phone's ptime of 10 or 30 ms
 * (RFC 4566 §6 a=ptime) against Opus's 20 ms frames, and back.
 *
 * Samples are placed by position (an extended timestamp, not the wrapping
 * 32-bit one), so the framer sees every discontinuity and decides what the
 * leg it feeds should see:
 * - a small hole inside a frame (a lost 10 ms packet, say) is filled with
 *   silence so the frame stays whole;
 * - a larger hole ends the current frame (padded with silence) and starts a
 *   new one at the new position. When the hole came from loss, the whole
 *   frames it spans are reported as skipped, so the caller can advance its
 *   sequence numbers and the receiver sees loss, not a silence-suppression
 *   gap; otherwise the new frame starts a talkspurt (RFC 3551 §4.1: marker).
 * - samples before the current end (a source that moved its timestamps
 *   back) are placed at the end and the distance is reported, so the caller
 *   can shift its clock: output timestamps never run backwards.
 */

export interface Frame {
  /** Position of the first sample. */
  at: number
  /** Exactly `frameSamples` samples (a copy). */
  pcm: Int16Array
  /** First frame of a talkspurt or of the stream. */
  marker: boolean
  /** Whole frames lost just before this one (the caller skips that many sequence numbers). */
  lostBefore: number
}

export interface FramerResult {
  frames: Frame[]
  /** How far the pushed samples were moved forward to avoid overlapping earlier ones. */
  movedBy: number
}

export class Framer {
  private buf: Int16Array
  private len = 0
  private start: number | undefined
  private marker = true
  private lostFrames = 0

  constructor(readonly frameSamples: number) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0)
      throw new RangeError(`frame of ${frameSamples} samples`)
    this.buf = new Int16Array(frameSamples * 2)
  }

  /** The position right after the last sample pushed, if any. */
  get end(): number | undefined {
    return this.start === undefined ? undefined : this.start + this.len
  }

  /**
   * Place `samples` at position `at`. `lost` says the packets between the
   * previous push and this one went missing (a sequence-number gap), and
   * `marker` that the source itself marked a talkspurt start.
   */
  push(samples: Int16Array, at: number, lost: boolean, marker: boolean): FramerResult {
    const frames: Frame[] = []
    let movedBy = 0
    if (marker) this.marker = true
    if (this.start === undefined) {
      this.start = at
    } else {
      const end = this.start + this.len
      let gap = at - end
      if (gap < 0) {
        movedBy = -gap
        gap = 0
      }
      const room = this.frameSamples - this.len
      if (gap > 0 && this.len > 0 && gap < room) {
        this.append(new Int16Array(gap)) // a hole inside the frame: silence keeps it whole
      } else if (gap > 0) {
        if (this.len > 0) {
          this.append(new Int16Array(room))
          frames.push(this.take())
        }
        const hole = at - (this.start + this.len)
        if (lost) this.lostFrames += Math.floor(hole / this.frameSamples)
        else this.marker = true
        this.start = at
        this.len = 0
      }
    }
    this.append(samples)
    while (this.len >= this.frameSamples) frames.push(this.take())
    return { frames, movedBy }
  }

  private append(samples: Int16Array): void {
    if (this.buf.length < this.len + samples.length) {
      const grown = new Int16Array(Math.max(this.buf.length * 2, this.len + samples.length))
      grown.set(this.buf.subarray(0, this.len))
      this.buf = grown
    }
    this.buf.set(samples, this.len)
    this.len += samples.length
  }

  private take(): Frame {
    const n = this.frameSamples
    const frame: Frame = {
      at: this.start!,
      pcm: this.buf.slice(0, n),
      marker: this.marker,
      lostBefore: this.lostFrames,
    }
    this.marker = false
    this.lostFrames = 0
    this.buf.copyWithin(0, n, this.len)
    this.len -= n
    this.start! += n
    return frame
  }
}
