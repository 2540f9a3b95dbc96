/**
 * Which peers the TURN server relays to. RFC 8656 lets a server restrict them: CreatePermission
 * (§10.2) and ChannelBind (§12.2) "MAY impose restrictions on the IP address [and port] allowed
 * in the XOR-PEER-ADDRESS attribute" and reject with 403 (Forbidden); a Send indication to a
 * refused peer is silently discarded (§11.2). Without restrictions anyone holding credentials
 * (every peer of the overlay can get them) could use the relay to reach what only the
 * supernode's host can reach: its LAN, a cloud metadata service at 169.254.169.254, services
 * bound to its other addresses (server-side request forgery). So, as coturn's `denied-peer-ip`
 * lists do:
 *
 * - always refused: port 0, unspecified addresses, and the server's own listen port on its own
 *   or loopback addresses (a relay loop);
 * - then `allowPeers` (CIDRs the operator opted in to, for LAN use) allows;
 * - loopback (127/8, ::1) only with `allowLoopback` (a server bound to loopback: demo, tests);
 * - the host's own addresses (os.networkInterfaces(), the bind and the announced address) only
 *   at a live relay port of this server, where its relay sockets listen: two clients of the
 *   same server relaying to each other's relayed addresses (ICE relay-relay pairs) is TURN's
 *   ordinary use, and those sockets forward only to their own clients;
 * - IANA special-purpose ranges (RFC 6890 and its registries) are refused;
 * - anything else (public unicast) is allowed.
 *
 * IPv4-mapped and NAT64 addresses are judged by the IPv4 address they stand for.
 */
import { networkInterfaces } from 'node:os'
import { anyContains, embeddedIpv4, ipKey, parseCidr, parseIp } from '../../shared/net/cidr.js'
import type { Cidr, IpAddress } from '../../shared/net/cidr.js'
import type { Peer } from './allocation.js'

/** IPv4 special-purpose blocks that are not a peer on the Internet (RFC 6890 §2.2.2 registry). */
export const DENIED_IPV4: readonly string[] = [
  '0.0.0.0/8', // "this network" (RFC 791)
  '10.0.0.0/8', // private (RFC 1918)
  '100.64.0.0/10', // carrier-grade NAT shared space (RFC 6598)
  '127.0.0.0/8', // loopback (RFC 1122)
  '169.254.0.0/16', // link-local (RFC 3927), cloud metadata services at 169.254.169.254
  '172.16.0.0/12', // private (RFC 1918)
  '192.0.0.0/24', // IETF protocol assignments (RFC 6890)
  '192.0.2.0/24', // TEST-NET-1 (RFC 5737)
  '192.88.99.0/24', // 6to4 relay anycast, deprecated (RFC 7526)
  '192.168.0.0/16', // private (RFC 1918)
  '198.18.0.0/15', // benchmarking (RFC 2544)
  '198.51.100.0/24', // TEST-NET-2 (RFC 5737)
  '203.0.113.0/24', // TEST-NET-3 (RFC 5737)
  '224.0.0.0/4', // multicast (RFC 5771)
  '240.0.0.0/4', // reserved (RFC 1112), with 255.255.255.255 broadcast (RFC 919)
]

/** IPv6 special-purpose blocks (RFC 6890 §2.2.3 registry); mapped/NAT64 forms are judged as IPv4. */
export const DENIED_IPV6: readonly string[] = [
  '::/96', // unspecified, loopback, deprecated IPv4-compatible (RFC 4291 §2.5.5.1)
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): a private network behind a translator
  '100::/64', // discard-only (RFC 6666)
  '2001::/23', // IETF protocol assignments, Teredo (RFC 2928, RFC 4380)
  '2001:db8::/32', // documentation (RFC 3849)
  '2002::/16', // 6to4 (RFC 3056): any IPv4 address, private ones included
  '3fff::/20', // documentation (RFC 9637)
  'fc00::/7', // unique local (RFC 4193)
  'fe80::/10', // link-local (RFC 4291)
  'fec0::/10', // site-local, deprecated (RFC 3879)
  'ff00::/8', // multicast (RFC 4291)
]

const parseAll = (list: readonly string[]) => list.map((c) => parseCidr(c))
const DENIED: readonly Cidr[] = [...parseAll(DENIED_IPV4), ...parseAll(DENIED_IPV6)]
const LOOPBACK: readonly Cidr[] = parseAll(['127.0.0.0/8', '::1/128'])

/** Why a peer is refused, or 'allowed' / 'relay'. */
export type PeerVerdict =
  | 'allowed'
  /**
   * Allowed as a live relay port of this server on one of the host's own addresses. That may
   * change while a channel to it lives (the allocation ends, someone else binds the port), so
   * such channels are checked again per packet.
   */
  | 'relay'
  /** Not an IP address, an unspecified address, or port 0. */
  | 'invalid'
  /** The server's own listen port: the relay would feed itself. */
  | 'loop'
  | 'loopback'
  /** One of the host's own addresses, at a port that is not one of this server's relays. */
  | 'host'
  /** An IANA special-purpose block: private, link-local, multicast, documentation… */
  | 'special'

