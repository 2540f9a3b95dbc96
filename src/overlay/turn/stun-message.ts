/**
 * STUN message codec (RFC 8489) with the TURN additions of RFC 8656, for the
 * supernodes' own STUN/TURN server. Attribute value codecs live in
 * stun-attributes.ts (transport addresses in stun-address.ts).
 *
 * Decoding is strict and safe on hostile input: every problem surfaces as
 * StunDecodeError, the work is linear in the input size and the input is
 * capped at 64 KiB. MESSAGE-INTEGRITY handling follows RFC 8489 §14.5/§14.6:
 * attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT, and attributes after MESSAGE-INTEGRITY-SHA256 other than
 * FINGERPRINT, are IGNORED (well-formed TLVs are skipped, left out of
 * `attributes` and listed in `ignoredAfterIntegrity`), not rejected. Any
 * attribute after FINGERPRINT is rejected.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { InvalidInputError } from '../../shared/errors.js'
import { MAGIC_COOKIE } from './stun-address.js'
import { AttrType, concat, decodeAttribute, encodeAttribute } from './stun-attributes.js'
import type { StunAttribute } from './stun-attributes.js'
import { StunDecodeError } from './stun-decode-error.js'

export { MAGIC_COOKIE } from './stun-address.js'
export type { AddressFamily, StunAddress } from './stun-address.js'
export { AttrType, attrName } from './stun-attributes.js'
export type { KnownAttrName, PasswordAlgorithm, StunAttribute } from './stun-attributes.js'
export { StunDecodeError } from './stun-decode-error.js'

export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const

export type StunClass = 'request' | 'indication' | 'success' | 'error'
const CLASSES: readonly StunClass[] = ['request', 'indication', 'success', 'error']

export const HEADER_SIZE = 20
/** Largest datagram/frame decodeStun accepts (the 16-bit length field allows a bit more). */
export const MAX_STUN_MESSAGE = 65536
const FINGERPRINT_XOR = 0x5354554e

export interface StunMessage {
  /** 12-bit method, e.g. StunMethod.Binding; unknown methods are kept (the server answers 400). */
  method: number
  class: StunClass
  /** 96 bits. */
  transactionId: Uint8Array
  attributes: StunAttribute[]
}

/** Where an integrity attribute sits: its TLV header offset and its value length. */
export interface IntegrityRef {
  offset: number
  length: number
}

export interface DecodedStunMessage extends StunMessage {
  /** The header's length field (bytes after the 20-byte header). */
  length: number
  /** For each entry of `attributes`: raw type, TLV header offset, value length (before padding). */
  layout: { type: number; offset: number; length: number }[]
  /** Unknown comprehension-required types (< 0x8000): answer 420 with UNKNOWN-ATTRIBUTES. */
  unknownRequired: number[]
  /** Types skipped because they followed MESSAGE-INTEGRITY(-SHA256) (RFC 8489 §14.5). */
  ignoredAfterIntegrity: number[]
  integrity?: IntegrityRef
  integritySha256?: IntegrityRef
  fingerprint?: { offset: number }
}

export interface EncodeOptions {
  /** Append MESSAGE-INTEGRITY (or -SHA256, see integritySha256) keyed with this key. */
  integrityKey?: Uint8Array
  /** Use MESSAGE-INTEGRITY-SHA256 (32 bytes) instead of MESSAGE-INTEGRITY. */
  integritySha256?: boolean
  /** Append FINGERPRINT. */
  fingerprint?: boolean
  /** Byte used for attribute padding; 0 by default (RFC 5769 2.1-2.3 use 0x20). */
  padByte?: number
}

const pad4 = (n: number) => (n + 3) & ~3
const dataView = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength)
const fail = (msg: string): never => {
  throw new StunDecodeError(msg)
}

/** The 14-bit message type: method bits M11..M0 interleaved with class bits C1 C0 (§5). */
export function messageType(method: number, cls: StunClass): number {
  const c = CLASSES.indexOf(cls)
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((c & 1) << 4) |
    ((c & 2) << 7)
  )
}

