/**
 * STUN transport-address values: MAPPED-ADDRESS and ALTERNATE-SERVER in the
 * clear (RFC 8489 §14.1, §14.15), XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and
 * XOR-RELAYED-ADDRESS XORed with the magic cookie and transaction id
 * (RFC 8489 §14.2, RFC 8656 §18.3, §18.5). Values only; stun-attributes.ts
 * dispatches to these codecs.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { InvalidInputError } from '../../shared/errors.js'
import { fail, need, view } from './stun-decode-error.js'

/** Fixed header value (RFC 8489 §5), also the high bits of the XOR pad (§14.2). */
export const MAGIC_COOKIE = 0x2112a442

export type AddressFamily = 'IPv4' | 'IPv6'
export interface StunAddress {
  family: AddressFamily
  address: string
  port: number
}

// ---- IP address text <-> bytes -------------------------------------------------------------

function ipv4Bytes(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number))
}

function ipv6Bytes(a: string): Uint8Array {
  let s = a
  const tail: number[] = []
  const dot = s.lastIndexOf(':')
  if (s.includes('.')) {
    const q = ipv4Bytes(s.slice(dot + 1))
    tail.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!)
    s = s.slice(0, dot + 1) + '0:0'
  }
  const [head = '', rest] = s.split('::') as [string, string | undefined]
  const parse = (p: string) => (p === '' ? [] : p.split(':').map((h) => parseInt(h, 16)))
  let groups = parse(head)
  if (rest !== undefined) {
    const r = parse(rest)
    groups = [...groups, ...new Array<number>(8 - groups.length - r.length).fill(0), ...r]
  }
  if (tail.length) groups.splice(groups.length - 2, 2, ...tail)
  const out = new Uint8Array(16)
  groups.forEach((g, i) => view(out).setUint16(i * 2, g))
  return out
}

/** RFC 5952 canonical text: lower case, longest zero run as "::", mapped IPv4 dotted (§5). */
function formatIpv6(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b.subarray(12).join('.')}`
  }
  const g = Array.from({ length: 8 }, (_, i) => (b[i * 2]! << 8) | b[i * 2 + 1]!)
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':')
  if (best < 0) return hex(g)
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`
}

function addressBytes(a: StunAddress): Uint8Array {
  if (a.family === 'IPv4' ? !isIPv4(a.address) : !isIPv6(a.address)) {
    throw new InvalidInputError(`not an ${a.family} address: ${a.address}`)
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new InvalidInputError(`bad port ${a.port}`)
  }
  return a.family === 'IPv4' ? ipv4Bytes(a.address) : ipv6Bytes(a.address)
}

/** The XOR pad for XOR-*-ADDRESS: magic cookie ‖ transaction id (RFC 8489 §14.2). */
function xorPad(tid: Uint8Array): Uint8Array {
  const pad = new Uint8Array(16)
  view(pad).setUint32(0, MAGIC_COOKIE)
  pad.set(tid, 4)
  return pad
}

export function decodeAddress(v: Uint8Array, name: string, tid: Uint8Array | null): StunAddress {
  if (v.length < 4) fail(`${name}: value too short`)
  const fam = v[1]
  const len = fam === 1 ? 4 : fam === 2 ? 16 : fail(`${name}: unknown address family ${fam}`)
  need(v, 4 + len, name)
  const dv = view(v)
  let port = dv.getUint16(2)
  const ip = v.slice(4)
  if (tid) {
    port ^= MAGIC_COOKIE >>> 16
    const pad = xorPad(tid)
    for (let i = 0; i < len; i++) ip[i]! ^= pad[i]!
  }
  const address = len === 4 ? ip.join('.') : formatIpv6(ip)
  return { family: len === 4 ? 'IPv4' : 'IPv6', address, port }
}

export function encodeAddress(a: StunAddress, tid: Uint8Array | null): Uint8Array {
  const ip = addressBytes(a)
  const out = new Uint8Array(4 + ip.length)
  out[1] = ip.length === 4 ? 1 : 2
  view(out).setUint16(2, tid ? a.port ^ (MAGIC_COOKIE >>> 16) : a.port)
  const pad = xorPad(tid ?? new Uint8Array(12))
  for (let i = 0; i < ip.length; i++) out[4 + i] = tid ? ip[i]! ^ pad[i]! : ip[i]!
  return out
}
