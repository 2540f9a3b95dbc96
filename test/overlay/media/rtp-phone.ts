/**
 * A stand-in SIP phone's media for the anchor tests: one UDP socket on
 * 127.0.0.1 that writes RTP (RFC 3550 §5.1) and RFC 4733 events, and records
 * what it receives.
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'

export interface RtpPacket {
  pt: number
  marker: boolean
  seq: number
  ts: number
  ssrc: number
  payload: Buffer
}

export function rtp(p: {
  pt: number
  seq: number
  ts: number
  ssrc: number
  payload: Buffer
  marker?: boolean
}): Buffer {
  const h = Buffer.alloc(12)
  h[0] = 0x80
  h[1] = (p.marker === true ? 0x80 : 0) | p.pt
  h.writeUInt16BE(p.seq & 0xffff, 2)
  h.writeUInt32BE(p.ts >>> 0, 4)
  h.writeUInt32BE(p.ssrc >>> 0, 8)
  return Buffer.concat([h, p.payload])
}

export function parseRtp(b: Buffer): RtpPacket {
  return {
    pt: b[1]! & 0x7f,
    marker: (b[1]! & 0x80) !== 0,
    seq: b.readUInt16BE(2),
    ts: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(12 + 4 * (b[0]! & 0x0f)),
  }
}

/** RFC 4733 §2.3: event, E|R|volume, duration. */
export function dtmfPayload(event: number, end: boolean, duration: number): Buffer {
  const b = Buffer.alloc(4)
  b[0] = event
  b[1] = (end ? 0x80 : 0) | 10
  b.writeUInt16BE(duration, 2)
  return b
}

export class RtpPhone {
  readonly received: RtpPacket[] = []
  private seq = 1000
  private ts = 160_000

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    readonly ssrc: number,
  ) {
    socket.on('message', (msg) => this.received.push(parseRtp(msg)))
  }

  static async open(ssrc: number): Promise<RtpPhone> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    return new RtpPhone(socket, socket.address().port, ssrc)
  }

  /** A plain RTP/AVP offer or answer for this phone, as a stock phone writes it. */
  sdp(opts: { formats: string; rtpmaps?: string[]; direction?: string; address?: string }): string {
    return [
      'v=0',
      `o=phone 42 1 IN IP4 ${opts.address ?? '127.0.0.1'}`,
      's=call',
      `c=IN IP4 ${opts.address ?? '127.0.0.1'}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${opts.formats}`,
      ...(opts.rtpmaps ?? []).map((r) => `a=${r}`),
      `a=${opts.direction ?? 'sendrecv'}`,
      '',
    ].join('\r\n')
  }

  /** Send one 20 ms G.711 frame (160 samples) with payload type `pt`. */
  sendAudio(port: number, pt: number, fill = 0x55): Buffer {
    const payload = Buffer.alloc(160, fill)
    const packet = rtp({ pt, seq: this.seq++, ts: (this.ts += 160), ssrc: this.ssrc, payload })
    this.socket.send(packet, port, '127.0.0.1')
    return payload
  }

  sendDtmf(port: number, pt: number, event: number): Buffer {
    const payload = dtmfPayload(event, true, 800)
    this.socket.send(
      rtp({ pt, seq: this.seq++, ts: this.ts, ssrc: this.ssrc, payload, marker: true }),
      port,
      '127.0.0.1',
    )
    return payload
  }

  /** Send a prepared packet to the anchor's phone-side port. */
  socketSend(packet: Buffer, port: number): void {
    this.socket.send(packet, port, '127.0.0.1')
  }

  close(): void {
    this.socket.close()
  }
}

/** The m=audio port and payload types of an SDP body. */
export function audioOf(sdp: string): { port: number; formats: number[]; direction: string } {
  const m = /^m=audio (\d+) \S+ ([\d ]+)\s*$/m.exec(sdp)
  if (m == null) throw new Error(`no m=audio in ${sdp}`)
  const dir = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(sdp)
  return {
    port: Number(m[1]),
    formats: m[2]!.trim().split(' ').map(Number),
    direction: dir?.[1] ?? 'sendrecv',
  }
}

export async function waitFor(
  cond: () => boolean,
  ms: number,
  what: string,
  tick?: () => void,
): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    tick?.()
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * The time a SIP answer takes to cross the overlay, by which point the
 * answerer's ICE checks have reached the offerer. Applying an answer within
 * a few milliseconds of the answerer starting ICE (only possible when both
 * anchors share one process) makes libdatachannel's loopback DTLS race
 * (webrtc-leg.ts, "Known limit") far more likely; with this delay it is rare,
 * and the tests that use it retry.
 */
export function overlayHop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 150))
}
