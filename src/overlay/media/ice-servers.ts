/**
 * W3C `RTCIceServer` entries (what TurnService.iceServers() returns) as
 * libdatachannel ICE servers. TURN servers become structured `IceServer`
 * objects rather than `turn:user:pass@host` strings: our TURN usernames are
 * `expiry:peerId` (the TURN REST pattern), which libdatachannel's URL parser
 * would split at the ':' (see forLibdatachannel in libp2p-factory.ts).
 * URI syntax: RFC 7064 §3.1 (stun/stuns), RFC 7065 §3.1 (turn/turns).
 */
import type { IceServer } from 'node-datachannel'

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