export function splitMessageType(type: number): { method: number; class: StunClass } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2)
  const c = ((type >> 4) & 1) | ((type >> 7) & 2)
  return { method, class: CLASSES[c]! }
}

/** Cheap demultiplexing check: top two bits zero, room for a header, magic cookie present. */
export function isStun(buf: Uint8Array): boolean {
  return (
    buf.length >= HEADER_SIZE &&
    (buf[0]! & 0xc0) === 0 &&
    dataView(buf).getUint32(4) === MAGIC_COOKIE
  )
}

export function decodeStun(buf: Uint8Array): DecodedStunMessage {
  if (buf.length < HEADER_SIZE) fail(`message too short (${buf.length} bytes)`)
  if (buf.length > MAX_STUN_MESSAGE) fail(`message too large (${buf.length} bytes)`)
  const dv = dataView(buf)
  const type = dv.getUint16(0)
  if (type & 0xc000) fail('top two bits of the message type are not zero')
  const length = dv.getUint16(2)
  if (length % 4) fail(`length ${length} is not a multiple of 4`)
  if (HEADER_SIZE + length !== buf.length) {
    fail(`length field ${length} does not match ${buf.length - HEADER_SIZE} bytes of attributes`)
  }
  if (dv.getUint32(4) !== MAGIC_COOKIE) fail('bad magic cookie')
  const transactionId = buf.slice(8, 20)
  const msg: DecodedStunMessage = {
    ...splitMessageType(type),
    transactionId,
    attributes: [],
    length,
    layout: [],
    unknownRequired: [],
    ignoredAfterIntegrity: [],
  }
  const end = buf.length
  for (let offset = HEADER_SIZE; offset < end;) {
    if (offset + 4 > end) fail('truncated attribute header')
    const t = dv.getUint16(offset)
    const l = dv.getUint16(offset + 2)
    const next = offset + 4 + pad4(l)
    if (next > end) fail(`attribute 0x${t.toString(16)} overruns the message`)
    if (msg.fingerprint) fail('attribute after FINGERPRINT')
    const isFp = t === AttrType.FINGERPRINT
    if (
      (msg.integritySha256 && !isFp) ||
      (msg.integrity && !isFp && t !== AttrType['MESSAGE-INTEGRITY-SHA256'])
    ) {
      msg.ignoredAfterIntegrity.push(t)
      offset = next
      continue
    }
    const attr = decodeAttribute(t, buf.subarray(offset + 4, offset + 4 + l), transactionId)
    if (attr.name === 'MESSAGE-INTEGRITY') msg.integrity = { offset, length: l }
    else if (attr.name === 'MESSAGE-INTEGRITY-SHA256') msg.integritySha256 = { offset, length: l }
    else if (attr.name === 'FINGERPRINT') msg.fingerprint = { offset }
    else if (attr.name === 'UNKNOWN' && t < 0x8000) msg.unknownRequired.push(t)
    msg.attributes.push(attr)
    msg.layout.push({ type: t, offset, length: l })
    offset = next
  }
  return msg
}

function tlv(type: number, value: Uint8Array, padByte: number): Uint8Array {
  if (value.length > 0xffff) throw new InvalidInputError('attribute value too long')
  const out = new Uint8Array(4 + pad4(value.length)).fill(padByte, 4 + value.length)
  dataView(out).setUint16(0, type)
  dataView(out).setUint16(2, value.length)
  out.set(value, 4)
  return out
}

/** Copy of `head` (header + attributes) whose length field claims `total` bytes after the header. */
function withLength(head: Uint8Array, total: number): Uint8Array {
  if (total > 0xffff) throw new InvalidInputError(`message too long (${total} bytes)`)
  const out = head.slice()
  dataView(out).setUint16(2, total)
  return out
}

const hmac = (alg: 'sha1' | 'sha256', key: Uint8Array, data: Uint8Array) =>
  new Uint8Array(createHmac(alg, key).update(data).digest())

const fingerprintOf = (data: Uint8Array) => (crc32(data) ^ FINGERPRINT_XOR) >>> 0

/**
 * Encode a message. MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT are derived, never copied:
 * such entries in `msg.attributes` are dropped and recomputed from `opts` (§14.5-§14.7).
 */
