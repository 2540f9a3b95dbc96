/**
 * A libp2p MultiaddrConnection over one `ws` WebSocket (RFC 6455), both directions: each write is
 * one binary message, each received message goes up as it came. Noise and yamux run on top, as on
 * TCP. Modelled on @libp2p/websockets' own connection (which wraps the W3C WebSocket instead),
 * plus read backpressure: libp2p's pause/resume stop and restart reading the socket (ws's
 * pause/resume), so a slow reader does not buffer without bound.
 */
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { SendResult } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { WebSocket } from 'ws'

/** Past this many unsent bytes the writer is told to wait for 'drain'. */
const MAX_BUFFERED = 4 * 1024 * 1024
const DRAIN_POLL_MS = 10

export interface WssConnInit {
  socket: WebSocket
  remoteAddr: Multiaddr
  direction: 'inbound' | 'outbound'
  log: Logger
}

class WssMultiaddrConnection extends AbstractMultiaddrConnection {
  private readonly socket: WebSocket
  private drainTimer: ReturnType<typeof setInterval> | undefined

  constructor(init: WssConnInit) {
    super({ remoteAddr: init.remoteAddr, direction: init.direction, log: init.log })
    this.socket = init.socket
    this.socket.binaryType = 'nodebuffer'
    this.socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.abort(new Error('a text frame on a libp2p WebSocket'))
      this.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    })
    this.socket.once('close', (code: number) => {
      this.stopDrainPoll()
      // 1006: no close frame (RFC 6455 §7.1.5), the link broke; otherwise an orderly close.
      if (code === 1006) this.onRemoteReset()
      else this.onTransportClosed()
    })
    this.socket.on('error', (err: Error) => this.log('websocket error %s', err.message))
  }

  sendData(data: Parameters<AbstractMultiaddrConnection['sendData']>[0]): SendResult {
    for (const buf of data) this.socket.send(buf, { binary: true })
    const canSendMore = this.socket.bufferedAmount < MAX_BUFFERED
    if (!canSendMore) this.startDrainPoll()
    return { sentBytes: data.byteLength, canSendMore }
  }

  sendReset(): void {
    this.stopDrainPoll()
    this.socket.terminate()
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    this.socket.close()
    options?.signal?.throwIfAborted()
  }

  sendPause(): void {
    this.socket.pause()
  }

  sendResume(): void {
    this.socket.resume()
  }

  private startDrainPoll(): void {
    if (this.drainTimer != null) return
    this.drainTimer = setInterval(() => {
      if (this.socket.bufferedAmount > 0) return
      this.stopDrainPoll()
      this.safeDispatchEvent('drain')
    }, DRAIN_POLL_MS)
  }

  private stopDrainPoll(): void {
    if (this.drainTimer != null) clearInterval(this.drainTimer)
    this.drainTimer = undefined
  }
}

export function wssToMaConn(init: WssConnInit): AbstractMultiaddrConnection {
  return new WssMultiaddrConnection(init)
}
