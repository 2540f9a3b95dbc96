/**
 * Message framing for stream transports (TCP, libp2p streams): RFC 3261 §18.3
 * (Content-Length delimits each message) and RFC 5626 §3.5.1 CRLF keep-alives.
 *
 * push() returns every complete message in the bytes received so far. A
 * double CRLF between messages is a keep-alive "ping", reported as
 * `{ keepalive: true }` so the caller answers with a single CRLF "pong"; a lone
 * CRLF (a pong, or §7.5 padding before a start line) is skipped silently.
 *
 * A malformed but well-framed message is reported and parsing goes on after
 * it. A framing error (Content-Length missing, bad or duplicated, or more than
 * maxBytes buffered) is reported once and the framer stops: the message
 * boundaries are lost and the caller must close the stream.
 */
import { DEFAULT_MAX_SIP_BYTES, SipParseError, findHeadEnd, parseSipMessage } from './sip-parser.js'
import type { ParseResult } from './sip-parser.js'

export interface SipKeepalive {
  ok: true
  keepalive: true
  message?: undefined
}

export type FramerResult = ParseResult | SipKeepalive

export interface SipStreamFramerOptions {
  /** Largest message (and largest buffered header section), default 64 KiB. */
  maxBytes?: number
}

export class SipStreamFramer {
  readonly maxBytes: number
  #buf = new Uint8Array(0)
  #start = 0
  #end = 0
  /** Where to resume looking for the end of the header section. */
  #scanFrom = 0
  /** Total bytes the current message needs, once its head is parsed. */
  #needed = 0
  #failed = false

  constructor(opts: SipStreamFramerOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_SIP_BYTES
  }

  /** True after a framing error: further pushes return nothing. */
  get failed(): boolean {
    return this.#failed
  }

  /** Bytes buffered and not yet part of an emitted message. */
  get buffered(): number {
    return this.#end - this.#start
  }

  push(chunk: Uint8Array): FramerResult[] {
    if (this.#failed) return []
    this.#append(chunk)
    const out: FramerResult[] = []
    for (;;) {
      const b = this.#buf
      const s = this.#start
      const n = this.#end - s
      if (n === 0) break
      if (this.#needed === 0 && b[s] === 13) {
        // Between messages: CRLF keep-alives (RFC 5626 §3.5.1) and §7.5 padding.
        if (n < 2) break
        if (b[s + 1] === 10) {
          if (n < 3 || (n === 3 && b[s + 2] === 13)) break // could still become a ping
          if (n >= 4 && b[s + 2] === 13 && b[s + 3] === 10) {
            this.#consume(4)
            out.push({ ok: true, keepalive: true })
          } else this.#consume(2)
          continue
        }
      }
      if (this.#needed > 0) {
        if (n < this.#needed) break
      } else if (findHeadEnd(b.subarray(s, this.#end), this.#scanFrom) < 0) {
        if (n >= this.maxBytes) return this.#fail(out)
        this.#scanFrom = Math.max(0, n - 3)
        break
      }
      const r = parseSipMessage(b.subarray(s, this.#end), {
        transport: 'stream',
        maxBytes: this.maxBytes,
      })
      if (r.ok) {
        out.push(r)
        this.#consume(r.consumed)
        continue
      }
      const e = r.error
      if (e.incomplete) {
        this.#needed = e.needed ?? 0
        if (this.#needed === 0) break
        continue
      }
      out.push(r)
      if (e.framing || e.consumed === undefined) {
        this.#failed = true
        this.#buf = new Uint8Array(0)
        this.#start = this.#end = 0
        return out
      }
      this.#consume(e.consumed)
    }
    return out
  }

  #fail(out: FramerResult[]): FramerResult[] {
    const reason = `no end of header section within ${this.maxBytes} bytes`
    out.push({ ok: false, error: new SipParseError(reason, { framing: true }) })
    this.#failed = true
    this.#buf = new Uint8Array(0)
    this.#start = this.#end = 0
    return out
  }

  #consume(n: number): void {
    this.#start += n
    this.#scanFrom = 0
    this.#needed = 0
    if (this.#start === this.#end) this.#start = this.#end = 0
  }

  #append(chunk: Uint8Array): void {
    const n = this.#end - this.#start
    if (this.#end + chunk.length > this.#buf.length) {
      if (n + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end)
      } else {
        const grown = new Uint8Array(Math.max(n + chunk.length, this.#buf.length * 2, 4096))
        grown.set(this.#buf.subarray(this.#start, this.#end))
        this.#buf = grown
      }
      this.#start = 0
      this.#end = n
    }
    this.#buf.set(chunk, this.#end)
    this.#end += chunk.length
  }
}
