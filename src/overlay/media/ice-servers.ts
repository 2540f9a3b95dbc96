/**
 * W3C `RTCIceServer` entries (what TurnService.iceServers() returns) as
 * libdatachannel ICE servers. TURN servers become structured `IceServer`
 * objects rather than `turn:user:pass@host` strings: our TURN usernames are
 * `expiry:peerId` (the TURN REST pattern), which libdatachannel's URL parser
 * would split at the ':' (see forLibdatachannel in libp2p-factory.ts).
 * URI syntax: RFC 7064 §3.1 (stun/stuns), RFC 7065 §3.1 (turn/turns).
 *
 * libdatachannel's ICE agent (libjuice) takes ONE STUN server, picked at random, and at most two
 * TURN servers (libdatachannel src/impl/icetransport.cpp), so handing it a dual-stack
 * supernode's IPv4 and IPv6 URLs would leave an IPv4-only host without a server-reflexive or
 * relay candidate about half the time: forHostFamily keeps one family.
 */
import { isIPv4, isIPv6 } from 'node:net'
import type { IceServer } from 'node-datachannel'
import { reachableIpv6 } from '../node/listen-addrs.js'
import type { InterfaceMap } from '../node/listen-addrs.js'

/** The structural shape of W3C RTCIceServer, so callers can pass DOM types as they are. */
export interface IceServerInit {
  urls: string | string[]
  username?: string
  credential?: string
}

const DEFAULT_PORT = { stun: 3478, stuns: 5349, turn: 3478, turns: 5349 } as const

export function toLibdatachannel(servers: readonly IceServerInit[]): IceServer[] {
  const out: IceServer[] = []
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      const parsed = parseIceUrl(url)
      if (parsed == null) continue
      if (parsed.scheme === 'stun' || parsed.scheme === 'stuns') {
        // libdatachannel has no STUN over TLS; a plain STUN binding still finds the srflx address.
        out.push({ hostname: parsed.host, port: parsed.port })
        continue
      }
      if (s.username == null || s.credential == null) continue
      out.push({
        hostname: parsed.host,
        port: parsed.port,
        username: s.username,
        password: s.credential,
        relayType:
          parsed.scheme === 'turns'
            ? 'TurnTls'
            : parsed.transport === 'tcp'
              ? 'TurnTcp'
              : 'TurnUdp',
      })
    }
  }
  return out
}

interface IceUrl {
  scheme: keyof typeof DEFAULT_PORT
  host: string
  port: number
  transport?: string
}

/** Undefined for anything that is not a STUN/TURN URI (ignored, as browsers must reject them). */
export function parseIceUrl(url: string): IceUrl | undefined {
  const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?\s]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/i.exec(
    url.trim(),
  )
  if (m == null) return undefined
  const scheme = m[1]!.toLowerCase() as IceUrl['scheme']
  const port = m[3] != null ? Number(m[3]) : DEFAULT_PORT[scheme]
  if (port < 1 || port > 65535) return undefined
  return {
    scheme,
    host: m[2]!.replace(/^\[|\]$/g, ''),
    port,
    ...(m[4] != null ? { transport: m[4].toLowerCase() } : {}),
  }
}

/** An ICE URL's IP family when its host is an IP literal; undefined for a name (or no URL). */
export function iceUrlFamily(url: string): 4 | 6 | undefined {
  const host = parseIceUrl(url)?.host
  if (host === undefined) return undefined
  return isIPv4(host) ? 4 : isIPv6(host) ? 6 : undefined
}

/**
 * The family a libdatachannel agent on this host should use its servers of: IPv6 on an IPv6-only
 * host (a reachable IPv6 address, no IPv4 one but loopback), else IPv4 (behind a NAT only IPv4
 * STUN finds the public side, and IPv6 has no NAT to find; a loopback-only host, the tests, uses
 * 127.0.0.1). Pure: pass os.networkInterfaces().
 */
export function hostIceFamily(interfaces: InterfaceMap): 4 | 6 {
  const all = Object.values(interfaces).flatMap((l) => l ?? [])
  // Node < 18.4 reported family as the number 4.
  const v4 = all.some((i) => !i.internal && ['IPv4', '4'].includes(String(i.family)))
  return !v4 && reachableIpv6(interfaces).length > 0 ? 6 : 4
}

/**
 * `servers` with only the URLs of `family` (and those naming a host by name); entries left with
 * no URL are dropped. See the header for why libdatachannel needs one family.
 */
export function forHostFamily<T extends IceServerInit>(servers: readonly T[], family: 4 | 6): T[] {
  const out: T[] = []
  for (const s of servers) {
    const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => {
      const f = iceUrlFamily(u)
      return f === undefined || f === family
    })
    if (urls.length > 0) out.push({ ...s, urls })
  }
  return out
}
