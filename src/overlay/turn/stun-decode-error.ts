/**
 * The one error STUN/TURN decoders throw (RFC 8489 §6.3: a malformed message
 * is answered 400 or dropped), with the small length checks the value codecs
 * share.
 */
import { KaiwaError } from '../../shared/errors.js'

/** A STUN message or ChannelData frame is malformed (answer 400 or drop it). */
export class StunDecodeError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'StunDecodeError'
  }
}

export function fail(msg: string): never {
  throw new StunDecodeError(msg)
}
export function need(v: Uint8Array, len: number, name: string): void {
  if (v.length !== len) fail(`${name}: value length ${v.length}, expected ${len}`)
}
export const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)
