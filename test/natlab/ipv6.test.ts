/**
 * IPv6 ↔ IPv4 across the NAT lab (issue 13 §9): a client at an IPv6-only site (no IPv4 address
 * on its host, a routed /64 behind a home router's firewall; lab-ipv6.ts) and a client behind an
 * IPv4 port-restricted NAT share no address family. Both reach a dual-stack supernode (TCP on
 * 203.0.113.2 and 2001:db8::2, STUN/TURN on 0.0.0.0 and ::), claim their names, chat both ways
 * (the overlay link can only be the circuit relay through the supernode) and call each other
 * from the softphone UI with audio both ways. Media must be relayed, and one side's relay is an
 * IPv6 → IPv4 translation: Chromium on the IPv6-only host reaches TURN over IPv6 and, as
 * Chromium always does, asks for the default relayed family, IPv4 (no REQUESTED-ADDRESS-FAMILY,
 * RFC 8656 §7.2), so its relay candidate is an IPv4 address that the IPv4-only side can reach.
 * Root, nftables and Chromium only; skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { callOnce, closePhones, phonesFor, readNetworkStatus } from './call-step.js'
import type { CallResult } from './call-step.js'
import { IP, labUnavailableReason } from './exec.js'
import type { Lab } from './lab.js'
import { agentFor, bootstrapAddr, startLabNode } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import { openConnections } from './link-path.js'
import { chat, createPairingsLab, settleLink, startPairing } from './pairings.js'
import type { PairingContext, PairingSpec } from './pairings.js'
import { chromiumUnavailableReason } from './phone.js'

const skip = labUnavailableReason() ?? chromiumUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab IPv6 tests skipped: ${skip}`)

const SPEC: PairingSpec = {
  id: 'v6-prc',
  label: 'IPv6-only ↔ port-restricted NAT (IPv4)',
  sites: [{ nat: 'none', ipv6Only: true }, { nat: 'port-restricted' }],
  a: { site: 0, host: 0 },
  b: { site: 1, host: 0 },
  // No common address family: nothing to punch.
  punchable: false,
}

const SN_V4 = '203.0.113.2'
const SN_V6 = '2001:db8::2'

describe.skipIf(skip != null)(
  `NAT lab: an IPv6-only site reaches an IPv4-only site through a dual-stack supernode${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    let ctx: PairingContext
    const results: string[] = []

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      const built = createPairingsLab([SPEC], { udpTimeoutS: 30 })
      lab = built.lab
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      ctx = await startPairing(lab, built.placed[0]!, { supernode: sn, nodeOptions: { ui: true } })
      await phonesFor(ctx)
    }, 180_000)

    afterAll(async () => {
      if (results.length > 0) console.log(results.join('\n'))
      if (ctx != null) await closePhones(ctx)
      await lab?.destroy()
    })

    it('the IPv6-only host has no IPv4 address but loopback, and a global IPv6 one', () => {
      const a = ctx.a.host
      const v4 = lab.exec(a.ns, IP, ['-4', '-o', 'addr', 'show'])
      expect(v4.trim().split('\n')).toEqual([expect.stringMatching(/ lo +inet 127\.0\.0\.1\/8 /)])
      const v6 = lab.exec(a.ns, IP, ['-6', '-o', 'addr', 'show', 'scope', 'global'])
      expect(v6).toContain(`${a.addr6}/64`)
      expect(lab.sites[0]!.ipv6Only).toBe(true)
    })

    it("the IPv6-only site's router is routed, not translated, and drops what nobody asked for", async () => {
      const [host, pub] = await Promise.all([
        agentFor(lab, ctx.a.host.ns),
        agentFor(lab, sn.host.ns),
      ])
      const a6 = ctx.a.host.addr6!
      const aPort = await host.bind('fw', 0, '::')
      const echoPort = await pub.bind('fw-echo', 0, '::')
      await pub.bind('fw-other', 0, '::')
      // Unsolicited: dropped at the router.
      await pub.send('fw-echo', a6, aPort, 'unsolicited')
      expect(await host.recv('fw', 500)).toEqual([])
      // Outbound: the far end sees the host's own address and port (no NAT) ...
      expect(await host.ask('fw', SN_V6, echoPort)).toBe(`${a6}:${aPort}`)
      // ... and may answer from that address and port, but not from another port.
      await pub.send('fw-echo', a6, aPort, 'reply')
      await pub.send('fw-other', a6, aPort, 'other port')
      expect((await host.recv('fw', 500)).map((m) => m.text)).toEqual(['reply'])
      for (const [agent, sock] of [
        [host, 'fw'],
        [pub, 'fw-echo'],
        [pub, 'fw-other'],
      ] as const)
        await agent.call('close', { sock })
    })

    it('the supernode is dual-stack: overlay and STUN/TURN on both families, both announced', async () => {
      onTestFailed(() => dumpLogs([sn]))
      expect(bootstrapAddr(sn, 6)).toMatch(new RegExp(`^/ip6/${SN_V6}/tcp/4001/p2p/`))
      expect(bootstrapAddr(sn, 4)).toMatch(new RegExp(`^/ip4/${SN_V4}/tcp/4001/p2p/`))
      const s = await sn.api<{ turn: { address: string; urls: string[] } | null }>('status')
      // IPv4 first, then IPv6 (other URLs, e.g. turns: on the bridge port, may follow).
      expect(s.turn?.urls.filter((u) => /^(stun|turn):/.test(u))).toEqual([
        `stun:${SN_V4}:3478`,
        `turn:${SN_V4}:3478?transport=udp`,
        `turn:${SN_V4}:3478?transport=tcp`,
        `stun:[${SN_V6}]:3478`,
        `turn:[${SN_V6}]:3478?transport=udp`,
        `turn:[${SN_V6}]:3478?transport=tcp`,
      ])
      expect(sn.stderr()).toMatch(/STUN\/TURN on 0\.0\.0\.0:3478 and \[::\]:3478/)
      // The ICE servers the IPv6-only client's UI gets carry the bracketed IPv6 URLs.
      const ice = await ctx.a.api<{ iceServers: Array<{ urls: string[] }> }>('iceServers')
      expect(ice.iceServers.flatMap((x) => x.urls)).toContain(`turn:[${SN_V6}]:3478?transport=udp`)
    })

    it('each client reaches the supernode over its own family and claims its name', async () => {
      onTestFailed(() => dumpLogs([ctx.a, ctx.b]))
      const linkTo = (n: LabNode) =>
        openConnections(n.probe(), sn.ready.peerId)
          .filter((c) => !c.limited)
          .map((c) => c.addr)
      expect(linkTo(ctx.a).some((x) => x.startsWith(`/ip6/${SN_V6}/tcp/4001`))).toBe(true)
      expect(linkTo(ctx.b).some((x) => x.startsWith(`/ip4/${SN_V4}/tcp/4001`))).toBe(true)
      for (const n of [ctx.a, ctx.b]) {
        const st = await n.api<{ supernodes: string[] }>('status')
        expect(st.supernodes, n.label).toContain(sn.ready.peerId)
      }
      // a's record, as b reads it: a relay address through the supernode's IPv6 side (what
      // makes a reachable; a's own addresses may fall to the record's cap behind relay ones).
      const r = await ctx.b.api<{ record: { devices: Array<{ addrs: string[] }> } }>('lookup', {
        name: ctx.names.a,
      })
      const addrs = r.record.devices.flatMap((d) => d.addrs)
      results.push(`${ctx.names.a}'s record: ${addrs.join(' ')}`)
      const viaSn6 = (x: string) => x.startsWith(`/ip6/${SN_V6}/`) && x.includes('/p2p-circuit')
      expect(addrs.some(viaSn6), addrs.join(' ')).toBe(true)
      const ui = await readNetworkStatus((await phonesFor(ctx)).a.page)
      expect(ui.supernodeIds).toContain(sn.ready.peerId)
    }, 60_000)

    it('chat both ways, over the circuit relay (no common family for a direct link)', async () => {
      onTestFailed(() => dumpLogs([ctx.a, ctx.b]))
      const since = Date.now()
      const ab = await chat(ctx.a, ctx.b, ctx.names.b, `hello from ${ctx.names.a} over IPv6`)
      const ba = await chat(ctx.b, ctx.a, ctx.names.a, `hello from ${ctx.names.b} over IPv4`)
      expect(ab, `a→b: ${ab.error}`).toMatchObject({ ok: true })
      expect(ba, `b→a: ${ba.error}`).toMatchObject({ ok: true })
      const link = await settleLink(ctx, since)
      results.push(
        `chat a→b ${Math.round(ab.ms)} ms, b→a ${Math.round(ba.ms)} ms, link ${link.kind}`,
      )
      expect(link.kind).toBe('circuit-relay')
    }, 90_000)

    for (const from of ['a', 'b'] as const) {
      it(`${from} calls ${from === 'a' ? 'b' : 'a'} from the UI: audio both ways, relayed, the IPv6 side's relay is IPv4 (TURN translates)`, async () => {
        onTestFailed(() => dumpLogs([ctx.a, ctx.b]))
        const r = await callOnce(ctx, from)
        results.push(describeCall(`${from}→${from === 'a' ? 'b' : 'a'}`, r))
        expectRelayedAcrossFamilies(r, from)
      }, 90_000)
    }
  },
)

/**
 * Audio both ways, relay on the selected pairs, the UI agreeing, and the path itself: the
 * IPv6-only client's selected local candidate is a relay whose address is the supernode's
 * IPv4 one, reached over UDP (Chromium's TURN client talks to [2001:db8::2]:3478; nothing else
 * on that host could give it an IPv4 address; getStats names that URL). The supernode's counters
 * carried the audio.
 */
