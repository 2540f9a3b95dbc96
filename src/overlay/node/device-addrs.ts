/**
 * Which of this node's multiaddrs go into its contact record. Relay
 * (/p2p-circuit) and WebRTC addresses come first because a NATed device is only
 * reachable through them; then public, then LAN, then loopback addresses. The
 * record has a size cap, so the list is cut at `max`.
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/** The `/webrtc` protocol (browser-style, signalled over a relay), not `/webrtc-direct`. */
const WEBRTC = /\/webrtc(\/|$)/

export function addrRank(ma: Multiaddr): number {
  const s = ma.toString()
  if (s.includes('/p2p-circuit')) return WEBRTC.test(s) ? 0 : 1
  if (WEBRTC.test(s)) return 0
  if (/\/ip[46]\/(127\.|::1\/)/.test(s)) return 4
  if (/\/ip4\/(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)|\/ip6\/f[cde]/i.test(s))
    return 3
  return 2
}

export function pickDeviceAddrs(addrs: Multiaddr[], max: number): Multiaddr[] {
  const seen = new Set<string>()
  return addrs
    .filter((a) => {
      const k = a.toString()
      if (seen.has(k)) return false
      seen.add(k)
      return true
    })
    .map((a, i) => ({ a, i, r: addrRank(a) }))
    .sort((x, y) => x.r - y.r || x.i - y.i)
    .slice(0, max)
    .map((x) => x.a)
}
