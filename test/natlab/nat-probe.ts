/**
 * Measures what a NAT really does, with UDP probes between a host behind it and
 * three public probe hosts (RFC 4787 / RFC 5780 style, no STUN needed):
 *
 * - mapping: one local socket asks pub0:3001, pub1:3001 and pub0:3002 which
 *   source address they see. The same external address for all three is
 *   endpoint-independent mapping; a new one per destination is
 *   address(-and-port)-dependent ("symmetric").
 * - filtering: endpoints the host never contacted send to the mapping it got
 *   for pub0:3001: pub0 from another port (gets in: at most address-dependent
 *   filtering) and pub2 (gets in: endpoint-independent filtering, full cone).
 * - hairpinning: another host behind the same NAT sends to that mapping.
 */
import type { Agent } from './agent-client.js'
import { publicHostAddr } from './lab.js'

export type Mapping =
  'none' | 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent'
export type Filtering = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent'

export interface NatBehaviour {
  /** What pub0:3001 saw as our source. */
  external: string
  mapping: Mapping
  filtering: Filtering
  /** Only measured when a second host behind the same NAT is given. */
  hairpin: boolean | null
}

/** Ports the public probe agents listen on. */
export const PROBE_PORTS = { echoA: 3001, echoB: 3002, otherPort: 3004, otherHost: 3003 }

/** Bind the probe sockets on the public agents (pub0, pub1, pub2). */
export async function startProbeServers(pubs: Agent[]): Promise<void> {
  if (pubs.length < 3) throw new Error('NAT probes need three public hosts')
  await pubs[0]!.bind('echoA', PROBE_PORTS.echoA)
  await pubs[0]!.bind('echoB', PROBE_PORTS.echoB)
  await pubs[0]!.bind('other', PROBE_PORTS.otherPort)
  await pubs[1]!.bind('echoA', PROBE_PORTS.echoA)
  await pubs[2]!.bind('other', PROBE_PORTS.otherHost)
}

let probeSeq = 0

export async function probeNat(
  host: Agent,
  hostAddr: string,
  pubs: Agent[],
  neighbour?: Agent,
): Promise<NatBehaviour> {
  const sock = `probe${++probeSeq}`
  const local = await host.bind(sock)
  const [a, b, c] = [
    await host.ask(sock, publicHostAddr(0), PROBE_PORTS.echoA),
    await host.ask(sock, publicHostAddr(1), PROBE_PORTS.echoA),
    await host.ask(sock, publicHostAddr(0), PROBE_PORTS.echoB),
  ]
  if (a == null || b == null || c == null) {
    throw new Error(`no echo through the NAT from ${hostAddr}: ${a} ${b} ${c}`)
  }
  const mapping: Mapping =
    a === `${hostAddr}:${local}` && a === b && a === c
      ? 'none'
      : a === b && a === c
        ? 'endpoint-independent'
        : a !== b && a === c
          ? 'address-dependent'
          : 'address-and-port-dependent'

  const [extIp, extPort] = splitHostPort(a)
  const tag = `unsolicited-${probeSeq}`
  await pubs[0]!.send('other', extIp, extPort, `${tag} same-host`)
  await pubs[2]!.send('other', extIp, extPort, `${tag} other-host`)
  let hairpin: boolean | null = null
  if (neighbour != null) {
    const nsock = `hairpin${probeSeq}`
    await neighbour.bind(nsock)
    await neighbour.send(nsock, extIp, extPort, `${tag} neighbour`)
  }
  const got = (await host.recv(sock, 800)).map((m) => m.text)
  const sameHost = got.includes(`${tag} same-host`)
  const otherHost = got.includes(`${tag} other-host`)
  if (neighbour != null) hairpin = got.includes(`${tag} neighbour`)
  const filtering: Filtering = otherHost
    ? 'endpoint-independent'
    : sameHost
      ? 'address-dependent'
      : 'address-and-port-dependent'
  await host.call('close', { sock })
  return { external: a, mapping, filtering, hairpin }
}

export function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':')
  return [s.slice(0, i), Number(s.slice(i + 1))]
}

/**
 * Simultaneous open, the moment hole punching depends on: the peer's packet
 * reaches our NAT (at the port we expect to be mapped, i.e. our local port)
 * before our own first packet leaves. Returns the external address our packet
 * then gets; with an endpoint-independent NAT that keeps ports it is
 * `publicAddr:<local port>`.
 */
export async function probeEarlyInbound(
  host: Agent,
  publicAddr: string,
  pubs: Agent[],
): Promise<{ local: number; external: string }> {
  const sock = `early${++probeSeq}`
  const local = await host.bind(sock)
  for (let i = 0; i < 3; i++) await pubs[0]!.send('other', publicAddr, local, 'early')
  await new Promise((r) => setTimeout(r, 100))
  const seen = await host.ask(sock, publicHostAddr(0), PROBE_PORTS.otherPort)
  await host.call('close', { sock })
  if (seen == null) throw new Error('no echo from pub0')
  return { local, external: seen }
}
