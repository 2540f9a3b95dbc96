/**
 * The renderer's SIP pipes (PreloadApi.sipOpen/sipSend/onSip/sipClose),
 * each one WebSocket from the main process to the node's control API: there
 * each socket is one local SIP user agent (sip-bridge-protocol.ts), so a pipe
 * behaves exactly like the web UI's socket, REGISTER bindings and all. The
 * renderer never sees the token or the port.
 */
import { WebSocket } from 'ws'
import { decodeSipFrame, encodeSipFrame } from '../../shared/api/sip-bridge-protocol.js'
import type { Logger } from '../../shared/logger.js'
import type { NodeConnection } from './host-protocol.js'
import { wsProtocols, wsUrl } from './node-link.js'

export interface SipPipesOptions {
  /** The node's control API now, if it is up. */
  connection: () => NodeConnection | undefined
  /** A SIP message from the node for pipe `id`. */
  onMessage: (id: number, raw: string) => void
  /** Pipe `id` was lost (not closed by the renderer). */
  onClosed: (id: number, reason: string) => void
  log: Logger
  /** A UI needs one or two (one user agent, one during a reconnect). */
  maxPipes?: number
  openTimeoutMs?: number
}

/** Opening failed or was refused. */
export class SipPipeError extends Error {
  readonly code: 'unavailable' | 'too_many' | 'timeout'
  constructor(code: SipPipeError['code'], message: string) {
    super(message)
    this.name = 'SipPipeError'
    this.code = code
  }
}

const DEFAULT_MAX_PIPES = 8
const DEFAULT_OPEN_TIMEOUT_MS = 10_000
/** A node that stops reading: drop the pipe instead of buffering without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024
const MAX_FRAME_BYTES = 256 * 1024

export class SipPipes {
  readonly #opts: SipPipesOptions
  readonly #pipes = new Map<number, WebSocket>()
  #nextId = 1

  constructor(opts: SipPipesOptions) {
    this.#opts = opts
  }

  get size(): number {
    return this.#pipes.size
  }

  async open(): Promise<number> {
    const connection = this.#opts.connection()
    if (connection === undefined)
      throw new SipPipeError('unavailable', 'the Kaiwa node is not running')
    const max = this.#opts.maxPipes ?? DEFAULT_MAX_PIPES
    if (this.#pipes.size >= max) {
      throw new SipPipeError('too_many', `at most ${max} SIP pipes may be open at once`)
    }
    const id = this.#nextId++
    const socket = new WebSocket(wsUrl(connection), wsProtocols(connection), {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
    })
    this.#pipes.set(id, socket)
    try {
      await this.#opened(socket)
    } catch (err) {
      this.#pipes.delete(id)
      socket.terminate()
      throw err
    }
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      // Other frames on the socket (events, API replies) are not for the SIP stack.
      const raw = decodeSipFrame(data.toString())
      if (raw !== undefined) this.#opts.onMessage(id, raw)
    })
    socket.on('close', (code, reason) => {
      // Still listed: the node side closed it, not us.
      if (this.#pipes.get(id) !== socket) return
      this.#pipes.delete(id)
      this.#opts.onClosed(id, reason.toString() || `closed by the node (${code})`)
    })
    return id
  }

  /** Send one SIP message; false if the pipe is not open (the renderer learns from onClosed). */
  send(id: number, raw: string): boolean {
    const socket = this.#pipes.get(id)
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return false
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#opts.log.warn(`SIP pipe ${id}: the node is not reading; closing it`)
      this.#drop(id, 'the node stopped reading')
      return false
    }
    socket.send(encodeSipFrame(raw))
    return true
  }

  /** The renderer closed it: no onClosed follows. */
  close(id: number): void {
    const socket = this.#pipes.get(id)
    if (socket === undefined) return
    this.#pipes.delete(id)
    socket.close(1000, 'closed by the UI')
  }

  /**
   * Close every pipe. With `reason` (the node went away) the renderer is told
   * through onClosed; without (it reloaded or crashed) nobody is left to tell.
   */
  closeAll(reason?: string): void {
    for (const id of [...this.#pipes.keys()]) {
      if (reason === undefined) this.close(id)
      else this.#drop(id, reason)
    }
  }

  #drop(id: number, reason: string): void {
    const socket = this.#pipes.get(id)
    if (socket === undefined) return
    this.#pipes.delete(id)
    socket.terminate()
    this.#opts.onClosed(id, reason)
  }

  #opened(socket: WebSocket): Promise<void> {
    const timeoutMs = this.#opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup()
        reject(
          new SipPipeError('timeout', `the node did not accept a SIP pipe within ${timeoutMs} ms`),
        )
      }, timeoutMs)
      const onOpen = (): void => {
        cleanup()
        resolve()
      }
      const onFail = (err?: Error): void => {
        cleanup()
        const why = err?.message ?? 'closed while opening'
        reject(new SipPipeError('unavailable', `cannot open a SIP pipe to the node: ${why}`))
      }
      const onClose = (): void => onFail()
      const cleanup = (): void => {
        clearTimeout(timer)
        socket.off('open', onOpen)
        socket.off('error', onFail)
        socket.off('close', onClose)
        // From here on errors are reported by 'close'; keep one listener so they never throw.
        socket.on('error', (err) => this.#opts.log.debug(`SIP pipe socket: ${err.message}`))
      }
      socket.on('open', onOpen)
      socket.on('error', onFail)
      socket.on('close', onClose)
    })
  }
}