export function encodeStun(msg: StunMessage, opts: EncodeOptions = {}): Uint8Array {
  if (msg.transactionId.length !== 12)
    throw new InvalidInputError('transaction id must be 12 bytes')
  if (!Number.isInteger(msg.method) || msg.method < 0 || msg.method > 0xfff) {
    throw new InvalidInputError(`bad method ${msg.method}`)
  }
  const padByte = opts.padByte ?? 0
  const header = new Uint8Array(HEADER_SIZE)
  const hv = dataView(header)
  hv.setUint16(0, messageType(msg.method, msg.class))
  hv.setUint32(4, MAGIC_COOKIE)
  header.set(msg.transactionId, 8)
  const derived = new Set(['MESSAGE-INTEGRITY', 'MESSAGE-INTEGRITY-SHA256', 'FINGERPRINT'])
  const parts = msg.attributes
    .filter((a) => !derived.has(a.name))
    .map((a) => tlv(...encodeAttribute(a, msg.transactionId), padByte))
  let out = withLength(concat([header, ...parts]), 0)
  if (opts.integrityKey) {
    const sha256 = opts.integritySha256 === true
    const macLen = sha256 ? 32 : 20
    const input = withLength(out, out.length - HEADER_SIZE + 4 + macLen)
    const mac = hmac(sha256 ? 'sha256' : 'sha1', opts.integrityKey, input)
    const t = sha256 ? AttrType['MESSAGE-INTEGRITY-SHA256'] : AttrType['MESSAGE-INTEGRITY']
    out = concat([input, tlv(t, mac, 0)])
  }
  if (opts.fingerprint) {
    const input = withLength(out, out.length - HEADER_SIZE + 8)
    const fp = new Uint8Array(4)
    dataView(fp).setUint32(0, fingerprintOf(input))
    out = concat([input, tlv(AttrType.FINGERPRINT, fp, 0)])
  }
  return withLength(out, out.length - HEADER_SIZE)
}

function verifyMac(
  buf: Uint8Array,
  ref: IntegrityRef,
  key: Uint8Array,
  alg: 'sha1' | 'sha256',
): boolean {
  const valueEnd = ref.offset + 4 + ref.length
  if (ref.offset < HEADER_SIZE || valueEnd > buf.length) return false
  const input = withLength(buf.subarray(0, ref.offset), valueEnd - HEADER_SIZE)
  const mac = hmac(alg, key, input).subarray(0, ref.length)
  const got = buf.subarray(ref.offset + 4, valueEnd)
  return mac.length === got.length && got.length > 0 && timingSafeEqual(mac, got)
}

/**
 * Check MESSAGE-INTEGRITY and/or MESSAGE-INTEGRITY-SHA256 of `buf` (the bytes `msg` was decoded
 * from) in constant time. By default every integrity attribute present must verify and at least
 * one must be present; `which` checks only one kind.
 */
export function verifyIntegrity(
  buf: Uint8Array,
  msg: DecodedStunMessage,
  key: Uint8Array,
  which?: 'sha1' | 'sha256',
): boolean {
  const checks: [IntegrityRef | undefined, 'sha1' | 'sha256'][] = []
  if (which !== 'sha256') checks.push([msg.integrity, 'sha1'])
  if (which !== 'sha1') checks.push([msg.integritySha256, 'sha256'])
  const present = checks.filter((c): c is [IntegrityRef, 'sha1' | 'sha256'] => c[0] !== undefined)
  if (present.length === 0) return false
  // Evaluate every check (no early exit) so timing does not reveal which one failed.
  return present.map(([ref, alg]) => verifyMac(buf, ref, key, alg)).every(Boolean)
}

/** FINGERPRINT = CRC-32 of everything before it, XOR 0x5354554e (§14.7). False when absent. */
export function verifyFingerprint(buf: Uint8Array, msg: DecodedStunMessage): boolean {
  const off = msg.fingerprint?.offset
  if (off === undefined || off + 8 > buf.length) return false
  return dataView(buf).getUint32(off + 4) === fingerprintOf(buf.subarray(0, off))
}

// ---- credentials --------------------------------------------------------------------------------

