/**
 * IP addresses and CIDR prefixes as bytes: parsing (dotted quad, RFC 4291 §2.2 text forms of
 * IPv6, with an embedded dotted quad or `::`), prefix matching, and the IPv4 address embedded
 * in an IPv4-mapped (RFC 4291 §2.5.5.2) or NAT64 well-known-prefix (RFC 6052 §2.1) IPv6
 * address. Pure: no Node, no DOM, so policies built on it run and test anywhere.
 */
import { InvalidInputError } from '../errors.js'

export interface IpAddress {
  family: 4 | 6
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array
}

export interface Cidr {
  family: 4 | 6
  bytes: Uint8Array
  /** Prefix length: 0-32 (IPv4) or 0-128 (IPv6). */
  prefix: number
}

/** Text that is not an IP address or CIDR prefix. */
export class InvalidCidrError extends InvalidInputError {
  constructor(text: string, why: string) {
    super(`"${text}" is not a valid IP address or CIDR prefix (${why})`)
    this.name = 'InvalidCidrError'
  }
}

/** Parse a dotted quad (four decimal octets, no leading zeros); undefined if it is not one. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4)
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e // a final '.' closes the last octet
    if (c >= 0x30 && c <= 0x39) {
      // A leading zero would be octal to inet_aton(3): refuse it rather than guess.
      if (digits === 1 && value === 0) return undefined
      value = value * 10 + (c - 0x30)
      if (++digits > 3 || value > 255) return undefined
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined
      out[part++] = value
      value = 0
      digits = 0
    } else {
      return undefined
    }
  }
  return part === 4 ? out : undefined
}

/** Parse an IPv6 address in any RFC 4291 §2.2 text form; undefined if it is not one. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (head === undefined || tail === undefined) return undefined
  const out = new Uint8Array(16)
  const total = head.length + tail.length
  // Without '::' all 16 bytes must be written; with it, '::' stands for at least one zero group.
  if (halves.length === 1 ? total !== 16 : total > 14) return undefined
  out.set(head, 0)
  out.set(tail, 16 - tail.length)
  return out
}

/** The bytes of colon-separated hex groups, the last of which may be a dotted quad. */
function groups(text: string): number[] | undefined {
  if (text === '') return []
  const parts = text.split(':')
  const bytes: number[] = []
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p)
      if (v4 === undefined) return undefined
      bytes.push(...v4)
      continue
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
    const v = parseInt(p, 16)
    bytes.push(v >> 8, v & 0xff)
  }
  return bytes
}

/** Parse an IPv4 or IPv6 address; undefined if it is neither. An IPv6 zone (`%eth0`) is refused. */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { family: 4, bytes: v4 }
  const v6 = text.includes(':') ? parseIpv6(text) : undefined
  return v6 === undefined ? undefined : { family: 6, bytes: v6 }
}

/**
 * Parse `address/prefix`, or a bare address as a single-address prefix (/32, /128). Bits past
 * the prefix must be zero (`10.0.0.1/8` is refused: it is most likely a typo). Throws
 * InvalidCidrError.
 */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim()
  const slash = trimmed.indexOf('/')
  const addrText = slash < 0 ? trimmed : trimmed.slice(0, slash)
  const ip = parseIp(addrText)
  if (ip === undefined) throw new InvalidCidrError(text, `"${addrText}" is not an IP address`)
  const max = ip.family === 4 ? 32 : 128
  let prefix = max
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) {
      throw new InvalidCidrError(text, `prefix length must be 0-${max}`)
    }
    prefix = Number(p)
  }
  const cidr: Cidr = { family: ip.family, bytes: ip.bytes, prefix }
  if (!hostBitsZero(cidr)) {
    throw new InvalidCidrError(text, 'address bits past the prefix length must be zero')
  }
  return cidr
}

function hostBitsZero(c: Cidr): boolean {
  for (let bit = c.prefix; bit < c.bytes.length * 8; bit++) {
    if ((c.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return false
  }
  return true
}

/** Does `cidr` contain `ip`? Families never match each other (see embeddedIpv4 for that). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false
  const whole = cidr.prefix >> 3
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false
  const rest = cidr.prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (cidr.bytes[whole]! & mask) === (ip.bytes[whole]! & mask)
}

/** Does any of `list` contain `ip`? */
export const anyContains = (list: readonly Cidr[], ip: IpAddress): boolean =>
  list.some((c) => cidrContains(c, ip))

const MAPPED_PREFIX = parseCidr('::ffff:0:0/96')
const NAT64_PREFIX = parseCidr('64:ff9b::/96')

/**
 * The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d` (RFC 4291
 * §2.5.5.2; a dual-stack socket sends to a.b.c.d) and the NAT64 well-known prefix
 * `64:ff9b::a.b.c.d` (RFC 6052 §2.1; a NAT64 gateway sends to a.b.c.d). Undefined otherwise.
 */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.family !== 6) return undefined
  if (!cidrContains(MAPPED_PREFIX, ip) && !cidrContains(NAT64_PREFIX, ip)) return undefined
  return { family: 4, bytes: ip.bytes.slice(12) }
}

/** A canonical text form, equal for equal addresses: dotted quad, or 32 lower-case hex digits. */
export function ipKey(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join('.')
  let s = ''
  for (const b of ip.bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** `a.b.c.d/n` or the full (uncompressed) IPv6 form with `/n`, for messages and logs. */
export function formatCidr(c: Cidr): string {
  if (c.family === 4) return `${c.bytes.join('.')}/${c.prefix}`
  const parts: string[] = []
  for (let i = 0; i < 16; i += 2) parts.push(((c.bytes[i]! << 8) | c.bytes[i + 1]!).toString(16))
  return `${parts.join(':')}/${c.prefix}`
}
