/**
 * One request, one reply, each a varint-length-prefixed CBOR map, over one
 * libp2p stream: the exchange Kaiwa's own protocols (`/kaiwa/load`,
 * `/kaiwa/turn`, `/kaiwa/mailbox`) all use. libp2p v3 streams are message
 * streams; `lpStream` from @libp2p/utils frames them, as identify and kad-dht do.
 *
 *   client                                   server
 *   dialProtocol ───────── stream ─────────▶ handle(protocol)
 *   write(lp(cbor(request)))  ─────────────▶ read, strict decode
 *                                            handler(request, { peer })
 *   read, strict decode  ◀─────────────────  write(lp(cbor(reply)))
 *   close                                    close
 *
 * Both sides refuse a frame over `maxMessageBytes` before buffering it, decode
 * with the strict options of `shared/cbor-strict.ts`, and put one deadline on
 * the whole exchange: when it passes the stream is aborted, which unblocks any
 * pending read or write. A failure on either side aborts the stream (the other
 * side sees a reset, never a hang).
 */
import { decode, encode } from 'cborg'
import { setMaxListeners } from '@libp2p/interface'
import type {
  AbortOptions,
  Connection,
  Libp2p,
  PeerId,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
} from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { STRICT_DECODE } from '../../shared/cbor-strict.js'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'

/** @default 5 s, for both sides. */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000

/**
 * The part of a registrar a server needs. Both a libp2p node and the
 * `registrar` component libp2p hands to services satisfy it.
 */
export interface RegistrarSlice {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

/** The part of a libp2p node a client needs. */
export type DialerSlice = Pick<Libp2p, 'dialProtocol'>

/** Base class of every cbor-rpc failure, so callers can catch them as one. */
export class CborRpcError extends KaiwaError {
  constructor(message: string, code: 'timeout' | 'invalid_input' | 'unavailable', cause?: unknown) {
    super(message, code, cause === undefined ? undefined : { cause })
    this.name = 'CborRpcError'
  }
}

/** The exchange did not finish within its timeout. */
export class CborRpcTimeoutError extends CborRpcError {
  constructor(protocol: string, ms: number) {
    super(`${protocol}: no reply within ${ms} ms`, 'timeout')
    this.name = 'CborRpcTimeoutError'
  }
}

/** A request or reply is larger than the protocol allows. */
export class CborRpcMessageTooLargeError extends CborRpcError {
  constructor(protocol: string, what: string, cause?: unknown) {
    super(`${protocol}: ${what} is larger than the protocol allows`, 'invalid_input', cause)
    this.name = 'CborRpcMessageTooLargeError'
  }
}

/** A frame is not valid CBOR under the strict decode options, or not a CBOR map. */
export class CborRpcDecodeError extends CborRpcError {
  constructor(protocol: string, what: string, cause?: unknown) {
    super(`${protocol}: ${what} is not a valid CBOR map`, 'invalid_input', cause)
    this.name = 'CborRpcDecodeError'
  }
}

/** The stream failed or ended before a whole frame arrived (reset, early EOF, bad framing). */
export class CborRpcStreamError extends CborRpcError {
  constructor(protocol: string, what: string, cause?: unknown) {
    super(`${protocol}: ${what}: ${String(cause)}`, 'unavailable', cause)
    this.name = 'CborRpcStreamError'
  }
}

/** A CBOR map, as both sides see requests and replies. */
export type CborMap = Record<string, unknown>

export interface CborRpcLimits {
  /** Protocol id, e.g. `/kaiwa/load/1.0.0`. */
  protocol: string
  /** Largest request or reply frame, in bytes (without the length prefix). */
  maxMessageBytes: number
  /** Deadline for the whole exchange. @default 5000 */
  timeoutMs?: number
  /**
   * Also run over a limited (circuit-relay) connection: only for small
   * signalling-sized exchanges, never bulk data. @default false
   */
  limited?: boolean
}

export interface CborRpcRequestContext {
  /** The peer Noise authenticated on this connection. */
  peer: PeerId
  connection: Connection
  /** Aborted when the exchange's deadline passes. */
  signal: AbortSignal
}

export interface CborRpcServerOptions extends CborRpcLimits {
  /** Concurrent inbound streams per connection for this protocol. */
  maxInboundStreams: number
  /**
   * Answers one decoded request; the value it returns is the reply. Throwing
   * aborts the stream (the error is logged at debug).
   */
  handler: (request: CborMap, context: CborRpcRequestContext) => CborMap | Promise<CborMap>
  /**
   * The reply to a request that could not be read or decoded (oversized,
   * malformed CBOR, not a map, bad framing, early end). Without it, or when it
   * returns undefined, the stream is aborted. Never called on a timeout.
   */
  onBadRequest?: (err: CborRpcError, peer: PeerId) => CborMap | undefined
  log?: Logger
}

/**
 * A deadline for a whole exchange: when it passes, `signal` aborts and the
 * stream is aborted too. `clear` stops the timer once the exchange is over.
 */
function deadline(
  ms: number,
  onExpire: () => void,
  outer?: AbortSignal,
): { signal: AbortSignal; expired(): boolean; clear(): void } {
  const ctl = new AbortController()
  setMaxListeners(Infinity, ctl.signal)
  let fired = false
  const timer = setTimeout(() => {
    fired = true
    ctl.abort(new Error('deadline'))
    onExpire()
  }, ms)
  const onOuter = (): void => ctl.abort(outer?.reason)
  if (outer?.aborted === true) onOuter()
  outer?.addEventListener('abort', onOuter, { once: true })
  return {
    signal: ctl.signal,
    expired: () => fired,
    clear: () => {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onOuter)
    },
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)))

