/**
 * RFC 4733 event starts for phones that need them.
 *
 * RFC 4733 §2.5.1.2 has a sender start an event with a packet whose E bit is
 * clear (and the marker set, §2.5.1.1), then send updates, then the end
 * packet, retransmitted (§2.5.1.4). Chromium sending an Opus call sends a
 * keypad digit as its three end packets only. A receiver may take an end
 * packet alone as the whole event (§2.5.2.2 allows it), but baresip 1.0 reports
 * a key press on the start and ignores an end with no start before it.
 *
 * So toward the phone the anchor adds what was missing: for an event whose
 * first packet (by its event timestamp, §2.5.1.2: the same in every packet of
 * one event) is already an end, it sends a start first: a copy with the E bit
 * clear and the marker set. Events that arrive with their start pass as they
 * are.
 */

/** RFC 4733 §2.3: event, E|R|volume, duration; the E bit is the top bit of byte 1. */
const END_BIT = 0x80
const MARKER_BIT = 0x80
const EVENT_PAYLOAD = 4
/** Event timestamps remembered: an event's retransmitted ends come within a few packets. */
const REMEMBERED = 16

export class EventStartRepair {
  private readonly seen: number[] = []

  /** @param eventPayloadTypes the incoming telephone-event payload types */
  constructor(private eventPayloadTypes: ReadonlySet<number>) {}

  /** A re-negotiation changed the numbering. */
  setPayloadTypes(eventPayloadTypes: ReadonlySet<number>): void {
    this.eventPayloadTypes = eventPayloadTypes
  }

  /**
   * The packets to send in place of `packet`: itself, or a synthesized start
   * and then itself. Not-RTP and non-event packets pass untouched.
   */
  repair(packet: Buffer): Buffer[] {
    if (packet.length < 12) return [packet]
    const csrcs = packet[0]! & 0x0f
    const extension = (packet[0]! & 0x10) !== 0
    let offset = 12 + 4 * csrcs
    if (extension) {
      if (packet.length < offset + 4) return [packet]
      offset += 4 + 4 * packet.readUInt16BE(offset + 2)
    }
    if (!this.eventPayloadTypes.has(packet[1]! & 0x7f)) return [packet]
    if (packet.length < offset + EVENT_PAYLOAD) return [packet]
    const ts = packet.readUInt32BE(4)
    const known = this.seen.includes(ts)
    if (!known) {
      this.seen.push(ts)
      if (this.seen.length > REMEMBERED) this.seen.shift()
    }
    if (known || (packet[offset + 1]! & END_BIT) === 0) return [packet]
    const start = Buffer.from(packet)
    start[1] = start[1]! | MARKER_BIT
    start[offset + 1] = start[offset + 1]! & ~END_BIT
    const end = Buffer.from(packet)
    end[1] = end[1]! & ~MARKER_BIT
    return [start, end]
  }
}