/** How often the host's own addresses are read again (interfaces come and go: VPN, DHCP). */
export const HOST_ADDRESSES_TTL_MS = 5000

export interface PeerPolicyInit {
  /** CIDRs (or single addresses) to relay to despite the deny list (already validated). */
  allowPeers?: readonly string[] | undefined
  allowLoopback: boolean
  /** The listen port, once bound. */
  listenPort(): number | undefined
  /** The address the listen and relay sockets are bound to; 0.0.0.0 for all. */
  bindAddress: string
  /** The address announced in XOR-RELAYED-ADDRESS when it is not bindAddress. */
  announcedAddress?: (() => string | undefined) | undefined
  /** Where IPv6 relay sockets bind when that is not bindAddress (`::` for all). */
  bindAddress6?: string | undefined
  /** The IPv6 address announced for them when it is not bindAddress6. */
  announcedAddress6?: (() => string | undefined) | undefined
  /** Is `port` the relay port of a live allocation of this server? */
  isRelayPort(port: number): boolean
  /** The host's interface addresses; default from os.networkInterfaces(). Tests inject it. */
  interfaceAddresses?: () => readonly string[]
  /** A monotonic clock in ms for the refresh; default performance.now. */
  clock?: () => number
}

/** Every address of every interface of this host. */
export function hostInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))
}

export class PeerPolicy {
  private readonly allow: readonly Cidr[]
  private readonly interfaces: () => readonly string[]
  private readonly clock: () => number
  private own = new Set<string>()
  private readAt = -Infinity

  constructor(private readonly init: PeerPolicyInit) {
    this.allow = parseAll(init.allowPeers ?? [])
    this.interfaces = init.interfaceAddresses ?? hostInterfaceAddresses
    this.clock = init.clock ?? (() => performance.now())
  }

  allows(p: Peer): boolean {
    const v = this.verdict(p)
    return v === 'allowed' || v === 'relay'
  }

  verdict(p: Peer): PeerVerdict {
    const parsed = parseIp(p.address)
    if (parsed === undefined || p.port <= 0 || p.port > 0xffff) return 'invalid'
    // Judge ::ffff:a.b.c.d and 64:ff9b::a.b.c.d as a.b.c.d: that is where the packet goes.
    const ip = embeddedIpv4(parsed) ?? parsed
    if (ip.bytes.every((b) => b === 0)) return 'invalid'
    const loopback = anyContains(LOOPBACK, ip)
    const own = this.isOwn(ip)
    if ((loopback || own) && p.port === this.init.listenPort()) return 'loop'
    if (anyContains(this.allow, ip)) return 'allowed'
    if (loopback) return this.init.allowLoopback ? 'allowed' : 'loopback'
    if (own) return this.isRelay(ip, p.port) ? 'relay' : 'host'
    return anyContains(DENIED, ip) ? 'special' : 'allowed'
  }

  /**
   * Is ip:port one of this server's live relay sockets? Only where they are bound (all addresses,
   * or the bind address) or announced: a relay socket on 127.0.0.1:P says nothing of who holds
   * P on the host's other addresses.
   */
  private isRelay(ip: IpAddress, port: number): boolean {
    if (!this.init.isRelayPort(port)) return false
    const binds = [this.init.bindAddress, this.init.bindAddress6]
    // A wildcard (or unparsable) bind: relay sockets listen on every own address.
    const wildcard = (b: string) => parseIp(b)?.bytes.every((x) => x === 0) ?? true
    if (wildcard(this.init.bindAddress)) return true
    if (this.init.bindAddress6 !== undefined && wildcard(this.init.bindAddress6)) return true
    const key = ipKey(ip)
    return [...binds, ...this.announced()].some((a) => {
      const parsed = a === undefined ? undefined : parseIp(a)
      return parsed !== undefined && ipKey(embeddedIpv4(parsed) ?? parsed) === key
    })
  }

  /** The announced addresses of both families, where given and readable. */
  private announced(): string[] {
    const out: string[] = []
    for (const f of [this.init.announcedAddress, this.init.announcedAddress6]) {
      try {
        const a = f?.()
        if (a !== undefined) out.push(a)
      } catch {
        // an announcer that throws announces nothing
      }
    }
    return out
  }

  /** Is `ip` one of this host's addresses? The list is read again every HOST_ADDRESSES_TTL_MS. */
  private isOwn(ip: IpAddress): boolean {
    const now = this.clock()
    if (now - this.readAt >= HOST_ADDRESSES_TTL_MS) {
      this.readAt = now
      this.own = this.readOwn()
    }
    return this.own.has(ipKey(ip))
  }

  private readOwn(): Set<string> {
    let texts: readonly string[]
    try {
      const binds = [this.init.bindAddress, this.init.bindAddress6 ?? '']
      texts = [...this.interfaces(), ...binds, ...this.announced()]
    } catch {
      // Reading the interfaces failed (a restricted sandbox): keep the addresses read before.
      return this.own
    }
    const keys = new Set<string>()
    for (const text of texts) {
      const parsed = parseIp(text)
      if (parsed !== undefined) keys.add(ipKey(embeddedIpv4(parsed) ?? parsed))
    }
    return keys
  }
}
