/**
 * Overlay addressing. An AOR is `sip:<user ID>@<overlay domain>` (domain
 * `kaiwa` unless `--overlay NAME`). Contacts that leave a node are rewritten to
 * a GRUU-like URI (RFC 5627 §3.1) naming the device's libp2p peer ID and the
 * local binding, so in-dialog requests route straight to the device, with no
 * DHT lookup: `sip:<user>@<domain>;gr=<peer id>;ua=<binding id>`.
 */
export const DEFAULT_OVERLAY_DOMAIN = 'kaiwa'

export interface OverlayTarget {
  user: string
  domain: string
  /** The device (peer ID) when the URI is a GRUU. */
  peer?: string
  /** The local binding on that device. */
  binding?: string
}

/** Parse the parts of a sip: URI that routing needs; undefined if it is not sip:/sips:. */
export function parseOverlayTarget(uri: string): OverlayTarget | undefined {
  const m = /^sips?:(?:([^@;?]+)@)?([^;?:]+)(?::\d+)?((?:;[^?]*)?)/i.exec(uri.trim())
  if (m == null) return undefined
  const params = new Map<string, string>()
  for (const p of (m[3] ?? '').split(';').slice(1)) {
    const eq = p.indexOf('=')
    params.set((eq < 0 ? p : p.slice(0, eq)).toLowerCase(), eq < 0 ? '' : p.slice(eq + 1))
  }
  return {
    user: decodeURIComponentSafe(m[1] ?? ''),
    domain: (m[2] ?? '').toLowerCase(),
    ...(params.get('gr') ? { peer: params.get('gr') } : {}),
    ...(params.get('ua') ? { binding: params.get('ua') } : {}),
  }
}

export function gruu(user: string, domain: string, peer: string, binding: string): string {
  return `sip:${user}@${domain};gr=${peer};ua=${binding}`
}

export function aor(user: string, domain: string): string {
  return `sip:${user}@${domain}`
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * RFC 3261 §16.7 step 6: the best final response among forks. 6xx wins at once
 * (handled by the caller); otherwise the lowest class, preferring 4xx over 5xx,
 * and within a class the first one received.
 */
export function bestFinalIndex(statuses: number[]): number {
  let best = -1
  for (let i = 0; i < statuses.length; i++) {
    const s = statuses[i]!
    if (best < 0 || rank(s) < rank(statuses[best]!)) best = i
  }
  return best
}

function rank(status: number): number {
  if (status >= 200 && status < 300) return 0
  if (status >= 600) return 1
  if (status >= 300 && status < 400) return 2
  if (status >= 400 && status < 500) return 3
  return 4
}

/**
 * The user ID in a history entry's peer (`sip:alice@kaiwa`, `<sip:alice@kaiwa>`,
 * or already `alice`): history keeps URIs, the UI speaks user IDs.
 */
export function peerUser(peer: string): string {
  const m = /^<?sips?:([^@;>]+)@/i.exec(peer.trim())
  return (m?.[1] ?? peer).toLowerCase()
}
