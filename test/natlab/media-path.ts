/**
 * Which path a call's media took between two lab clients, read from the lab
 * itself rather than from the nodes: the supernode's TURN counters (packets
 * it relayed) and the UDP packets client A's router saw between the two
 * sites' public addresses (a direct or punched path). Read both before and
 * after a stretch of audio; the path that carried it is the one that grew.
 */
import type { Lab, LabHost, LabSite } from './lab.js'
import type { LabNode } from './kaiwa-lab.js'
import type { PairingContext } from './pairings.js'

export interface PathCounters {
  /** Packets the supernode's TURN server relayed so far (null: its status has no TURN). */
  turnRelayed: number | null
  /** UDP packets, both directions, in A's router's flows to or from B's public address. */
  direct: number
}

export interface MediaPath {
  kind: 'direct' | 'relay' | 'none'
  turnPackets: number
  directPackets: number
  summary: string
}

function siteOf(lab: Lab, host: LabHost): LabSite {
  const site = lab.sites.find((s) => s.hosts.some((h) => h.ns === host.ns))
  if (site == null) throw new Error(`${host.name} is on no site of this lab`)
  return site
}

async function turnRelayed(sn: LabNode): Promise<number | null> {
  const s = await sn.api<{ turn: { stats: { packetsRelayed: number } } | null }>('status')
  return s.turn?.stats.packetsRelayed ?? null
}

/** The counters now. */
export async function readPathCounters(
  lab: Lab,
  sn: LabNode,
  ctx: PairingContext,
): Promise<PathCounters> {
  const siteA = siteOf(lab, ctx.a.host)
  const far = siteOf(lab, ctx.b.host).publicAddr
  let direct = 0
  for (const e of lab.conntrack(siteA.router)) {
    if (e.proto !== 'udp') continue
    // Outbound flows have B's address as their destination, inbound ones (let in by a full cone) as their source.
    if (e.orig.dst === far || e.orig.src === far) direct += e.orig.packets + e.reply.packets
  }
  return { turnRelayed: await turnRelayed(sn), direct }
}

/** The path that carried at least `minPackets` between two readings (TURN wins a tie). */
export function mediaPath(
  before: PathCounters,
  after: PathCounters,
  minPackets: number,
): MediaPath {
  const turnPackets =
    after.turnRelayed != null && before.turnRelayed != null
      ? Math.max(0, after.turnRelayed - before.turnRelayed)
      : 0
  const directPackets = Math.max(0, after.direct - before.direct)
  const kind = turnPackets >= minPackets ? 'relay' : directPackets >= minPackets ? 'direct' : 'none'
  return {
    kind,
    turnPackets,
    directPackets,
    summary: `${kind} media (TURN relayed ${turnPackets} packets, ${directPackets} went direct between the sites)`,
  }
}
