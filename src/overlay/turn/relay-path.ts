/**
 * The TURN data plane: Send indications and ChannelData from clients to peers (RFC 8656 §11.2,
 * §12.6), and peers' datagrams back to clients as ChannelData or Data indications (§11.3,
 * §12.7), each packet through the limits (relay-limits.ts) and counted (relay-counters.ts).
 *
 * This runs for every relayed packet, so it builds no key strings, copies no client payload (a
 * ChannelData payload leaves as a view of the received datagram) and allocates only the frame
 * to the client, from Node's Buffer pool.
 */
import type { RemoteInfo } from 'node:dgram'
import type { Allocation, Peer } from './allocation.js'
import type { RelayCounters } from './relay-counters.js'
import type { DirectionLimit, ServerCaps } from './relay-limits.js'
import type { DecodedStunMessage } from './stun-message.js'
import { dataIndication, find } from './turn-helpers.js'

export interface RelayPathDeps {
  counters: RelayCounters
  caps: ServerCaps
  /**
   * The peer policy (peer-policy.ts) for Send indications; channel peers were checked at
   * ChannelBind, and again per packet only if their channel says so (Channel.recheck).
   */
  peerAllowed(p: Peer): boolean
}

export class RelayPath {
  constructor(private readonly d: RelayPathDeps) {}

  /**
   * A ChannelData frame from a client (§12.6): relay the payload to the channel's peer. `frame`
   * is a whole datagram (UDP: bytes past the length are padding, §12.5) or one framed unit of a
   * TCP stream.
   */
  fromClientChannelData(alloc: Allocation | undefined, frame: Uint8Array, now: number): void {
    const c = this.d.counters
    if (alloc === undefined) return void c.dropped.noPermission++
    const len = (frame[2]! << 8) | frame[3]!
    // §12.6: a datagram too short for the claimed length is silently discarded.
    if (4 + len > frame.length) return void c.malformed++
    const ch = alloc.channel((frame[0]! << 8) | frame[1]!, now)
    if (ch === undefined || !alloc.channelPermitted(ch, now)) return void c.dropped.noPermission++
    if (ch.recheck && !this.d.peerAllowed(ch.peer)) return void c.dropped.peerDenied++
    // ChannelBind checked the family (443), so the channel's peer has its relay socket.
    const relay = alloc.socketFor(ch.peer.address)
    if (relay === undefined || !this.admit(alloc.toPeer, len, now)) return
    relay.send(frame, 4, len, ch.peer.port, ch.peer.address)
    c.bytesToPeers += len
    c.packetsToPeers++
  }

  /** A Send indication (§11.2) as decoded: its XOR-PEER-ADDRESS and DATA to fromClientSend. */
  sendIndication(alloc: Allocation | undefined, msg: DecodedStunMessage, now: number): void {
    const peer = find(msg, 'XOR-PEER-ADDRESS')?.value
    const data = find(msg, 'DATA')?.value
    // §11.2: without XOR-PEER-ADDRESS or DATA the indication is discarded.
    if (!peer || !data || msg.unknownRequired.length) return void this.d.counters.malformed++
    this.fromClientSend(alloc, { address: peer.address, port: peer.port }, data, now)
  }

  /**
   * A Send indication (§11.2): relay DATA to the peer if the policy allows it ("if a value is
   * not allowed, the server silently discards the Send indication") and a permission exists.
   * Permissions cover an IP, not a port, so the policy (which also looks at ports) runs here for
   * every indication.
   */
  fromClientSend(alloc: Allocation | undefined, peer: Peer, data: Uint8Array, now: number): void {
    const c = this.d.counters
    if (alloc === undefined) return void c.dropped.noPermission++
    if (!this.d.peerAllowed(peer)) return void c.dropped.peerDenied++
    // §11.2: a peer of a family the allocation has no relayed address of has no permission.
    const relay = alloc.socketFor(peer.address)
    if (relay === undefined || !alloc.hasPermission(peer.address, now)) {
      return void c.dropped.noPermission++
    }
    if (!this.admit(alloc.toPeer, data.length, now)) return
    relay.send(data, peer.port, peer.address)
    c.bytesToPeers += data.length
    c.packetsToPeers++
  }

  /** A datagram from a peer on the relay (§11.3, §12.7): ChannelData, or a Data indication. */
  fromPeer(alloc: Allocation, data: Buffer, rinfo: RemoteInfo, now: number): void {
    const c = this.d.counters
    const ch = alloc.channelForPeer(rinfo.address, rinfo.port, now)
    const permitted =
      alloc.expires > now &&
      (ch !== undefined ? alloc.channelPermitted(ch, now) : alloc.hasPermission(rinfo.address, now))
    if (!permitted) return void c.dropped.noPermission++
    const len = data.length
    if (!this.admit(alloc.toClient, len, now)) return
    let out: Uint8Array
    if (ch !== undefined) {
      // §12.5: over TCP (and TLS) the frame is padded to a multiple of 4; over UDP it is optional.
      const size = alloc.client.transport !== 'udp' ? (len + 3) & ~3 : len
      const frame = Buffer.allocUnsafe(4 + size)
      frame[0] = ch.number >> 8
      frame[1] = ch.number & 0xff
      frame[2] = len >> 8
      frame[3] = len & 0xff
      data.copy(frame, 4)
      if (size > len) frame.fill(0, 4 + len)
      out = frame
    } else {
      out = dataIndication({ address: rinfo.address, port: rinfo.port }, data, rinfo.family)
    }
    alloc.client.send(out)
    c.bytesToClients += len
    c.packetsToClients++
  }

  /** Apply the caps in turn: relaying off, the allocation's packets/s and bytes/s, the server's. */
  private admit(dir: DirectionLimit, bytes: number, now: number): boolean {
    const caps = this.d.caps
    const dropped = this.d.counters.dropped
    if (caps.off) dropped.relayOff++
    else if (!dir.packets.take(1, now)) dropped.packetRate++
    else if (!dir.bytes.take(bytes, now)) dropped.allocationBandwidth++
    else if (!caps.takeBytes(bytes, now)) dropped.serverBandwidth++
    else return true
    return false
  }
}
