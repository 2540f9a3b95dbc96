/**
 * SIP over UDP on loopback (RFC 3261 §18.1.1, §18.2.1). One socket both
 * receives from phones and sends to them, so a phone's responses and requests
 * come back to the port in our Via. Datagrams larger than `maxDatagramBytes`
 * are dropped unread; everything else goes to the gateway as raw bytes with
 * the flow it came on (responses go back to the source address and port,
 * RFC 3581 §4, which on loopback is always where the phone listens).
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import type { Logger } from '../../../shared/logger.js'
import type { GatewayFlow } from './gateway-types.js'

export interface UdpTransportInit {
  host: string
  maxDatagramBytes: number
  log: Logger
  onDatagram: (bytes: Uint8Array, flow: GatewayFlow) => void
  onOversized: (size: number, flow: GatewayFlow) => void
}

/** Socket buffer size asked for (the kernel may grant less). */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024

export class UdpTransport {
  private socket: Socket | undefined

  constructor(private readonly init: UdpTransportInit) {}

  /** Bind to `port` on the loopback host; resolves with the bound port. */
  bind(port: number): Promise<number> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false })
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close()
        reject(err)
      }
      socket.once('error', onError)
      socket.bind({ port, address: this.init.host, exclusive: true }, () => {
        socket.off('error', onError)
        // A burst from a busy phone or PBX overflows Linux's default 208 KiB
        // receive buffer and the kernel drops datagrams (counted in
        // /proc/net/snmp RcvbufErrors); the peer then waits for Timer A/E
        // (500 ms) to retransmit. The kernel caps this at net.core.rmem_max.
        for (const set of [
          () => socket.setRecvBufferSize(UDP_BUFFER_BYTES),
          () => socket.setSendBufferSize(UDP_BUFFER_BYTES),
        ]) {
          try {
            set()
          } catch (err) {
            this.init.log.debug(`could not enlarge a UDP buffer: ${String(err)}`)
          }
        }
        socket.on('error', (err) => this.init.log.debug(`UDP socket error: ${err.message}`))
        socket.on('message', (buf, rinfo) => {
          const flow = this.flow(rinfo.address, rinfo.port)
          if (buf.length > this.init.maxDatagramBytes) {
            this.init.onOversized(buf.length, flow)
            return
          }
          this.init.onDatagram(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), flow)
        })
        this.socket = socket
        resolve(socket.address().port)
      })
    })
  }

  /** A flow that sends to address:port from our socket. */
  flow(address: string, port: number): GatewayFlow {
    const send = (bytes: Uint8Array): boolean => this.send(bytes, address, port)
    return {
      transport: 'UDP',
      remote: { address, port },
      key: `udp:${address}:${port}`,
      reliable: false,
      get open() {
        return true
      },
      send,
    }
  }

  send(bytes: Uint8Array, address: string, port: number): boolean {
    const s = this.socket
    if (s == null) return false
    try {
      s.send(bytes, port, address, (err) => {
        if (err != null) this.init.log.debug(`UDP send to ${address}:${port}: ${err.message}`)
      })
      return true
    } catch (err) {
      this.init.log.debug(`UDP send to ${address}:${port}: ${String(err)}`)
      return false
    }
  }

  close(): Promise<void> {
    const s = this.socket
    this.socket = undefined
    if (s == null) return Promise.resolve()
    return new Promise((resolve) => s.close(() => resolve()))
  }
}
