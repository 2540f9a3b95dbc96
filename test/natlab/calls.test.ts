/**
 * Calls across the NAT lab, from the softphone UI: real `kaiwa node --ui`
 * clients behind the lab's NATs, a supernode (TURN on its public address),
 * and headless Chromium with fake audio running inside each client's
 * namespace (phone.ts). The CI subset of bench:nat's call matrix:
 *
 * - full cone ↔ full cone: direct media (server-reflexive candidates);
 * - symmetric ↔ symmetric: relayed media through the supernode's TURN (the
 *   supernode's relay counters say so too);
 * - two clients behind one NAT: direct media on the LAN (host candidates);
 * - keepalive: after the lab idles past the UDP conntrack timeout (30 s), each
 *   client calls the other back; the call must still ring and connect.
 *
 * Every call must carry audio both ways for over two seconds, and the UI's
 * path indicator ("Direct"/"Relayed") must agree with the selected ICE
 * candidate pair; Settings → Network must show the node attached to the
 * supernode, behind a NAT. Root, nftables and Chromium only; skipped with the
 * reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { callOnce, closePhones, phonesFor, readNetworkStatus } from './call-step.js'
import type { CallResult } from './call-step.js'
import { labUnavailableReason } from './exec.js'
import type { Lab } from './lab.js'
import { startLabNode } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import { createPairingsLab, modePairing, sameNatPairing, startPairing } from './pairings.js'
import type { PairingContext, PairingSpec } from './pairings.js'
import { chromiumUnavailableReason } from './phone.js'
import { required } from '../helpers/requirements.js'

const skip = labUnavailableReason() ?? chromiumUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab call tests skipped: ${skip}`)

const UDP_TIMEOUT_S = 30

interface Case {
  spec: PairingSpec
  media: 'direct' | 'relay'
  /** Candidate types both selected pairs must have (local and remote), if that specific. */
  types?: string[]
}

const CASES: Case[] = [
  { spec: modePairing('full-cone', 'full-cone'), media: 'direct' },
  { spec: modePairing('symmetric', 'symmetric'), media: 'relay' },
  { spec: sameNatPairing('port-restricted'), media: 'direct', types: ['host'] },
]

/** The checks every call gets: audio both ways, the expected path, the UI agreeing. */
function expectCall(c: Case, r: CallResult, when: string): void {
  const what = `${c.spec.label} ${when}: ${JSON.stringify(r)}`
  expect(r.error, what).toBeUndefined()
  expect(r.ok, what).toBe(true)
  expect(r.rtp.caller, what).toBeGreaterThan(60)
  expect(r.rtp.callee, what).toBeGreaterThan(60)
  expect(r.measured, what).toBe(c.media)
  expect(r.uiPath, what).toBe(c.media === 'relay' ? 'Relayed' : 'Direct')
  expect(r.uiAgrees, what).toBe(true)
  for (const side of [r.caller, r.callee]) {
    const pair = side?.pair
    expect(pair, what).not.toBeNull()
    if (c.types != null) {
      expect(c.types, what).toContain(pair!.local.type)
      expect(c.types, what).toContain(pair!.remote.type)
    }
  }
  const audio = r.rtp.caller + r.rtp.callee
  if (c.media === 'relay') {
    // At least one end relays through the supernode's TURN over UDP, and the
    // supernode really carried the audio (its own counters, not the browser's).
    const relays = [r.caller!.pair!.local, r.callee!.pair!.local].filter((x) => x.type === 'relay')
    expect(relays.length, what).toBeGreaterThan(0)
    for (const x of relays) expect(x.relayProtocol, what).toBe('udp')
    expect(r.turnPackets, what).toBeGreaterThanOrEqual(audio)
  } else {
    // Only connectivity checks may touch TURN; the audio did not.
    expect(r.turnPackets ?? 0, what).toBeLessThan(audio)
  }
}

