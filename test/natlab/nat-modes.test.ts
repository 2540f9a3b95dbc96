/**
 * The NAT lab is what it claims: each router's mapping and filtering measured
 * with UDP probes (see nat-probe.ts), no hairpinning behind a shared NAT,
 * double NAT, per-namespace conntrack timeouts that really expire mappings,
 * and a teardown that leaves nothing behind. Root only (network namespaces);
 * skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ip, labUnavailableReason, run, shIn } from './exec.js'
import { createLab, publicHostAddr } from './lab.js'
import type { Lab } from './lab.js'
import { startAgent } from './agent-client.js'
import type { Agent } from './agent-client.js'
import {
  PROBE_PORTS,
  probeEarlyInbound,
  probeNat,
  splitHostPort,
  startProbeServers,
} from './nat-probe.js'
import { required } from '../helpers/requirements.js'

const skip = labUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab tests skipped: ${skip}`)

const UDP_TIMEOUT_S = 4

describe.skipIf(skip != null)(`NAT lab: NAT behaviours${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let lab: Lab
  const pubs: Agent[] = []
  const agents = new Map<string, Agent>()
  const rootTimeouts = readTimeouts()

  function agent(ns: string): Agent {
    const a = agents.get(ns)
    if (a == null) throw new Error(`no agent in ${ns}`)
    return a
  }

  beforeAll(async () => {
    lab = createLab({
      publicHosts: 3,
      udpTimeoutS: UDP_TIMEOUT_S,
      sites: [
        { nat: 'none' },
        { nat: 'full-cone' },
        { nat: 'port-restricted', hosts: 2 },
        { nat: 'symmetric' },
        { nat: 'port-restricted', carrier: 'port-restricted' },
        { nat: 'full-cone', hosts: 2 },
        { nat: 'port-restricted', firewall: false },
      ],
    })
    for (const p of lab.publicHosts) pubs.push(await startAgent(lab, p.ns))
    for (const s of lab.sites)
      for (const h of s.hosts) agents.set(h.ns, await startAgent(lab, h.ns))
    await startProbeServers(pubs)
  }, 60_000)

  afterAll(async () => {
    await lab?.destroy()
  })

  const cases = [
    { site: 0, label: 'none (routed)', mapping: 'none', filtering: 'endpoint-independent' },
    {
      site: 1,
      label: 'full-cone',
      mapping: 'endpoint-independent',
      filtering: 'endpoint-independent',
    },
    {
      site: 2,
      label: 'port-restricted',
      mapping: 'endpoint-independent',
      filtering: 'address-and-port-dependent',
    },
    {
      site: 3,
      label: 'symmetric',
      mapping: 'address-and-port-dependent',
      filtering: 'address-and-port-dependent',
    },
    {
      site: 4,
      label: 'double NAT (port-restricted behind a port-restricted carrier)',
      mapping: 'endpoint-independent',
      filtering: 'address-and-port-dependent',
    },
  ] as const

  for (const c of cases) {
    it(`${c.label}: ${c.mapping} mapping, ${c.filtering} filtering`, async () => {
      const site = lab.sites[c.site]!
      const host = site.hosts[0]!
      const b = await probeNat(agent(host.ns), host.addr, pubs)
      expect({ mapping: b.mapping, filtering: b.filtering }).toEqual({
        mapping: c.mapping,
        filtering: c.filtering,
      })
      // The outside world sees the site's public address (the carrier's, for double NAT).
      expect(splitHostPort(b.external)[0]).toBe(site.publicAddr)
    })
  }

  it('hosts behind one NAT do not reach each other through its public address (no hairpin)', async () => {
    for (const site of [lab.sites[2]!, lab.sites[5]!]) {
      const [h0, h1] = site.hosts
      const b = await probeNat(agent(h0!.ns), h0!.addr, pubs, agent(h1!.ns))
      expect(b.hairpin).toBe(false)
      // ...while the LAN itself works, untranslated.
      const sock = `lan${site.index}`
      const port1 = await agent(h1!.ns).bind(sock)
      const port0 = await agent(h0!.ns).bind(sock)
      expect(await agent(h0!.ns).ask(sock, h1!.addr, port1)).toBe(`${h0!.addr}:${port0}`)
    }
  })

  it('a peer packet arriving before ours does not move our mapping (the router drops it unconfirmed)', async () => {
    for (const site of [lab.sites[2]!, lab.sites[1]!, lab.sites[4]!]) {
      const r = await probeEarlyInbound(agent(site.hosts[0]!.ns), site.publicAddr, pubs)
      expect(r.external).toBe(`${site.publicAddr}:${r.local}`)
    }
  })

  it('without that firewall, bare Linux masquerade gives the early packet our port and remaps us', async () => {
    const site = lab.sites[6]!
    // Still endpoint-independent when nobody races us...
    const b = await probeNat(agent(site.hosts[0]!.ns), site.hosts[0]!.addr, pubs)
    expect(b.mapping).toBe('endpoint-independent')
    // ...but the early inbound packet's conntrack entry (for the router itself)
    // holds the tuple, so our packet gets another external port.
    const r = await probeEarlyInbound(agent(site.hosts[0]!.ns), site.publicAddr, pubs)
    expect(r.external).not.toBe(`${site.publicAddr}:${r.local}`)
  })

  it('conntrack timeouts are per namespace: routers get the short ones, the host keeps its own', () => {
    const router = readTimeouts(lab.sites[2]!.router)
    expect(router).toEqual({ udp: UDP_TIMEOUT_S, stream: UDP_TIMEOUT_S })
    // A namespace the lab did not tune keeps the kernel's defaults (30 s and 120 s on 6.x).
    const host = readTimeouts(lab.sites[2]!.hosts[0]!.ns)
    expect(host.stream).not.toBe(UDP_TIMEOUT_S)
    expect(host.udp).not.toBe(UDP_TIMEOUT_S)
    expect(readTimeouts()).toEqual(rootTimeouts)
  })

  it('an idle mapping expires after the UDP conntrack timeout', async () => {
    for (const site of [lab.sites[2]!, lab.sites[1]!]) {
      const host = agent(site.hosts[0]!.ns)
      const sock = `idle${site.index}`
      await host.bind(sock)
      const ext = await host.ask(sock, publicHostAddr(0), PROBE_PORTS.echoA)
      expect(ext).not.toBeNull()
      const [extIp, extPort] = splitHostPort(ext!)
      // Within the timeout the server can still answer on that mapping...
      await new Promise((r) => setTimeout(r, 1000))
      await pubs[0]!.send('echoA', extIp, extPort, 'still-open')
      expect((await host.recv(sock, 500)).map((m) => m.text)).toEqual(['still-open'])
      // ...after it (and no keepalive), the NAT has forgotten the mapping.
      await new Promise((r) => setTimeout(r, (UDP_TIMEOUT_S + 2) * 1000))
      await pubs[0]!.send('echoA', extIp, extPort, 'too-late')
      expect(await host.recv(sock, 500)).toEqual([])
    }
  }, 30_000)

  it('destroy removes every namespace it created', async () => {
    const names = [...lab.namespaces]
    expect(names.length).toBeGreaterThan(10)
    await lab.destroy()
    const left = ip('netns', 'list')
    for (const n of names) expect(left).not.toContain(n)
  })
})

function readTimeouts(ns?: string): { udp: number; stream: number } {
  const script =
    'cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream'
  const out = ns == null ? shRoot(script) : shIn(ns, script)
  const [udp, stream] = out.trim().split(/\s+/).map(Number)
  return { udp: udp!, stream: stream! }
}

function shRoot(script: string): string {
  return run('/bin/sh', ['-c', script])
}