function expectRelayedAcrossFamilies(r: CallResult, from: 'a' | 'b'): void {
  const what = JSON.stringify(r)
  expect(r.error, what).toBeUndefined()
  expect(r.ok, what).toBe(true)
  expect(r.rtp.caller, what).toBeGreaterThan(60)
  expect(r.rtp.callee, what).toBeGreaterThan(60)
  expect(r.measured, what).toBe('relay')
  expect(r.uiPath, what).toBe('Relayed')
  expect(r.uiAgrees, what).toBe(true)
  const v6side = from === 'a' ? r.caller : r.callee
  const local = v6side?.pair?.local
  expect(local?.type, what).toBe('relay')
  expect(local?.address, what).toBe(SN_V4)
  expect(local?.relayProtocol, what).toBe('udp')
  // Allocated through the supernode's IPv6 side: the IPv4 relay is a translation.
  expect(local?.url, what).toBe(`turn:[${SN_V6}]:3478?transport=udp`)
  // Neither side holds an address of the other's family, so no pair is IPv6 end to end.
  for (const side of [r.caller, r.callee]) expect(side?.pair?.remote.address, what).not.toMatch(/:/)
  expect(r.turnPackets, what).toBeGreaterThanOrEqual(r.rtp.caller + r.rtp.callee)
}

