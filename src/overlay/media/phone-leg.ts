/**
 * The phone side of an anchored call: plain RTP (RFC 3550, RTP/AVP per RFC
 * 3551) over one UDP socket on 127.0.0.1. The gateway serves phones on this
 * machine only, so the anchor only ever sends RTP to this machine: loopback,
 * or one of its own interface addresses (Linphone, for one, puts its LAN
 * address in c= even when it talks to 127.0.0.1). An SDP naming any other
 * host would turn the node into a packet reflector aimed wherever a body says
 * (RFC 3264 §10's warning about media sent to an address taken on trust),
 * and is refused.
 *
 * Only the RTP port is opened. Phones that send RTCP to port+1 (RFC 3550
 * §11) reach a closed port; the WebRTC leg's RTCP is libdatachannel's own.
 */
import { createSocket } from 'node:dgram'
import type { Socket, RemoteInfo } from 'node:dgram'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { MediaNegotiationError } from '../sip/gateway/gateway-media.js'
import type { Sdp, SdpMedia } from './sdp.js'
import { connectionOf } from './sdp.js'

export interface RtpTarget {
  address: string
  port: number
}

/** RFC 5735 §3 (127.0.0.0/8) and RFC 4291 §2.5.3 (::1). */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.')
  if (isIP(address) === 6) return address === '::1' || address === '0:0:0:0:0:0:0:1'
  return false
}

/** This machine's IPv4 addresses, read at most every few seconds (the relay asks per packet). */
let hostAddresses: { at: number; set: Set<string> } | undefined
const HOST_ADDRESSES_TTL_MS = 5_000

/** Loopback, or an IPv4 address of one of this machine's own interfaces. */
export function isThisHost(address: string): boolean {
  if (isLoopback(address)) return true
  if (isIP(address) !== 4) return false
  const now = Date.now()
  if (hostAddresses == null || now - hostAddresses.at > HOST_ADDRESSES_TTL_MS) {
    const set = new Set<string>()
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) if (a.family === 'IPv4') set.add(a.address)
    hostAddresses = { at: now, set }
  }
  return hostAddresses.set.has(address)
}

/**
 * Where the phone wants its RTP, from its c= and m= lines. Undefined means
 * "send nothing": the RFC 2543 hold form `c=IN IP4 0.0.0.0` (RFC 3264 §8.4
 * still asks answerers to accept it). Throws for anything off this machine.
 */
export function phoneTarget(sdp: Sdp, media: SdpMedia): RtpTarget | undefined {
  const c = connectionOf(sdp, media)
  if (c == null) throw new MediaNegotiationError('phone SDP has no c= line for its audio')
  if (c.address === '0.0.0.0' || c.address === '::') return undefined
  if (c.family === 'IP6' && isLoopback(c.address)) {
    throw new MediaNegotiationError(
      'phone media address ::1: the phone leg is IPv4 loopback (127.0.0.1) only',
    )
  }
  if (!isThisHost(c.address)) {
    throw new MediaNegotiationError(
      `phone media address ${c.address} is not on this machine; the gateway relays RTP only to phones on the node's own machine`,
    )
  }
  if (media.port < 1) throw new MediaNegotiationError('phone audio port is 0 (stream rejected)')
  return { address: c.address, port: media.port }
}

export interface PhoneLegInit {
  /** Local port range to bind in, inclusive; 0/0 lets the OS choose. */
  portRange?: readonly [number, number]
  onPacket: (packet: Buffer) => void
}

export class PhoneLeg {
  private target: RtpTarget | undefined
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async open(init: PhoneLegInit): Promise<PhoneLeg> {
    const [lo, hi] = init.portRange ?? [0, 0]
    let lastError: unknown
    const tries = lo === 0 ? 1 : Math.min(16, hi - lo + 1)
    for (let i = 0; i < tries; i++) {
      const want = lo === 0 ? 0 : lo + Math.floor(Math.random() * (hi - lo + 1))
      try {
        const socket = await bind(want)
        const leg = new PhoneLeg(socket, socket.address().port)
        socket.on('message', (msg: Buffer, from: RemoteInfo) => {
          // Anything not from this machine is not our phone (the socket is on loopback anyway).
          if (isThisHost(from.address)) init.onPacket(msg)
        })
        socket.on('error', () => undefined)
        return leg
      } catch (err) {
        lastError = err
      }
    }
    throw new MediaNegotiationError(`no free RTP port for the phone leg: ${String(lastError)}`)
  }

  get currentTarget(): RtpTarget | undefined {
    return this.target
  }

  setTarget(target: RtpTarget | undefined): void {
    this.target = target
  }

  /** True when the packet was handed to the socket. */
  send(packet: Uint8Array): boolean {
    const t = this.target
    if (t == null) return false
    this.socket.send(packet, t.port, t.address)
    return true
  }

  close(): void {
    try {
      this.socket.close()
    } catch {
      // already closed
    }
  }
}

function bind(port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4' })
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close()
      reject(err)
    })
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(socket))
  })
}
