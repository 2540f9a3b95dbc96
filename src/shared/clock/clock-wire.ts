/**
 * The messages of `/kaiwa/time/1.0.0` (one request, one reply, each a CBOR map):
 *
 *   request  { v: 1, nonce: bytes(16) }
 *   reply    { v: 1, nonce, t1, t2, sig }
 *
 * t1 and t2 are the answering peer's clock (integer ms since the Unix epoch)
 * when it read the request and when it wrote the reply. `sig` is that peer's
 * libp2p key signing `clockSignedBytes`: the requester's peer id, the nonce
 * and both times. The stream is already authenticated by Noise; the signature
 * makes a measurement evidence a third party can check, and binds it to this
 * request (a replayed or relayed reply carries the wrong nonce or requester).
 */
import { encode } from 'cborg'
import { KaiwaError } from '../errors.js'

export const CLOCK_PROTOCOL = '/kaiwa/time/1.0.0'
export const CLOCK_WIRE_VERSION = 1
export const CLOCK_NONCE_BYTES = 16
/** Domain separation: these bytes are never valid as any other Kaiwa signature. */
const SIGNING_CONTEXT = 'kaiwa/time/1 reply'
/** Ed25519 signatures are 64 bytes; RSA-4096 ones 512. Anything longer is garbage. */
const MAX_SIG_BYTES = 600

export interface ClockRequest {
  v: 1
  nonce: Uint8Array
}

export interface ClockReply {
  v: 1
  nonce: Uint8Array
  t1: number
  t2: number
  sig: Uint8Array
}

/** A request or reply that is not a well-formed `/kaiwa/time/1.0.0` message. */
export class ClockWireError extends KaiwaError {
  constructor(message: string) {
    super(`${CLOCK_PROTOCOL}: ${message}`, 'invalid_input')
    this.name = 'ClockWireError'
  }
}

/** The bytes an answering peer signs: bound to who asked, the nonce and both times. */
export function clockSignedBytes(
  requester: string,
  nonce: Uint8Array,
  t1: number,
  t2: number,
): Uint8Array {
  return encode([SIGNING_CONTEXT, requester, nonce, t1, t2])
}

const isTime = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0

export function parseClockRequest(m: Record<string, unknown>): ClockRequest {
  if (m.v !== CLOCK_WIRE_VERSION) throw new ClockWireError(`unsupported version ${String(m.v)}`)
  if (!(m.nonce instanceof Uint8Array) || m.nonce.length !== CLOCK_NONCE_BYTES) {
    throw new ClockWireError(`the nonce must be ${CLOCK_NONCE_BYTES} bytes`)
  }
  return { v: 1, nonce: m.nonce }
}

/**
 * Checks a reply's shape and that it echoes `nonce`; the signature is checked
 * by the caller, who has the peer's public key.
 */
export function parseClockReply(m: Record<string, unknown>, nonce: Uint8Array): ClockReply {
  if (m.v !== CLOCK_WIRE_VERSION) throw new ClockWireError(`unsupported version ${String(m.v)}`)
  if (!(m.nonce instanceof Uint8Array) || !sameBytes(m.nonce, nonce)) {
    throw new ClockWireError('the reply does not echo our nonce')
  }
  if (!isTime(m.t1) || !isTime(m.t2)) {
    throw new ClockWireError('t1 and t2 must be non-negative integer ms')
  }
  if (!(m.sig instanceof Uint8Array) || m.sig.length === 0 || m.sig.length > MAX_SIG_BYTES) {
    throw new ClockWireError('the reply carries no usable signature')
  }
  return { v: 1, nonce: m.nonce, t1: m.t1, t2: m.t2, sig: m.sig }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}
