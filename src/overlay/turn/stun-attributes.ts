/**
 * STUN/TURN attribute model and value codecs (RFC 8489 §14, RFC 8656 §18,
 * RFC 8445 §16). Each codec works on one attribute value (no TLV header, no
 * padding); stun-message.ts does the framing. Decoders throw StunDecodeError
 * for every malformed value and never anything else. Transport-address values
 * are in stun-address.ts.
 */
import { InvalidInputError } from '../../shared/errors.js'
import { decodeAddress, encodeAddress } from './stun-address.js'
import type { AddressFamily, StunAddress } from './stun-address.js'
import { fail, need, view } from './stun-decode-error.js'

export const AttrType = {
  'MAPPED-ADDRESS': 0x0001,
  USERNAME: 0x0006,
  'MESSAGE-INTEGRITY': 0x0008,
  'ERROR-CODE': 0x0009,
  'UNKNOWN-ATTRIBUTES': 0x000a,
  'CHANNEL-NUMBER': 0x000c,
  LIFETIME: 0x000d,
  'XOR-PEER-ADDRESS': 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  'XOR-RELAYED-ADDRESS': 0x0016,
  'REQUESTED-ADDRESS-FAMILY': 0x0017,
  'EVEN-PORT': 0x0018,
  'REQUESTED-TRANSPORT': 0x0019,
  'DONT-FRAGMENT': 0x001a,
  'MESSAGE-INTEGRITY-SHA256': 0x001c,
  'PASSWORD-ALGORITHM': 0x001d,
  USERHASH: 0x001e,
  'XOR-MAPPED-ADDRESS': 0x0020,
  'RESERVATION-TOKEN': 0x0022,
  PRIORITY: 0x0024,
  'USE-CANDIDATE': 0x0025,
  'ADDITIONAL-ADDRESS-FAMILY': 0x8000,
  'ADDRESS-ERROR-CODE': 0x8001,
  'PASSWORD-ALGORITHMS': 0x8002,
  SOFTWARE: 0x8022,
  'ALTERNATE-SERVER': 0x8023,
  FINGERPRINT: 0x8028,
  'ICE-CONTROLLED': 0x8029,
  'ICE-CONTROLLING': 0x802a,
} as const
export type KnownAttrName = keyof typeof AttrType
const NAME_BY_TYPE = new Map<number, KnownAttrName>(
  Object.entries(AttrType).map(([n, t]) => [t, n as KnownAttrName]),
)
export const attrName = (type: number): KnownAttrName | undefined => NAME_BY_TYPE.get(type)

export interface PasswordAlgorithm {
  /** 0x0001 MD5, 0x0002 SHA-256 (RFC 8489 §18.5). */
  algorithm: number
  params: Uint8Array
}

type AddrName =
  | 'MAPPED-ADDRESS'
  | 'XOR-MAPPED-ADDRESS'
  | 'ALTERNATE-SERVER'
  | 'XOR-PEER-ADDRESS'
  | 'XOR-RELAYED-ADDRESS'
export type StunAttribute =
  | { name: AddrName; value: StunAddress }
  | { name: 'USERNAME' | 'REALM' | 'NONCE' | 'SOFTWARE'; value: string }
  | {
      name:
        'MESSAGE-INTEGRITY' | 'MESSAGE-INTEGRITY-SHA256' | 'USERHASH' | 'DATA' | 'RESERVATION-TOKEN'
      value: Uint8Array
    }
  | { name: 'FINGERPRINT' | 'PRIORITY' | 'LIFETIME'; value: number }
  | { name: 'CHANNEL-NUMBER' | 'REQUESTED-TRANSPORT'; value: number }
  | { name: 'ICE-CONTROLLED' | 'ICE-CONTROLLING'; value: bigint }
  | { name: 'USE-CANDIDATE' | 'DONT-FRAGMENT' }
  | { name: 'ERROR-CODE'; value: { code: number; reason: string } }
  | { name: 'UNKNOWN-ATTRIBUTES'; value: number[] }
  | { name: 'REQUESTED-ADDRESS-FAMILY' | 'ADDITIONAL-ADDRESS-FAMILY'; value: AddressFamily }
  /** RFC 8656 §18.12: why the server did not allocate a relayed address of `family`. */
  | { name: 'ADDRESS-ERROR-CODE'; value: { family: AddressFamily; code: number; reason: string } }
  /** value = the R bit: reserve the next-higher port too. */
  | { name: 'EVEN-PORT'; value: boolean }
  | { name: 'PASSWORD-ALGORITHM'; value: PasswordAlgorithm }
  | { name: 'PASSWORD-ALGORITHMS'; value: PasswordAlgorithm[] }
  /** Any attribute this codec does not know, kept raw. */
  | { name: 'UNKNOWN'; type: number; value: Uint8Array }

