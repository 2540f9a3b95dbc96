/**
 * One SIP signalling link: a libp2p stream to one peer speaking
 * `/kaiwa/sip/1.0.0` (sip-links.ts opens and replaces them), framed as on any
 * SIP stream transport (RFC 3261 §18.3). It batches writes, answers what was
 * pending with 503 when its connection dies, and closes on a framing error.
 */
import type { Stream } from '@libp2p/interface'
import type { Logger } from '../../shared/logger.js'
import { SipStreamFramer } from '../../shared/sip/stream-framer.js'
import { respond } from '../../shared/sip/responses.js'
import { serializeSipMessage, transactionKey } from '../../shared/sip/sip-message.js'
import type { SipMessage, SipRequest } from '../../shared/sip/sip-message.js'

/** Largest SIP message accepted on a link (RFC 3261 leaves it to the transport). */
export const MAX_SIP_MESSAGE_BYTES = 64 * 1024

export interface SipLink {
  readonly peer: string
  readonly relayed: boolean
  /** Queue a message; false when the link has closed (callers reopen via `linkTo`). */
  send(msg: SipMessage): boolean
  readonly open: boolean
}

/** Requests a link remembers while it waits for their final responses (oldest forgotten first). */
const MAX_OUTSTANDING = 256

export class LinkImpl implements SipLink {
  private closed = false
  /**
   * Messages written since the last flush. Everything sent in one turn of the
   * event loop (the requests and responses of a burst of datagrams from
   * phones) leaves as one stream write, so one yamux frame, one Noise
   * encryption and one socket write, instead of one each per message; the
   * flush runs in the same turn (setImmediate, right after I/O polling), so
   * it adds no wait.
   */
  private batch: Uint8Array[] = []
  private batchBytes = 0
  /**
   * Requests sent here still waiting for a final response, by transaction.
   * When this link fails (its stream aborted or reset: the connection died)
   * they will not be answered: each gets a 503 (RFC 3261 §16.9: "If the
   * transport layer notifies a proxy of an error when it tries to forward a
   * request, the proxy MUST behave as if the forwarded request received a 503
   * (Service Unavailable) response"). A re-INVITE written into a connection
   * that died under it (the far end roamed) then fails in seconds, not after
   * Timer B, and the UA tries again over a new link.
   *
   * A link closed cleanly is different: the far end retired it for a newer link
   * (a direct one replacing a relayed one, say) and answers what is still
   * pending over that one, so a 503 here would end a transaction whose 200 is
   * on its way (the caller then discards it as unmatched).
   */
  private readonly outstanding = new Map<string, SipRequest>()
  constructor(
    readonly peer: string,
    private readonly stream: Stream,
    readonly relayed: boolean,
    private readonly log: Logger,
  ) {}

  get open(): boolean {
    return !this.closed && this.stream.status === 'open' && this.stream.writeStatus === 'writable'
  }

  send(msg: SipMessage): boolean {
    if (!this.open) return false
    let bytes: Uint8Array
    try {
      bytes = serializeSipMessage(msg)
    } catch (err) {
      this.log.debug(`cannot write a message to ${this.peer}: ${String(err)}`)
      return false
    }
    if (this.batch.length === 0) setImmediate(this.flush)
    this.batch.push(bytes)
    this.batchBytes += bytes.length
    if (msg.kind === 'request' && msg.method !== 'ACK' && msg.method !== 'CANCEL') {
      this.outstanding.set(transactionKey(msg), msg)
      if (this.outstanding.size > MAX_OUTSTANDING) {
        this.outstanding.delete(this.outstanding.keys().next().value!)
      }
    }
    return true
  }

  /**
   * Write the batch. Backpressure is bounded by the framing cap on the far
   * side; SIP signalling is small, so a full buffer means the peer is stuck:
   * yamux applies its limit. A write that fails means the stream died: its
   * close answers the pending requests (run()).
   */
  private readonly flush = (): void => {
    const parts = this.batch
    if (parts.length === 0) return
    const size = this.batchBytes
    this.batch = []
    this.batchBytes = 0
    // A stream paused by backpressure (its yamux window used up) still takes
    // the bytes into its buffer, as a direct write did; only a closed one throws.
    let out = parts[0]!
    if (parts.length > 1) {
      out = new Uint8Array(size)
      let at = 0
      for (const p of parts) {
        out.set(p, at)
        at += p.length
      }
    }
    try {
      this.stream.send(out)
    } catch (err) {
      this.log.debug(`send to ${this.peer} failed: ${String(err)}`)
      this.closed = true
    }
  }

  /** A newer direct link replaced this one: stop writing, let the peer drain it. */
  retire(): void {
    this.flush()
    this.closed = true
    void this.stream.close().catch(() => {})
  }

  close(): void {
    this.closed = true
    this.stream.abort(new Error('SIP link closed'))
  }

  async run(onMessage: (msg: SipMessage) => void, onClose: () => void): Promise<void> {
    const framer = new SipStreamFramer({ maxBytes: MAX_SIP_MESSAGE_BYTES })
    let failed = false
    try {
      for await (const chunk of this.stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        for (const result of framer.push(bytes)) {
          if ('keepalive' in result) {
            this.stream.send(CRLF)
            continue
          }
          if (result.ok) {
            const m = result.message
            if (m.kind === 'response' && m.status >= 200) this.outstanding.delete(transactionKey(m))
            onMessage(m)
            continue
          }
          // RFC 3261 §18.3: after a framing error the stream's message boundaries
          // are lost; the only safe recovery is to close it.
          this.log.warn(
            `malformed SIP from ${this.peer} (${result.error.message}); closing the link`,
          )
          failed = true
          this.close()
          return
        }
      }
    } catch (err) {
      failed = true
      this.log.debug(`link to ${this.peer} ended: ${String(err)}`)
    } finally {
      // Aborted or reset (the connection died, or we closed it): nothing pending will be answered.
      if (this.stream.status === 'aborted' || this.stream.status === 'reset') failed = true
      this.closed = true
      onClose()
      const pending = [...this.outstanding.values()]
      this.outstanding.clear()
      if (failed) for (const req of pending) onMessage(respond(req, 503, 'Service Unavailable'))
      else if (pending.length > 0)
        this.log.debug(
          `link to ${this.peer} closed with ${pending.length} request(s) pending; ` +
            'their answers come over the newer link',
        )
    }
  }
}

const CRLF = new TextEncoder().encode('\r\n')
