/**
 * IPv6 in the NAT lab (lab.ts): the core and the public hosts get an IPv6 address beside their
 * IPv4 one (dual stack), and a site may be IPv6-only: its hosts have no IPv4 address at all
 * (127.0.0.1 on loopback only), a routed /64 (IPv6 has no NAT), and a router that firewalls its
 * WAN as RFC 6092 asks of a home gateway: replies to what the LAN sent (established, related)
 * come in, nothing unsolicited does.
 *
 *   core 2001:db8::1 ── public hosts 2001:db8::2, ::3, …   (the IPv4 lab's 203.0.113.1, .2, …)
 *        │
 *        └─ IPv6-only site i: router WAN 2001:db8::<11+i>, LAN 2001:db8:<i+1>::/64 (router ::1,
 *           hosts ::10, ::11, …), the core routing the /64 to the router.
 *
 * Every address is in 2001:db8::/32 (RFC 3849 documentation): the lab's internet is routed, so
 * an IPv6-only site's LAN is a global (documentation) prefix, as an ISP would delegate, not a
 * unique-local one. Nothing here routes outside the lab. Addresses are added with `nodad`: the
 * lab is built in milliseconds, and duplicate address detection would hold them tentative.
 */
import { ip, nftIn, shIn, veth } from './exec.js'
import { configureRouter } from './nat-modes.js'
import type { LabHost, LabSite, SiteSpec } from './lab-types.js'

export const CORE_ADDR6 = '2001:db8::1'
/** The lab's IPv6 internet (TURN on the lab's supernode is allowed to relay there). */
export const LAB_IPV6_PREFIX = '2001:db8::/32'
export const publicHostAddr6 = (p: number): string => `2001:db8::${2 + p}`
export const siteWanAddr6 = (i: number): string => `2001:db8::${11 + i}`
const lanPrefix6 = (i: number): string => `2001:db8:${(i + 1).toString(16)}:`

/** The nftables table of an IPv6-only site's router. */
export const IPV6_TABLE = 'natlab6'

/** Forward IPv6 (the core, routers). */
export function forwardIpv6(ns: string): void {
  shIn(ns, 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding')
}

/** The IPv6 half of lab.ts's point-to-point veth: `addr`/128 in `ns`, the core as 2001:db8::1. */
export function pointToPoint6(
  core: string,
  coreIf: string,
  ns: string,
  nsIf: string,
  addr: string,
): void {
  ip('-n', core, 'addr', 'add', `${CORE_ADDR6}/128`, 'dev', coreIf, 'nodad')
  ip('-n', core, 'route', 'add', `${addr}/128`, 'dev', coreIf)
  ip('-n', ns, 'addr', 'add', `${addr}/128`, 'dev', nsIf, 'nodad')
  ip('-n', ns, 'route', 'add', `${CORE_ADDR6}/128`, 'dev', nsIf)
  ip('-n', ns, 'route', 'add', 'default', 'via', CORE_ADDR6, 'dev', nsIf)
}

/**
 * The WAN firewall of an IPv6 home router (RFC 6092 §3.2 and §4.3: outbound flows open the way
 * for their replies; unsolicited inbound traffic is dropped), with neighbour discovery allowed
 * on the WAN link itself (RFC 4861: the core must resolve the router's address to route to it).
 */
export function ipv6FirewallRuleset(wan: string): string {
  return [
    `table ip6 ${IPV6_TABLE} {`,
    `  chain input { type filter hook input priority filter; policy accept;`,
    `    iifname "${wan}" ct state established,related accept`,
    `    iifname "${wan}" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`,
    `    iifname "${wan}" drop`,
    `  }`,
    `  chain forward { type filter hook forward priority filter; policy accept;`,
    `    iifname "${wan}" ct state established,related accept`,
    `    iifname "${wan}" drop`,
    `  }`,
    `}`,
  ].join('\n')
}

/** What buildIpv6Site needs of the lab. */
export interface Ipv6SiteContext {
  core: string
  tag: string
  udpTimeoutS: number
  addNs(name: string): string
}

/** Site `i`, IPv6-only: a routed /64 behind a firewalled router. Throws for a NAT mode. */
export function buildIpv6Site(lab: Ipv6SiteContext, i: number, spec: SiteSpec): LabSite {
  if (spec.nat !== 'none' || spec.carrier != null) {
    throw new Error(`site ${i}: an IPv6-only site is routed (IPv6 has no NAT): use nat 'none'`)
  }
  const router = lab.addNs(`${lab.tag}-s${i}r`)
  veth(lab.core, `s${i}`, router, 'wan')
  const wan6 = siteWanAddr6(i)
  pointToPoint6(lab.core, `s${i}`, router, 'wan', wan6)
  const lan = lanPrefix6(i)
  ip('-n', lab.core, 'route', 'add', `${lan}:/64`, 'via', wan6, 'dev', `s${i}`)

  ip('-n', router, 'link', 'add', 'lan', 'type', 'bridge')
  ip('-n', router, 'addr', 'add', `${lan}:1/64`, 'dev', 'lan', 'nodad')
  ip('-n', router, 'link', 'set', 'lan', 'up')
  const hosts: LabHost[] = []
  for (let j = 0; j < (spec.hosts ?? 1); j++) {
    const ns = lab.addNs(`${lab.tag}-s${i}h${j}`)
    const addr = `${lan}:${10 + j}`
    veth(router, `h${j}`, ns, 'eth0')
    ip('-n', router, 'link', 'set', `h${j}`, 'master', 'lan')
    ip('-n', ns, 'addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad')
    ip('-n', ns, 'route', 'add', 'default', 'via', `${lan}:1`, 'dev', 'eth0')
    hosts.push({ name: `s${i}h${j}`, ns, addr, addr6: addr })
  }
  forwardIpv6(router)
  if (spec.firewall ?? true) {
    // The table's conntrack matches load conntrack in the namespace, which configureRouter tunes.
    nftIn(router, ipv6FirewallRuleset('wan'))
    configureRouter(router, { udpTimeoutS: lab.udpTimeoutS })
  }
  return {
    index: i,
    nat: 'none',
    carrier: null,
    ipv6Only: true,
    router,
    carrierRouter: null,
    publicAddr: hosts[0]!.addr,
    gateway: `${lan}:1`,
    hosts,
  }
}

/** Is `host` IPv6-only (a host of an IPv6-only site)? */
export const isIpv6Only = (host: LabHost): boolean => host.addr.includes(':')
