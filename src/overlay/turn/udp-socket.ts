/**
 * UDP sockets of the TURN server. Node's dgram resolves every destination through dns.lookup,
 * which even for an IP literal costs a validation and a process.nextTick per datagram. The
 * server only sends to IPv4 literals (the source of a received datagram, a decoded
 * XOR-PEER-ADDRESS), so its sockets hand the address straight back.
 */
import { createSocket } from 'node:dgram'
import type { Socket, SocketOptions } from 'node:dgram'

export const ipLookup: NonNullable<SocketOptions['lookup']> = (address, _options, callback) =>
  callback(null, address, 4)

/** An IPv4 UDP socket with the literal-address lookup and, if given, buffer sizes in bytes. */
export function udpSocket(bufferBytes?: number): Socket {
  const buffers = bufferBytes ? { recvBufferSize: bufferBytes, sendBufferSize: bufferBytes } : {}
  return createSocket({ type: 'udp4', lookup: ipLookup, ...buffers })
}

/** A udpSocket bound to host:port (0: any free port). */
export async function bindUdp(host: string, port: number, bufferBytes?: number): Promise<Socket> {
  const s = udpSocket(bufferBytes)
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject)
    s.bind(port, host, () => {
      s.off('error', reject)
      resolve()
    })
  })
  return s
}