/** Upper bounds on UTF-8 value sizes (RFC 8489 §14.3, §14.8, §14.9, §14.10, §14.14). */
const MAX_TEXT: Record<string, number> = {
  USERNAME: 512,
  REALM: 763,
  NONCE: 763,
  SOFTWARE: 763,
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const enc = new TextEncoder()

function decodeText(v: Uint8Array, name: string): string {
  if (v.length > (MAX_TEXT[name] ?? 763)) fail(`${name}: value too long (${v.length} bytes)`)
  try {
    return utf8.decode(v)
  } catch {
    return fail(`${name}: not valid UTF-8`)
  }
}

// ---- attribute values -------------------------------------------------------------------------

function decodeAlgorithms(v: Uint8Array, name: string): PasswordAlgorithm[] {
  const out: PasswordAlgorithm[] = []
  for (let o = 0; o < v.length;) {
    if (o + 4 > v.length) fail(`${name}: truncated entry`)
    const algorithm = (v[o]! << 8) | v[o + 1]!
    const plen = (v[o + 2]! << 8) | v[o + 3]!
    if (o + 4 + plen > v.length) fail(`${name}: parameters overrun the value`)
    out.push({ algorithm, params: v.slice(o + 4, o + 4 + plen) })
    o += 4 + ((plen + 3) & ~3)
  }
  return out
}

function encodeAlgorithms(list: PasswordAlgorithm[]): Uint8Array {
  const parts = list.map((a) => {
    const b = new Uint8Array(4 + ((a.params.length + 3) & ~3))
    view(b).setUint16(0, a.algorithm)
    view(b).setUint16(2, a.params.length)
    b.set(a.params, 4)
    return b
  })
  return concat(parts)
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Decode one attribute value. `tid` is the message's transaction id (for XOR addresses). */
export function decodeAttribute(type: number, v: Uint8Array, tid: Uint8Array): StunAttribute {
  const name = attrName(type)
  const dv = view(v)
  switch (name) {
    case undefined:
      return { name: 'UNKNOWN', type, value: v.slice() }
    case 'MAPPED-ADDRESS':
    case 'ALTERNATE-SERVER':
      return { name, value: decodeAddress(v, name, null) }
    case 'XOR-MAPPED-ADDRESS':
    case 'XOR-PEER-ADDRESS':
    case 'XOR-RELAYED-ADDRESS':
      return { name, value: decodeAddress(v, name, tid) }
    case 'USERNAME':
    case 'REALM':
    case 'NONCE':
    case 'SOFTWARE':
      return { name, value: decodeText(v, name) }
    case 'MESSAGE-INTEGRITY':
      need(v, 20, name)
      return { name, value: v.slice() }
    case 'MESSAGE-INTEGRITY-SHA256':
      // RFC 8489 §14.6: may be truncated to 16..32 bytes, a multiple of 4.
      if (v.length < 16 || v.length > 32 || v.length % 4) fail(`${name}: bad length ${v.length}`)
      return { name, value: v.slice() }
    case 'USERHASH':
      need(v, 32, name)
      return { name, value: v.slice() }
    case 'RESERVATION-TOKEN':
      need(v, 8, name)
      return { name, value: v.slice() }
    case 'DATA':
      return { name, value: v.slice() }
    case 'FINGERPRINT':
    case 'PRIORITY':
    case 'LIFETIME':
      need(v, 4, name)
      return { name, value: dv.getUint32(0) }
    case 'CHANNEL-NUMBER':
      need(v, 4, name)
      return { name, value: dv.getUint16(0) }
    case 'REQUESTED-TRANSPORT':
      need(v, 4, name)
      return { name, value: v[0]! }
    case 'ICE-CONTROLLED':
    case 'ICE-CONTROLLING':
      need(v, 8, name)
      return { name, value: dv.getBigUint64(0) }
    case 'USE-CANDIDATE':
    case 'DONT-FRAGMENT':
      need(v, 0, name)
      return { name }
    case 'ERROR-CODE':
      return { name, value: decodeErrorCode(v, name) }
    case 'ADDRESS-ERROR-CODE':
      // RFC 8656 §18.12: ERROR-CODE's layout with the family in the first byte.
      return { name, value: { family: decodeFamily(v, name), ...decodeErrorCode(v, name) } }
    case 'UNKNOWN-ATTRIBUTES': {
      if (v.length % 2) fail(`${name}: odd length`)
      return { name, value: Array.from({ length: v.length / 2 }, (_, i) => dv.getUint16(i * 2)) }
    }
    case 'REQUESTED-ADDRESS-FAMILY':
    case 'ADDITIONAL-ADDRESS-FAMILY':
      need(v, 4, name)
      return { name, value: decodeFamily(v, name) }
    case 'EVEN-PORT':
      need(v, 1, name)
      return { name, value: (v[0]! & 0x80) !== 0 }
    case 'PASSWORD-ALGORITHM': {
      const list = decodeAlgorithms(v, name)
      if (list.length !== 1) fail(`${name}: expected exactly one algorithm`)
      return { name, value: list[0]! }
    }
    case 'PASSWORD-ALGORITHMS':
      return { name, value: decodeAlgorithms(v, name) }
  }
}

/** The family byte of REQUESTED-/ADDITIONAL-ADDRESS-FAMILY and ADDRESS-ERROR-CODE (§18.10). */
function decodeFamily(v: Uint8Array, name: string): AddressFamily {
  if (v.length < 1) fail(`${name}: value too short`)
  if (v[0] !== 1 && v[0] !== 2) fail(`${name}: unknown family ${v[0]}`)
  return v[0] === 1 ? 'IPv4' : 'IPv6'
}

const familyByte = (f: AddressFamily) => (f === 'IPv4' ? 1 : 2)

/** Class and number in bytes 2-3, then the reason phrase (RFC 8489 §14.8). */
function decodeErrorCode(v: Uint8Array, name: string): { code: number; reason: string } {
  if (v.length < 4) fail(`${name}: value too short`)
  const cls = v[2]! & 0x07
  const num = v[3]!
  if (cls < 3 || cls > 6 || num > 99) fail(`${name}: bad code ${cls}/${num}`)
  return { code: cls * 100 + num, reason: decodeText(v.subarray(4), name) }
}

function encodeErrorCode(code: number, reason: string, first: number): Uint8Array {
  if (!Number.isInteger(code) || code < 300 || code > 699) {
    throw new InvalidInputError(`ERROR-CODE ${code} is outside 300..699`)
  }
  const head = u32(first * 0x1000000 + Math.floor(code / 100) * 256 + (code % 100))
  return concat([head, enc.encode(reason)])
}

function u32(n: number, bytes = 4): Uint8Array {
  const b = new Uint8Array(4)
  view(b).setUint32(0, n >>> 0)
  return b.subarray(0, bytes)
}

/** Type code and value bytes of an attribute (no header, no padding). */
export function encodeAttribute(a: StunAttribute, tid: Uint8Array): [number, Uint8Array] {
  const type = a.name === 'UNKNOWN' ? a.type : AttrType[a.name]
  switch (a.name) {
    case 'UNKNOWN':
      return [type, a.value]
    case 'MAPPED-ADDRESS':
    case 'ALTERNATE-SERVER':
      return [type, encodeAddress(a.value, null)]
    case 'XOR-MAPPED-ADDRESS':
    case 'XOR-PEER-ADDRESS':
    case 'XOR-RELAYED-ADDRESS':
      return [type, encodeAddress(a.value, tid)]
    case 'USERNAME':
    case 'REALM':
    case 'NONCE':
    case 'SOFTWARE':
      return [type, enc.encode(a.value)]
    case 'MESSAGE-INTEGRITY':
    case 'MESSAGE-INTEGRITY-SHA256':
    case 'USERHASH':
    case 'DATA':
    case 'RESERVATION-TOKEN':
      return [type, a.value]
    case 'FINGERPRINT':
    case 'PRIORITY':
    case 'LIFETIME':
      return [type, u32(a.value)]
    case 'CHANNEL-NUMBER':
      return [type, u32((a.value & 0xffff) * 0x10000)]
    case 'REQUESTED-TRANSPORT':
      return [type, u32((a.value & 0xff) * 0x1000000)]
    case 'ICE-CONTROLLED':
    case 'ICE-CONTROLLING': {
      const b = new Uint8Array(8)
      view(b).setBigUint64(0, BigInt.asUintN(64, a.value))
      return [type, b]
    }
    case 'USE-CANDIDATE':
    case 'DONT-FRAGMENT':
      return [type, new Uint8Array(0)]
    case 'ERROR-CODE':
      return [type, encodeErrorCode(a.value.code, a.value.reason, 0)]
    case 'ADDRESS-ERROR-CODE':
      return [type, encodeErrorCode(a.value.code, a.value.reason, familyByte(a.value.family))]
    case 'UNKNOWN-ATTRIBUTES': {
      const b = new Uint8Array(a.value.length * 2)
      a.value.forEach((t, i) => view(b).setUint16(i * 2, t))
      return [type, b]
    }
    case 'REQUESTED-ADDRESS-FAMILY':
    case 'ADDITIONAL-ADDRESS-FAMILY':
      return [type, u32(familyByte(a.value) * 0x1000000)]
    case 'EVEN-PORT':
      return [type, Uint8Array.of(a.value ? 0x80 : 0)]
    case 'PASSWORD-ALGORITHM':
      return [type, encodeAlgorithms([a.value])]
    case 'PASSWORD-ALGORITHMS':
      return [type, encodeAlgorithms(a.value)]
  }
}
