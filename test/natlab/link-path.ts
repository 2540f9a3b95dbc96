/**
 * How two nodes' overlay link ended up, from what conn-probe.mjs recorded in
 * one of them: its open connections to the peer (libp2p's remote multiaddr and
 * whether the connection is limited, i.e. relayed) and, for WebRTC, the ICE
 * candidate pair node-datachannel selected.
 *
 * Note on multiaddrs: the side that dials a private-to-private WebRTC link
 * keeps the address it dialled (`…/p2p-circuit/webrtc/p2p/<peer>`) as the
 * connection's remote address, the answering side sees `/webrtc/p2p/<peer>`.
 * Both are direct (unlimited) connections; `/webrtc` anywhere means WebRTC,
 * and only a `/p2p-circuit` address without `/webrtc` is the circuit relay.
 */
import type { ProbeEvent } from './kaiwa-lab.js'

export type LinkKind = 'webrtc-direct' | 'webrtc-turn' | 'tcp-direct' | 'circuit-relay' | 'none'

export interface OpenConn {
  id: string
  peer: string
  addr: string
  dir: string
  limited: boolean
  openedAt: number
}

export interface CandidateInfo {
  type: string
  address: string
  port: number
}

export interface LinkPath {
  kind: LinkKind
  /** The connection SIP uses (the best open one, as SipLinks picks it). */
  conn: OpenConn | null
  /** For WebRTC: the selected candidate pair, local ⇄ remote. */
  pair: { local: CandidateInfo; remote: CandidateInfo } | null
}

export function openConnections(events: ProbeEvent[], peer?: string): OpenConn[] {
  const open = new Map<string, OpenConn>()
  for (const e of events) {
    if (e.ev === 'conn-open' && !open.has(String(e.id))) {
      open.set(String(e.id), {
        id: String(e.id),
        peer: String(e.peer),
        addr: String(e.addr),
        dir: String(e.dir),
        limited: e.limited === true,
        openedAt: e.t,
      })
    } else if (e.ev === 'conn-close') {
      open.delete(String(e.id))
    }
  }
  return [...open.values()].filter((c) => peer == null || c.peer === peer)
}

/** Per peer connection: its last state and, once connected, the selected pair. */
export function peerConnections(events: ProbeEvent[]): Map<
  number,
  {
    state: string
    since: number
    pair: LinkPath['pair']
    local: string[]
    remote: string[]
    iceServers: unknown
  }
> {
  const pcs = new Map<
    number,
    {
      state: string
      since: number
      pair: LinkPath['pair']
      local: string[]
      remote: string[]
      iceServers: unknown
    }
  >()
  const get = (id: number, t: number) => {
    let pc = pcs.get(id)
    if (pc == null) {
      pc = { state: 'new', since: t, pair: null, local: [], remote: [], iceServers: null }
      pcs.set(id, pc)
    }
    return pc
  }
  for (const e of events) {
    if (typeof e.pc !== 'number') continue
    const pc = get(e.pc, e.t)
    if (e.ev === 'pc-new') pc.iceServers = e.iceServers
    if (e.ev === 'pc-local-candidate' && typeof e.cand === 'string') pc.local.push(e.cand)
    if (e.ev === 'pc-remote-candidate' && typeof e.cand === 'string') pc.remote.push(e.cand)
    if (e.ev === 'pc-state') {
      pc.state = String(e.state)
      pc.since = e.t
      if (e.state === 'connected') pc.pair = toPair(e.pair)
    }
  }
  return pcs
}

function toPair(p: unknown): LinkPath['pair'] {
  const x = p as { local?: Record<string, unknown>; remote?: Record<string, unknown> } | null
  if (x?.local == null || x.remote == null) return null
  const c = (o: Record<string, unknown>): CandidateInfo => ({
    type: String(o.type),
    address: String(o.address),
    port: Number(o.port),
  })
  return { local: c(x.local), remote: c(x.remote) }
}

export function classifyLink(events: ProbeEvent[], peer: string): LinkPath {
  const conns = openConnections(events, peer)
  const webrtc = conns.filter((c) => c.addr.includes('/webrtc') && !c.limited)
  const tcp = conns.filter((c) => !c.addr.includes('/p2p-circuit') && !c.addr.includes('/webrtc'))
  const relayed = conns.filter(
    (c) => c.addr.includes('/p2p-circuit') && !c.addr.includes('/webrtc'),
  )
  if (webrtc.length > 0) {
    const conn = webrtc.at(-1)!
    // The peer connection that came up last before this libp2p connection opened.
    const connected = [...peerConnections(events).values()]
      .filter((pc) => pc.state === 'connected' && pc.since <= conn.openedAt + 1000)
      .sort((x, y) => x.since - y.since)
    const pair = connected.at(-1)?.pair ?? null
    const turn = pair != null && (pair.local.type === 'relay' || pair.remote.type === 'relay')
    return { kind: turn ? 'webrtc-turn' : 'webrtc-direct', conn, pair }
  }
  if (tcp.length > 0) return { kind: 'tcp-direct', conn: tcp.at(-1)!, pair: null }
  if (relayed.length > 0) return { kind: 'circuit-relay', conn: relayed.at(-1)!, pair: null }
  return { kind: 'none', conn: null, pair: null }
}

export function describePair(pair: LinkPath['pair']): string {
  if (pair == null) return ''
  const c = (x: CandidateInfo): string => `${x.type} ${x.address}:${x.port}`
  return `${c(pair.local)} ⇄ ${c(pair.remote)}`
}

/** True while some WebRTC attempt is still running (ICE not finished either way). */
export function iceInProgress(events: ProbeEvent[]): boolean {
  for (const pc of peerConnections(events).values()) {
    if (pc.state === 'new' || pc.state === 'connecting') return true
  }
  return false
}
