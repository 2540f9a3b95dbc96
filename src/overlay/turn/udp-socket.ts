/**
 * UDP sockets of the TURN server. Node's dgram resolves every destination through dns.lookup,
 * which even for an IP literal costs a validation and a process.nextTick per datagram. The
 * server only sends to IP literals (the source of a received datagram, a decoded
 * XOR-PEER-ADDRESS), so its sockets hand the address straight back.
 */
import { createSocket } from 'node:dgram'
import type { Socket, SocketOptions } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { AddressFamily } from './stun-address.js'

export const ipLookup: NonNullable<SocketOptions['lookup']> = (address, _options, callback) =>
  callback(null, address, 4)
const ip6Lookup: NonNullable<SocketOptions['lookup']> = (address, _options, callback) =>
  callback(null, address, 6)

/** The family of an IP literal: IPv6 when it has a colon (mapped IPv4 included). */
export const familyOf = (address: string): AddressFamily => (isIPv6(address) ? 'IPv6' : 'IPv4')

/**
 * A UDP socket of `family` with the literal-address lookup and, if given, buffer sizes in bytes.
 * IPv6 sockets are IPv6-only: a relay of one family must not take the other's traffic (a socket
 * on `::` would otherwise also receive IPv4 datagrams as ::ffff:a.b.c.d).
 */
export function udpSocket(
  bufferBytes?: number,
  family: AddressFamily = 'IPv4',
  reusePort = false,
): Socket {
  const buffers = bufferBytes ? { recvBufferSize: bufferBytes, sendBufferSize: bufferBytes } : {}
  // SO_REUSEPORT (Node 22.12+): the relay threads of turn-cluster.ts share the listen port.
  const reuse = reusePort ? { reusePort: true } : {}
  return family === 'IPv4'
    ? createSocket({ type: 'udp4', lookup: ipLookup, ...buffers, ...reuse })
    : createSocket({ type: 'udp6', ipv6Only: true, lookup: ip6Lookup, ...buffers, ...reuse })
}

/** A udpSocket of host's family bound to host:port (0: any free port), optionally SO_REUSEPORT. */
export async function bindUdp(
  host: string,
  port: number,
  bufferBytes?: number,
  reusePort = false,
): Promise<Socket> {
  const s = udpSocket(bufferBytes, familyOf(host), reusePort)
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject)
    s.bind(port, host, () => {
      s.off('error', reject)
      resolve()
    })
  })
  return s
}
