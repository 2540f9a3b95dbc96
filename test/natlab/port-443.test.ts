/**
 * A 443-only firewall (issue 13 §4, the sources' "HTTP bridge"): client a sits behind a NAT
 * whose router lets out only new TCP connections to port 443 (all UDP and every other TCP port
 * dropped, port-443-firewall.ts); client b is behind an ordinary port-restricted NAT. The
 * supernode serves its port-443 bridge: the overlay over WebSocket-TLS and TURN over TLS on one
 * port. a knows the supernode only by its /tls/ws address.
 *
 * - the firewall does what it says: from a's namespace TCP 443 connects, TCP 4001 does not;
 * - a is attached to the supernode over the bridge only, and a and b chat both ways;
 * - a calls b from the softphone UI (a stock Chromium in a's namespace: it would refuse the
 *   supernode's self-signed certificate, so a's node carries the TLS, turns-forwarder.ts, README
 *   "Port-443-only networks"): audio both ways, a's selected candidate pair is relay over TCP to
 *   its own node, the supernode's TURN counted the TLS allocation and relayed the audio, and the
 *   firewall dropped the UDP a tried.
 *
 * Root, nftables and Chromium; skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { callOnce, closePhones, phonesFor } from './call-step.js'
import { labUnavailableReason } from './exec.js'
import { bootstrapAddr, startLabNode, waitUntil } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import type { Lab } from './lab.js'
import { chat, createPairingsLab, modePairing } from './pairings.js'
import type { PairingContext } from './pairings.js'
import { chromiumUnavailableReason } from './phone.js'
import { allowOnly443, firewallDrops } from './port-443-firewall.js'

const skip = labUnavailableReason() ?? chromiumUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab 443-only test skipped: ${skip}`)

type TurnStats = Record<string, number>
const turnStats = async (sn: LabNode): Promise<TurnStats> =>
  (await sn.api<{ turn: { stats: TurnStats } | null }>('status')).turn?.stats ?? {}

describe.skipIf(skip != null)(
  `NAT lab: a 443-only firewall${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab | undefined
    let ctx: PairingContext | undefined

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      const spec = modePairing('port-restricted', 'port-restricted')
      const built = createPairingsLab([spec])
      lab = built.lab
      const placed = built.placed[0]!
      allowOnly443(lab.sites[0]!)
      const sn = await startLabNode(lab, lab.publicHosts[0]!, {
        label: 'sn',
        supernode: 'on',
        bridgePort: 443,
      })
      const wss = sn.ready.addrs.find((a) => a.startsWith(`/ip4/${sn.host.addr}/tcp/443/tls/ws/`))
      if (wss == null) throw new Error(`no bridge address: ${sn.ready.addrs.join(' ')}`)
      const names = { a: 'a-only443', b: 'b-prc' }
      const common = { supernode: 'off', ui: true, logLevel: 'debug' } as const
      const [a, b] = await Promise.all([
        startLabNode(lab, placed.a, {
          ...common,
          label: names.a,
          name: names.a,
          bootstrap: [wss],
          chromiumArgs: [
            // TURN over TCP/TLS goes through Chromium's network stack, where the lab's default
            // rule (phone.ts: no name resolution) would map the supernode's address to nothing.
            `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE ${sn.host.addr}`,
          ],
        }),
        startLabNode(lab, placed.b, {
          ...common,
          label: names.b,
          name: names.b,
          bootstrap: [bootstrapAddr(sn)],
        }),
      ])
      for (const [n, other] of [
        [a, names.b],
        [b, names.a],
      ] as const) {
        await waitUntil(
          `${n.label} to find ${other}'s record with a relay address`,
          async () => {
            const r = await n.api<{ record: { devices: Array<{ addrs: string[] }> } }>('lookup', {
              name: other,
            })
            return r.record.devices.some((d) => d.addrs.some((x) => x.includes('/p2p-circuit')))
          },
          90_000,
          500,
        )
      }
      ctx = { lab, spec, supernode: sn, a, b, names }
      await phonesFor(ctx)
    }, 240_000)

    afterAll(async () => {
      if (ctx != null) await closePhones(ctx)
      await lab?.destroy()
    })

    it('the firewall passes TCP 443 and nothing else', () => {
      const ns = ctx!.a.host.ns
      const sn = ctx!.supernode.host.addr
      const tcp = (port: number) =>
        lab!.exec(ns, 'timeout', ['3', 'bash', '-c', `</dev/tcp/${sn}/${port} && echo open`])
      expect(tcp(443).trim()).toBe('open')
      expect(() => tcp(4001)).toThrow()
    })

    it('a is attached to the supernode over the bridge only, and a and b chat both ways', async () => {
      const { a, b, supernode, names } = ctx!
      const status = await a.api<{
        supernodes: string[]
        connections: Array<{ peer: string; remoteAddr: string }>
      }>('status')
      expect(status.supernodes).toContain(supernode.ready.peerId)
      const toSn = status.connections.filter((c) => c.peer === supernode.ready.peerId)
      expect(toSn.length).toBeGreaterThan(0)
      for (const c of toSn) expect(c.remoteAddr).toMatch(/\/tcp\/443\/tls\/ws/)
      const ab = await chat(a, b, names.b, 'through the 443 bridge')
      const ba = await chat(b, a, names.a, 'back through the 443 bridge')
      expect(ab, JSON.stringify(ab)).toMatchObject({ ok: true })
      expect(ba, JSON.stringify(ba)).toMatchObject({ ok: true })
    }, 60_000)

    it("a calls b: audio both ways, a's media relayed over TURN over TLS on 443", async () => {
      const c = ctx!
      onTestFailed(() => {
        for (const n of [c.a, c.supernode]) {
          const lines = n.stderr().split('\n')
          console.log(
            `--- ${n.label}\n${lines
              .filter((l) => /bridge|turn|warn/i.test(l))
              .slice(-40)
              .join('\n')}`,
          )
        }
      })
      const before = await turnStats(c.supernode)
      const drops0 = firewallDrops(c.lab.sites[0]!)
      const r = await callOnce(c, 'a')
      const after = await turnStats(c.supernode)
      const drops1 = firewallDrops(c.lab.sites[0]!)
      const what = JSON.stringify({ r, before, after, drops0, drops1 })
      console.log(
        `443-only call: ${r.media}, ring ${Math.round(r.ringMs)} ms + answer ` +
          `${Math.round(r.answerMs)} ms, TURN ${r.turnPackets} pkts, UDP dropped ` +
          `${drops1.udp - drops0.udp}`,
      )
      expect(r.error, what).toBeUndefined()
      expect(r.ok, what).toBe(true)
      expect(r.rtp.caller, what).toBeGreaterThan(60)
      expect(r.rtp.callee, what).toBeGreaterThan(60)
      expect(r.measured, what).toBe('relay')
      expect(r.uiPath, what).toBe('Relayed')
      // Chromium's own word: a's selected pair is a relay candidate, reached over TCP through
      // a's node (which carries the TLS to the supernode).
      expect(r.caller?.pair?.local.type, what).toBe('relay')
      expect(r.caller?.pair?.local.relayProtocol, what).toBe('tcp')
      // The supernode's word: an allocation over TLS, and the audio went through its relay.
      expect(after.allocationsTls! - (before.allocationsTls ?? 0), what).toBeGreaterThan(0)
      expect(after.tlsConnections! - (before.tlsConnections ?? 0), what).toBeGreaterThan(0)
      expect(r.turnPackets, what).toBeGreaterThanOrEqual(r.rtp.caller + r.rtp.callee)
      // The firewall's word: a's Chromium tried UDP (STUN, TURN) and it was dropped.
      expect(drops1.udp - drops0.udp, what).toBeGreaterThan(0)
    }, 90_000)
  },
)