/** RFC 3454 table B.1 (commonly mapped to nothing), as code point ranges. */
const MAPPED_TO_NOTHING: [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
]
/** RFC 3454 table C.1.2 (non-ASCII space characters), mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g
const inRanges = (cp: number, rs: [number, number][]) => rs.some(([a, b]) => cp >= a && cp <= b)

/**
 * Approximation of the OpaqueString profile (RFC 8265) / SASLprep (RFC 4013): remove the
 * characters RFC 3454 B.1 maps to nothing, map non-ASCII spaces to U+0020, then NFKC. This is
 * what RFC 5769 2.4 needs ("The\u00ADM\u00AAtr\u2168" -> "TheMatrIX"). Not implemented: the
 * prohibited-output and bidi checks, so invalid strings are not rejected.
 */
export function opaqueString(s: string): string {
  const kept = Array.from(s).filter((c) => !inRanges(c.codePointAt(0)!, MAPPED_TO_NOTHING))
  return kept.join('').replace(NON_ASCII_SPACE, ' ').normalize('NFKC')
}

/**
 * Long-term credential key (RFC 8489 §9.2.2): MD5 or SHA-256 of
 * username ":" OpaqueString(realm) ":" OpaqueString(password). The username is used as given
 * (the client already applied UsernameCasePreserved before sending it).
 */
export function longTermKey(
  username: string,
  realm: string,
  password: string,
  algorithm: 'MD5' | 'SHA-256' = 'MD5',
): Uint8Array {
  const h = createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
  h.update(`${username}:${opaqueString(realm)}:${opaqueString(password)}`, 'utf8')
  return new Uint8Array(h.digest())
}

/** Short-term credential key (RFC 8489 §9.1.1): OpaqueString(password) as UTF-8. */
export function shortTermKey(password: string): Uint8Array {
  return new TextEncoder().encode(opaqueString(password))
}

// ---- ChannelData (RFC 8656 §12.4) ---------------------------------------------------------------

export interface ChannelData {
  channel: number
  data: Uint8Array
}

/** First byte 0x40..0x7F: a ChannelData frame, not STUN (RFC 8656 §12, RFC 7983). */
export function isChannelData(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0]! >= 0x40 && buf[0]! <= 0x7f
}

/**
 * Decode a ChannelData frame. Over UDP (default) bytes past the claimed length are ignored
 * (padding is optional); with `stream: true` the frame must include padding to 4 bytes and
 * `size` tells how many bytes it used.
 */
export function decodeChannelData(
  buf: Uint8Array,
  opts: { stream?: boolean } = {},
): ChannelData & { size: number } {
  if (!isChannelData(buf)) fail('not a ChannelData frame')
  const dv = dataView(buf)
  const channel = dv.getUint16(0)
  const len = dv.getUint16(2)
  const size = opts.stream ? 4 + pad4(len) : buf.length
  if (4 + len > buf.length || size > buf.length) fail('ChannelData length overruns the frame')
  return { channel, data: buf.slice(4, 4 + len), size }
}

/**
 * Encode a ChannelData frame; `pad: true` (required over TCP/TLS) pads to a multiple of 4.
 * Channels are 0x4000..0x4FFF (RFC 8656 §12), or 0x4000..0x7FFF with `legacyRange` (RFC 5766 §11).
 */
export function encodeChannelData(
  channel: number,
  data: Uint8Array,
  opts: { pad?: boolean; legacyRange?: boolean } = {},
): Uint8Array {
  const max = opts.legacyRange ? 0x7fff : 0x4fff
  if (!Number.isInteger(channel) || channel < 0x4000 || channel > max) {
    const range = `0x4000..0x${max.toString(16).toUpperCase()}`
    throw new InvalidInputError(`channel number 0x${channel.toString(16)} outside ${range}`)
  }
  if (data.length > 0xffff) throw new InvalidInputError('ChannelData payload too long')
  const out = new Uint8Array(4 + (opts.pad ? pad4(data.length) : data.length))
  dataView(out).setUint16(0, channel)
  dataView(out).setUint16(2, data.length)
  out.set(data, 4)
  return out
}
