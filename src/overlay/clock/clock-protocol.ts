/**
 * `/kaiwa/time/1.0.0`: one NTP-style exchange (RFC 5905 §8) over a libp2p
 * stream, using the one-request/one-reply helper (../rpc/cbor-rpc.ts). The
 * answering node stamps t1 when it has read the request and t2 just before it
 * signs and writes the reply; the asker stamps t0 once the stream is open (so
 * the dial and protocol negotiation are not counted as the request's flight)
 * and t3 when the whole reply has arrived. Message formats and the signed
 * bytes are in shared/clock/clock-wire.ts.
 */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { KaiwaError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { estimateOffset } from '../../shared/clock/clock-offset.js'
import {
  CLOCK_NONCE_BYTES,
  CLOCK_PROTOCOL,
  CLOCK_WIRE_VERSION,
  clockSignedBytes,
  parseClockReply,
  parseClockRequest,
} from '../../shared/clock/clock-wire.js'
import { requestCborRpc, serveCborRpc } from '../rpc/cbor-rpc.js'
import type { DialerSlice, RegistrarSlice } from '../rpc/cbor-rpc.js'

const LIMITS = { protocol: CLOCK_PROTOCOL, maxMessageBytes: 1024, timeoutMs: 5_000 }

/** The reply's signature is missing, wrong, or cannot be checked against the peer's key. */
export class ClockSignatureError extends KaiwaError {
  constructor(peer: string, why: string) {
    super(`${CLOCK_PROTOCOL}: the reply from ${peer} is refused: ${why}`, 'rejected')
    this.name = 'ClockSignatureError'
  }
}

/** One measurement against one peer, with what it rests on (the signed reply). */
export interface ClockSample {
  /** The peer measured (its libp2p peer id). */
  peer: string
  /** Peer clock minus own clock, in ms (RFC 5905 §8 θ). */
  offsetMs: number
  /** Round trip without the peer's time (RFC 5905 §8 δ). */
  rttMs: number
  t0: number
  t1: number
  t2: number
  t3: number
  /**
   * Evidence: the peer's signature over clockSignedBytes(asker, nonce, t1, t2),
   * checkable by anyone with the peer id.
   */
  nonce: Uint8Array
  sig: Uint8Array
}

export interface ClockServerInit {
  registrar: RegistrarSlice
  /** Signs every reply: the node's libp2p key. */
  privateKey: PrivateKey
  now: () => number
  log: Logger
}

export async function serveClock(init: ClockServerInit): Promise<() => Promise<void>> {
  return serveCborRpc(init.registrar, {
    ...LIMITS,
    // Every node asks each supernode every few minutes; a handful at once is plenty.
    maxInboundStreams: 8,
    handler: async (req, { peer }) => {
      const t1 = Math.round(init.now())
      const { nonce } = parseClockRequest(req)
      const t2 = Math.max(t1, Math.round(init.now()))
      const sig = await init.privateKey.sign(clockSignedBytes(peer.toString(), nonce, t1, t2))
      return { v: CLOCK_WIRE_VERSION, nonce, t1, t2, sig: new Uint8Array(sig) }
    },
    log: init.log,
  })
}

/**
 * Measure `peer`'s clock against `now`. `self` is this node's peer id (the
 * peer signs it into the reply). Rejects with a CborRpcError (timeout, stream,
 * decode), ClockWireError (malformed reply, wrong nonce), ClockSignatureError
 * or ClockSampleError (impossible timestamps, too long a round trip).
 */
export async function requestClockSample(
  node: DialerSlice,
  peer: PeerId,
  self: string,
  now: () => number,
): Promise<ClockSample> {
  const nonce = crypto.getRandomValues(new Uint8Array(CLOCK_NONCE_BYTES))
  let t0: number | undefined
  const timed: DialerSlice = {
    dialProtocol: async (...args) => {
      const stream = await node.dialProtocol(...args)
      t0 = now()
      return stream
    },
  }
  const raw = await requestCborRpc(timed, peer, { v: CLOCK_WIRE_VERSION, nonce }, LIMITS)
  const t3 = now()
  const reply = parseClockReply(raw, nonce)
  const id = peer.toString()
  if (peer.publicKey === undefined) throw new ClockSignatureError(id, 'the peer id carries no key')
  const signed = clockSignedBytes(self, nonce, reply.t1, reply.t2)
  let valid = false
  try {
    valid = await peer.publicKey.verify(signed, reply.sig)
  } catch {
    // A signature of the wrong length for the key type: as invalid as a wrong one.
  }
  if (!valid) throw new ClockSignatureError(id, 'the signature does not verify')
  const x = { t0: t0 ?? t3, t1: reply.t1, t2: reply.t2, t3 }
  return { peer: id, ...estimateOffset(x), ...x, nonce, sig: reply.sig }
}
