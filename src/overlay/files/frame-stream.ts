/**
 * Length-prefixed frames (unsigned varint length, then the bytes, as
 * `lpStream` and multiformats do) over one libp2p stream, for a long-lived
 * exchange in both directions at once.
 *
 * Unlike `lpStream`, whose read buffer errors when it overflows, this reader
 * bounds what it holds by the protocol: a sender may have at most a window of
 * chunks unacknowledged (file-protocol.ts), so more than `maxBuffered` bytes
 * waiting means a peer that ignores the window, and the stream is aborted.
 * Writes wait for the muxer's `drain` when its buffer is full, so a slow
 * receiver slows the sender down instead of filling memory.
 */
import type { Stream } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'

/** The stream ended, was reset, or carried a bad frame. */
export class FrameStreamError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unavailable', options)
    this.name = 'FrameStreamError'
  }
}

export interface FrameStreamOptions {
  /** Largest frame, without its length prefix. */
  maxFrameBytes: number
  /** Most bytes held unread before the peer is taken to ignore flow control. */
  maxBuffered: number
}

interface Waiter {
  resolve: (frame: Uint8Array[] | null) => void
  reject: (err: Error) => void
}

export class FrameStream {
  private parts: Uint8Array[] = []
  private buffered = 0
  private ended = false
  private failure: Error | undefined
  private waiter: Waiter | undefined

  constructor(
    readonly stream: Stream,
    private readonly opts: FrameStreamOptions,
  ) {
    stream.addEventListener('message', (evt) => {
      const data = evt.data
      // A list's buffers are kept as they are: joining them here would copy every chunk once more.
      if (data instanceof Uint8Array) this.parts.push(data)
      else for (const b of data) this.parts.push(b)
      this.buffered += data.byteLength
      if (this.buffered > opts.maxBuffered + opts.maxFrameBytes) {
        this.fail(new FrameStreamError('the peer sent more than its window allows'))
        stream.abort(this.failure!)
        return
      }
      this.wake()
    })
    stream.addEventListener('remoteCloseWrite', () => {
      this.ended = true
      this.wake()
    })
    stream.addEventListener('close', (evt) => {
      const err = (evt as { error?: Error }).error
      if (err != null) this.fail(new FrameStreamError(`the stream failed: ${err.message}`))
      this.ended = true
      this.wake()
    })
  }

  private fail(err: Error): void {
    this.failure ??= err
  }

  /** The next frame, or null when the peer closed its side cleanly between frames. */
  async read(signal?: AbortSignal): Promise<Uint8Array | null> {
    const parts = await this.readParts(signal)
    return parts == null ? null : parts.length === 1 ? parts[0]! : join(parts)
  }

  /**
   * The next frame in the pieces it arrived in (views, not copies: a chunk's
   * megabyte is never joined), or null as `read` gives it.
   */
  readParts(signal?: AbortSignal): Promise<Uint8Array[] | null> {
    if (this.waiter != null) return Promise.reject(new FrameStreamError('one reader at a time'))
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined
        reject(signal?.reason instanceof Error ? signal.reason : new FrameStreamError('aborted'))
      }
      if (signal?.aborted === true) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiter = {
        resolve: (f) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(f)
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      this.wake()
    })
  }

  private wake(): void {
    const w = this.waiter
    if (w == null) return
    let frame: Uint8Array[] | undefined
    try {
      frame = this.take()
    } catch (err) {
      this.waiter = undefined
      w.reject(err as Error)
      this.stream.abort(err as Error)
      return
    }
    if (frame !== undefined) {
      this.waiter = undefined
      w.resolve(frame)
      return
    }
    if (this.failure != null) {
      this.waiter = undefined
      w.reject(this.failure)
    } else if (this.ended) {
      this.waiter = undefined
      if (this.buffered > 0) w.reject(new FrameStreamError('the stream ended inside a frame'))
      else w.resolve(null)
    }
  }

  /** A whole frame off the front of the buffer, or undefined if none is complete. */
  private take(): Uint8Array[] | undefined {
    if (this.buffered === 0) return undefined
    let len = 0
    let shift = 0
    let pos = 0
    // Read the varint across parts.
    for (;;) {
      if (pos >= this.buffered) return undefined
      const b = this.byteAt(pos++)
      len += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) break
      shift += 7
      if (shift > 35) throw new FrameStreamError('bad frame length')
    }
    if (len > this.opts.maxFrameBytes)
      throw new FrameStreamError(`a ${len}-byte frame is over the ${this.opts.maxFrameBytes} limit`)
    if (this.buffered - pos < len) return undefined
    this.consume(pos)
    return this.consume(len)
  }

  private byteAt(pos: number): number {
    for (const p of this.parts) {
      if (pos < p.length) return p[pos]!
      pos -= p.length
    }
    return 0
  }

  /** The next `n` buffered bytes, as views of the parts that hold them. */
  private consume(n: number): Uint8Array[] {
    this.buffered -= n
    const out: Uint8Array[] = []
    let left = n
    while (left > 0) {
      const p = this.parts[0]!
      const take = Math.min(p.length, left)
      out.push(take === p.length ? p : p.subarray(0, take))
      left -= take
      if (take === p.length) this.parts.shift()
      else this.parts[0] = p.subarray(take)
    }
    return out.length > 0 ? out : [new Uint8Array(0)]
  }

  /** Send one frame; resolves once the muxer has room for more. */
  write(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.writeParts([frame], signal)
  }

  /**
   * Send one frame given in parts (a chunk's CBOR head, then its data), so a
   * megabyte of file data is not copied to join it to its few header bytes.
   */
  async writeParts(parts: Uint8Array[], signal?: AbortSignal): Promise<void> {
    let length = 0
    for (const p of parts) length += p.length
    // The length prefix and small leading parts (a chunk's CBOR head) go as one send: each
    // send() may become a muxer frame and an encrypted transport message of its own.
    let small = 0
    let head = varint(length)
    while (small < parts.length - 1 && parts[small]!.length <= SMALL_PART_BYTES) small++
    if (small > 0) head = join([head, ...parts.slice(0, small)])
    // send() queues the bytes even when it returns false (the buffer is full).
    let room = this.stream.send(head)
    for (const p of parts.slice(small)) room = this.stream.send(p) && room
    if (!room) await this.stream.onDrain(signal != null ? { signal } : {})
  }
}

/** Parts up to this size are joined to the length prefix before sending. */
const SMALL_PART_BYTES = 1024

function join(parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

function varint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}