describe.skipIf(skip != null)(
  `NAT lab: softphone calls across NATs${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    const ctxs = new Map<string, PairingContext>()
    const results: string[] = []

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      const built = createPairingsLab(
        CASES.map((c) => c.spec),
        { udpTimeoutS: UDP_TIMEOUT_S },
      )
      lab = built.lab
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      const started = await Promise.all(
        built.placed.map((p) => startPairing(lab, p, { supernode: sn, nodeOptions: { ui: true } })),
      )
      for (const c of started) ctxs.set(c.spec.id, c)
      // One browser per client, each in its own namespace.
      for (const c of started) await phonesFor(c)
    }, 150_000)

    afterAll(async () => {
      if (results.length > 0) console.log(results.join('\n'))
      for (const c of ctxs.values()) await closePhones(c)
      await lab?.destroy()
    })

    const log = (c: Case, when: string, r: CallResult): void => {
      const pair = r.caller?.pair
      results.push(
        `${c.spec.label.padEnd(36)} ${when.padEnd(11)} ${r.ok ? 'ok' : 'FAIL'} ${r.media}` +
          ` [${pair ? `${pair.local.type} ${pair.local.address} ⇄ ${pair.remote.type} ${pair.remote.address}` : '–'}]` +
          ` UI ${r.uiPath}, ring ${Math.round(r.ringMs)} ms + answer ${Math.round(r.answerMs)} ms, TURN ${r.turnPackets} pkts`,
      )
    }

    it('Settings → Network shows each client attached to the supernode, behind a NAT', async () => {
      for (const ctx of ctxs.values()) {
        const { a, b } = await phonesFor(ctx)
        for (const phone of [a, b]) {
          const ui = await readNetworkStatus(phone.page)
          const node = await phone.node.api<{ supernodes: string[]; reachability: string }>(
            'status',
          )
          const what = `${phone.node.label}: UI ${JSON.stringify(ui)}, node ${JSON.stringify(node)}`
          expect(ui.role, what).toBe('Client')
          expect(ui.supernodeIds, what).toContain(sn.ready.peerId)
          expect(ui.supernodes, what).toBe(node.supernodes.length)
          // Every client in this subset is behind a NAT; the UI says what the node found.
          expect(node.reachability, what).not.toBe('public')
          if (node.reachability === 'private')
            expect(ui.reachability, what).toBe('Behind a NAT or firewall')
        }
      }
    }, 60_000)

    for (const c of CASES) {
      it(`${c.spec.label}: a calls b, audio both ways, ${c.media} media, the UI agrees`, async () => {
        const ctx = ctxs.get(c.spec.id)!
        onTestFailed(() => dumpLogs(ctx))
        const r = await callOnce(ctx, 'a')
        log(c, 'a→b', r)
        expectCall(c, r, 'a→b')
      }, 60_000)
    }

    it(`keepalive: after ${UDP_TIMEOUT_S + 5} s idle (UDP conntrack timeout ${UDP_TIMEOUT_S} s), b calls a: it rings and connects on the same path`, async () => {
      // The routers really forget idle UDP flows this fast (nat-modes.test.ts).
      for (const e of lab.conntrack(lab.sites[0]!.router)) {
        if (e.proto === 'udp') expect(e.timeout).toBeLessThanOrEqual(UDP_TIMEOUT_S)
      }
      await new Promise((r) => setTimeout(r, (UDP_TIMEOUT_S + 5) * 1000))
      for (const c of CASES) {
        const ctx = ctxs.get(c.spec.id)!
        onTestFailed(() => dumpLogs(ctx))
        const r = await callOnce(ctx, 'b')
        log(c, 'after idle', r)
        expectCall(c, r, 'b→a after idle')
      }
    }, 120_000)
  },
)

/** What both clients logged about signalling and links, for a failed call. */
function dumpLogs(ctx: PairingContext): void {
  const relevant = /sip|link|dial|relay|webrtc|turn|discover|warn|error/i
  for (const n of [ctx.a, ctx.b]) {
    const lines = n
      .stderr()
      .split('\n')
      .filter((l) => relevant.test(l) && !/kad-dht|kad:/.test(l))
    console.log(`--- ${n.label} (${n.host.addr}) stderr, signalling and links, last 60 lines`)
    console.log(lines.slice(-60).join('\n'))
  }
}
