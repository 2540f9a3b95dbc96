/**
 * The node's default libp2p listen addresses: all IPv4 interfaces, and all IPv6 ones as well
 * when the host has an IPv6 address other peers could reach (dual stack). Link-local IPv6
 * (fe80::/10, which every IPv6-enabled interface has) does not count: dialling it needs a zone
 * (RFC 4007 §11), so a host with only link-local and loopback IPv6 is IPv4-only to the overlay.
 * Pure: the caller passes os.networkInterfaces().
 */
import type { NetworkInterfaceInfo } from 'node:os'
import { InvalidInputError } from '../../shared/errors.js'
import { anyContains, parseCidr, parseIp } from '../../shared/net/cidr.js'

/** What os.networkInterfaces() returns. */
export type InterfaceMap = Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>

/** Not reachable from another host: loopback, unspecified, link-local (RFC 4291 §2.5). */
const LOCAL_ONLY = ['::1/128', '::/128', 'fe80::/10'].map((c) => parseCidr(c))

/** Is `address` an IPv6 address another host can reach (global or unique local)? */
export function isReachableIpv6(address: string): boolean {
  const ip = parseIp(address.split('%')[0]!)
  return ip !== undefined && ip.bytes.length === 16 && !anyContains(LOCAL_ONLY, ip)
}

/** The host's IPv6 addresses that another host can reach (global or unique local). */
export function reachableIpv6(interfaces: InterfaceMap): string[] {
  const out: string[] = []
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      // Node < 18.4 reported family as the number 6.
      if (i.internal || (String(i.family) !== 'IPv6' && String(i.family) !== '6')) continue
      if (isReachableIpv6(i.address)) out.push(i.address)
    }
  }
  return out
}

/**
 * `/ip4/0.0.0.0/tcp/PORT`, plus `/ip6/::/tcp/PORT` when the host has a reachable IPv6 address.
 * Port 0 lets the kernel pick (a different port per family). Throws InvalidInputError on a port
 * outside 0-65535.
 */
export function defaultListenAddrs(interfaces: InterfaceMap, port = 0): string[] {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new InvalidInputError(`listen port must be an integer 0-65535, got ${port}`)
  }
  const addrs = [`/ip4/0.0.0.0/tcp/${port}`]
  if (reachableIpv6(interfaces).length > 0) addrs.push(`/ip6/::/tcp/${port}`)
  return addrs
}