/** Strict decode of one frame into a CBOR map. */
function decodeMap(protocol: string, what: string, bytes: Uint8Array): CborMap {
  let value: unknown
  try {
    value = decode(bytes, STRICT_DECODE)
  } catch (err) {
    throw new CborRpcDecodeError(protocol, what, err)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CborRpcDecodeError(protocol, what)
  }
  return value as CborMap
}

function encodeMap(protocol: string, what: string, value: CborMap, max: number): Uint8Array {
  const bytes = encode(value)
  if (bytes.length > max) throw new CborRpcMessageTooLargeError(protocol, what)
  return bytes
}

/** Reads one frame, turning lpStream's errors into ours. */
async function readFrame(
  lp: ReturnType<typeof lpStream>,
  protocol: string,
  what: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  try {
    return (await lp.read({ signal })).subarray()
  } catch (err) {
    const name = (err as { name?: unknown })?.name
    if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
      throw new CborRpcMessageTooLargeError(protocol, what, err)
    }
    throw new CborRpcStreamError(protocol, `reading the ${what} failed`, err)
  }
}

const lpOptions = (max: number): { maxDataLength: number; maxBufferSize: number } => ({
  maxDataLength: max,
  // Room for the varint length prefix in front of the largest frame.
  maxBufferSize: max + 16,
})

/**
 * Handle `options.protocol` on `registrar`; resolves once registered, to a
 * function that unregisters it. Never lets a stream error escape: every
 * failure becomes an error reply (via onBadRequest) or an aborted stream.
 */
export async function serveCborRpc(
  registrar: RegistrarSlice,
  options: CborRpcServerOptions,
): Promise<() => Promise<void>> {
  const handler: StreamHandler = (stream, connection) => {
    void answer(stream, connection, options)
  }
  await registrar.handle(options.protocol, handler, {
    maxInboundStreams: options.maxInboundStreams,
    ...(options.limited === true ? { runOnLimitedConnection: true } : {}),
  })
  return async () => {
    await registrar.unhandle(options.protocol)
  }
}

async function answer(
  stream: Stream,
  connection: Connection,
  options: CborRpcServerOptions,
): Promise<void> {
  const { protocol, maxMessageBytes } = options
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS
  const peer = connection.remotePeer
  const dl = deadline(timeoutMs, () => stream.abort(new CborRpcTimeoutError(protocol, timeoutMs)))
  try {
    const lp = lpStream(stream, lpOptions(maxMessageBytes))
    let reply: CborMap | undefined
    let request: CborMap | undefined
    try {
      const frame = await readFrame(lp, protocol, 'request', dl.signal)
      request = decodeMap(protocol, 'request', frame)
    } catch (err) {
      if (dl.expired() || !(err instanceof CborRpcError)) throw err
      reply = options.onBadRequest?.(err, peer)
      if (reply === undefined) throw err
    }
    // A handler that throws aborts the stream below, with no reply.
    if (request !== undefined) {
      reply = await options.handler(request, { peer, connection, signal: dl.signal })
    }
    if (reply === undefined) throw new CborRpcDecodeError(protocol, 'the handler reply')
    await lp.write(encodeMap(protocol, 'reply', reply, maxMessageBytes), { signal: dl.signal })
    await stream.close({ signal: dl.signal })
  } catch (err) {
    const shown = dl.expired() ? new CborRpcTimeoutError(protocol, timeoutMs) : err
    options.log?.debug(`${protocol} from ${peer.toString()}: ${String(shown)}`)
    stream.abort(asError(shown))
  } finally {
    dl.clear()
  }
}

export interface CborRpcRequestOptions extends CborRpcLimits, AbortOptions {}

/**
 * Dial `protocol` on `peer`, send `request`, and resolve to the decoded reply.
 * Rejects with a CborRpcError subclass (timeout, too large, undecodable,
 * stream failure) or with the dial's own error; the stream is closed after a
 * whole reply and aborted on any failure. A caller's `signal` ends it early.
 */
export async function requestCborRpc(
  node: DialerSlice,
  peer: PeerId,
  request: CborMap,
  options: CborRpcRequestOptions,
): Promise<CborMap> {
  const { protocol, maxMessageBytes } = options
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS
  const bytes = encodeMap(protocol, 'request', request, maxMessageBytes)
  let stream: Stream | undefined
  const dl = deadline(
    timeoutMs,
    () => stream?.abort(new CborRpcTimeoutError(protocol, timeoutMs)),
    options.signal,
  )
  try {
    stream = await node.dialProtocol(peer, protocol, {
      signal: dl.signal,
      ...(options.limited === true ? { runOnLimitedConnection: true } : {}),
    })
    const lp = lpStream(stream, lpOptions(maxMessageBytes))
    try {
      await lp.write(bytes, { signal: dl.signal })
    } catch (err) {
      throw new CborRpcStreamError(protocol, 'writing the request failed', err)
    }
    const reply = decodeMap(protocol, 'reply', await readFrame(lp, protocol, 'reply', dl.signal))
    await stream.close({ signal: dl.signal })
    return reply
  } catch (err) {
    const failure = dl.expired() ? new CborRpcTimeoutError(protocol, timeoutMs) : err
    stream?.abort(asError(failure))
    throw failure
  } finally {
    dl.clear()
  }
}