function describeCall(when: string, r: CallResult): string {
  const side = (s: CallResult['caller']) => {
    if (s?.pair == null) return '–'
    const { local: l, remote: r } = s.pair
    const via = l.url != null ? ` via ${l.url}` : ''
    return `${l.type} ${l.address}:${l.port}${via} ⇄ ${r.type} ${r.address}:${r.port}`
  }
  return (
    `call ${when} ${r.ok ? 'ok' : `FAIL (${r.error ?? ''})`} ${r.media}, UI ${r.uiPath}, ` +
    `ring ${Math.round(r.ringMs)} ms + answer ${Math.round(r.answerMs)} ms, TURN ${r.turnPackets} pkts\n` +
    `  caller [${side(r.caller)}]\n  callee [${side(r.callee)}]`
  )
}

function dumpLogs(nodes: LabNode[]): void {
  const relevant = /sip|link|dial|relay|webrtc|turn|stun|discover|warn|error/i
  for (const n of nodes) {
    const lines = n
      .stderr()
      .split('\n')
      .filter((l) => relevant.test(l) && !/kad-dht|kad:/.test(l))
    console.log(`--- ${n.label} (${n.host.addr}) stderr, last 60 relevant lines`)
    console.log(lines.slice(-60).join('\n'))
  }
}
