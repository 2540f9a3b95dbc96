/**
 * Which of this node's multiaddrs go into its contact record. Relay
 * (/p2p-circuit) and WebRTC addresses come first because a NATed device is only
 * reachable through them; then public, then LAN, then loopback addresses. The
 * record has a size cap, so the list is cut at `max`.
 *
 * Dual stack: within a rank IPv4 and IPv6 addresses alternate, so a host with
 * several global IPv6 addresses (RFC 8981 temporary ones) or several IPv4
 * transports still lists both families before the cap; a peer with only one
 * family can then dial it. IPv6 link-local addresses (fe80::/10) are left out:
 * another host can dial them only with a zone it does not know (RFC 4007 §11).
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/** The `/webrtc` protocol (browser-style, signalled over a relay), not `/webrtc-direct`. */
const WEBRTC = /\/webrtc(\/|$)/
/** fe80::/10 (fe80 to febf), or any address with a zone. */
const LINK_LOCAL6 = /(^|\/)ip6\/fe[89ab][0-9a-f]:|\/ip6zone\//i

export function addrRank(ma: Multiaddr): number {
  const s = ma.toString()
  if (s.includes('/p2p-circuit')) return WEBRTC.test(s) ? 0 : 1
  if (WEBRTC.test(s)) return 0
  if (/\/ip[46]\/(127\.|::1\/)/.test(s)) return 4
  if (/\/ip4\/(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)|\/ip6\/f[cde]/i.test(s))
    return 3
  return 2
}

/** The IP family of an address's first component ('dns' and others count as neither). */
function familyOf(ma: Multiaddr): 4 | 6 | 0 {
  const s = ma.toString()
  return s.startsWith('/ip4/') ? 4 : s.startsWith('/ip6/') ? 6 : 0
}

/** Is `ma` an IPv6 link-local address (useless in a record: it needs a zone)? */
export const isLinkLocal6 = (ma: Multiaddr): boolean => LINK_LOCAL6.test(ma.toString())

/**
 * Reorder one rank's addresses so the IP families alternate, each family keeping its order and
 * the first address staying first; addresses of neither family keep their places in the turn.
 */
function alternateFamilies(xs: Multiaddr[]): Multiaddr[] {
  const v4 = xs.filter((a) => familyOf(a) === 4)
  const v6 = xs.filter((a) => familyOf(a) === 6)
  if (v4.length === 0 || v6.length === 0) return xs
  const out: Multiaddr[] = []
  let want: 4 | 6 = familyOf(xs.find((a) => familyOf(a) !== 0)!) as 4 | 6
  for (const a of xs) {
    if (familyOf(a) === 0) {
      out.push(a)
      continue
    }
    const next = (want === 4 ? v4 : v6).shift() ?? (want === 4 ? v6 : v4).shift()!
    out.push(next)
    if ((want === 4 ? v6 : v4).length > 0) want = want === 4 ? 6 : 4
  }
  return out
}

export function pickDeviceAddrs(addrs: Multiaddr[], max: number): Multiaddr[] {
  const seen = new Set<string>()
  const byRank = new Map<number, Multiaddr[]>()
  for (const a of addrs) {
    const k = a.toString()
    if (seen.has(k) || isLinkLocal6(a)) continue
    seen.add(k)
    const r = addrRank(a)
    const list = byRank.get(r)
    if (list) list.push(a)
    else byRank.set(r, [a])
  }
  return [...byRank.keys()]
    .sort((x, y) => x - y)
    .flatMap((r) => alternateFamilies(byRank.get(r)!))
    .slice(0, Math.max(0, max))
}
