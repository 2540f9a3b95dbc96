/**
 * Roaming in the middle of a call (issue 13 §8), from the softphone UI: a
 * supernode, client A behind a full-cone NAT and client B behind a
 * port-restricted one, each a real `kaiwa node --ui` with Chromium in its
 * namespace (phone.ts). A calls B; audio flows both ways; then B's host is
 * moved to a third site behind a symmetric NAT (host-move.ts: its veth is
 * pulled and a new one plugged into the other LAN, a new address; the node
 * and the browser keep running). The call must come back by itself: an ICE
 * restart in a re-INVITE (call-recovery.ts), carried by the overlay from B's
 * new address. Checked:
 *
 * - audio flows both ways again within a generous bound (the real figure is
 *   printed), and keeps flowing;
 * - neither UI ever shows the call ended; "Reconnecting…" may show meanwhile;
 * - B's contact record carries B's new address;
 * - the call then hangs up normally, with no failure notice.
 *
 * Root, nftables and Chromium only; skipped with the reason otherwise.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { closePhones, describeMedia, phonesFor } from './call-step.js'
import { labUnavailableReason } from './exec.js'
import { moveHost } from './host-move.js'
import type { HostMove } from './host-move.js'
import { createLab } from './lab.js'
import type { Lab } from './lab.js'
import { startLabNode, waitUntil } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import { startPairing } from './pairings.js'
import type { PairingContext } from './pairings.js'
import {
  chromiumUnavailableReason,
  peerConnectionCount,
  peerStats,
  pinCallConnection,
} from './phone.js'
import type { PeerStats } from './phone.js'

const skip = labUnavailableReason() ?? chromiumUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab roaming test skipped: ${skip}`)

/** Generous: a loaded 2-core CI machine; the measured figure is printed. */
const RECOVERY_BOUND_MS = 20_000

const button = (p: Page, name: string) => p.getByRole('button', { name, exact: true })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(skip != null)(
  `NAT lab: roaming mid-call${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    let ctx: PairingContext

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      lab = createLab({
        sites: [{ nat: 'full-cone' }, { nat: 'port-restricted' }, { nat: 'symmetric', hosts: 0 }],
        publicHosts: 1,
      })
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      const spec = {
        id: 'roam',
        label: 'full-cone ↔ port-restricted → symmetric',
        sites: [],
        a: { site: 0, host: 0 },
        b: { site: 1, host: 0 },
        punchable: true,
      }
      const placed = { spec, a: lab.sites[0]!.hosts[0]!, b: lab.sites[1]!.hosts[0]! }
      ctx = await startPairing(lab, placed, { supernode: sn, nodeOptions: { ui: true } })
      await phonesFor(ctx)
    }, 150_000)

    afterAll(async () => {
      if (ctx != null) await closePhones(ctx)
      await lab?.destroy()
    })

    it('B moves to a symmetric NAT mid-call: the call reconnects by itself, audio both ways, never ended', async () => {
      const { a, b } = await phonesFor(ctx)
      // What each softphone said (its SIP user agent and call recovery log as `kaiwa: …`).
      const said: string[] = []
      // The recovery's steps (ICE states, restarts), printed with the figure.
      const timeline: Array<{ at: number; line: string }> = []
      for (const [who, p] of [
        ['A', a.page],
        ['B', b.page],
      ] as const) {
        p.on('console', (m) => {
          if (m.text().includes('kaiwa:'))
            said.push(`${new Date().toISOString()} ${who} ${m.text()}`)
          if (/ICE|re-INVITE|network/.test(m.text()))
            timeline.push({ at: performance.now(), line: `${who} ${m.text()}` })
        })
      }
      onTestFailed(() => {
        dumpLogs(ctx)
        console.log(`--- the softphones\n${said.join('\n')}`)
      })
      const [na, nb] = await Promise.all([peerConnectionCount(a.page), peerConnectionCount(b.page)])
      const statsA = () => peerStats(a.page, na)
      const statsB = () => peerStats(b.page, nb)

      // A calls B; B answers; audio both ways.
      await a.page.getByRole('textbox', { name: 'User ID', exact: true }).fill(ctx.names.b)
      await button(a.page, 'Call').click()
      await button(b.page, 'Answer').waitFor({ timeout: 30_000 })
      await button(b.page, 'Answer').click()
      const flowing = await audioGrows(statsA, statsB, 60, 2_500)
      expect(flowing.ok, `before the move: ${JSON.stringify(flowing)}`).toBe(true)
      // The call keeps its peer connection through the ICE restart (call-recovery.ts): read
      // that one from now on. A CI run once read a newer one on B, made after the move.
      await Promise.all([pinCallConnection(a.page, na), pinCallConnection(b.page, nb)])
      const before = describeMedia(flowing.a, flowing.b)

      // The move. From here until audio is back, the call must never look ended.
      const move: HostMove = await moveHost(lab, ctx.b.host, lab.sites[2]!)
      const seen = { reconnecting: false, endedAt: null as string | null }
      const watch = watchCallUi([a.page, b.page], seen)
      let recoveredMs: number
      try {
        await waitUntil(
          'audio both ways after the move',
          async () => (await audioGrows(statsA, statsB, 20, 1_000)).ok,
          RECOVERY_BOUND_MS + 10_000,
          100,
        )
        recoveredMs = performance.now() - move.downAt
        // And it stays up.
        let after = await audioGrows(statsA, statsB, 60, 2_500)
        // A counter that went backwards measured nothing: a renegotiation that was
        // rolled back (a late re-INVITE answered 491 or 500) can reset it. Measure again.
        if (!after.ok && (after.inA < 0 || after.inB < 0)) {
          console.log(`a counter went backwards; measuring again: ${JSON.stringify(after)}`)
          after = await audioGrows(statsA, statsB, 60, 2_500)
        }
        expect(after.ok, `after the move: ${JSON.stringify(after)}`).toBe(true)
        const media = describeMedia(after.a, after.b)
        console.log(
          `roaming: B moved ${move.from} → ${move.to}; audio both ways again ` +
            `${Math.round(recoveredMs)} ms after its old link went down ` +
            `(media ${before.media} → ${media.media}; "Reconnecting…" shown: ${seen.reconnecting})\n` +
            timeline
              .filter((e) => e.at >= move.downAt)
              .map((e) => `  +${Math.round(e.at - move.downAt)} ms ${e.line}`)
              .join('\n'),
        )
      } finally {
        watch.stop()
        await watch.done
      }
      expect(seen.endedAt, 'the call UI showed the call ended').toBeNull()
      expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS)

      // B's record names its new address (republished by its node).
      await waitUntil(
        `${ctx.names.b}'s record with ${move.to}`,
        async () => {
          const r = await ctx.a.api<{ record: { devices: Array<{ addrs: string[] }> } }>('lookup', {
            name: ctx.names.b,
          })
          const addrs = r.record.devices.flatMap((d) => d.addrs)
          return addrs.some((x) => x.startsWith(`/ip4/${move.to}/`)) &&
            !addrs.some((x) => x.startsWith(`/ip4/${move.from}/`))
            ? addrs
            : null
        },
        15_000,
        500,
      )

      // A normal hang-up: both sides go idle, nobody is told of a failure.
      await button(a.page, 'Hang up').click()
      for (const p of [a.page, b.page]) {
        await button(p, 'Hang up').waitFor({ state: 'detached', timeout: 15_000 })
      }
      for (const p of [a.page, b.page]) {
        await expect
          .poll(async () => p.getByText(/was lost|could not reconnect|Missed call/).count())
          .toBe(0)
      }
    }, 180_000)
  },
)

interface Flow {
  ok: boolean
  a: PeerStats | null
  b: PeerStats | null
  /** Audio packets received at A and at B over the window. */
  inA: number
  inB: number
}

/** Audio received on both sides over `windowMs`: at least `min` packets each. */
async function audioGrows(
  statsA: () => Promise<PeerStats | null>,
  statsB: () => Promise<PeerStats | null>,
  min: number,
  windowMs: number,
): Promise<Flow> {
  const [a0, b0] = await Promise.all([statsA(), statsB()])
  await sleep(windowMs)
  const [a1, b1] = await Promise.all([statsA(), statsB()])
  const inA = (a1?.packetsReceived ?? 0) - (a0?.packetsReceived ?? 0)
  const inB = (b1?.packetsReceived ?? 0) - (b0?.packetsReceived ?? 0)
  return { ok: inA >= min && inB >= min, a: a1, b: b1, inA, inB }
}

/**
 * Poll both pages' call panels until stopped: note "Reconnecting…", and the
 * first moment a page had no call (its Hang up button gone).
 */
function watchCallUi(
  pages: Page[],
  seen: { reconnecting: boolean; endedAt: string | null },
): { stop(): void; done: Promise<void> } {
  let running = true
  const done = (async () => {
    while (running) {
      for (const [i, p] of pages.entries()) {
        const state =
          (await p
            .locator('.call-state')
            .first()
            .textContent()
            .catch(() => '')) ?? ''
        if (state.includes('Reconnecting')) seen.reconnecting = true
        const inCall =
          (await button(p, 'Hang up')
            .count()
            .catch(() => 0)) > 0
        if (!inCall && seen.endedAt == null) seen.endedAt = `page ${i === 0 ? 'A' : 'B'}: ${state}`
      }
      await sleep(200)
    }
  })()
  return {
    stop: () => {
      running = false
    },
    done,
  }
}

/** Both clients' signalling, link and network lines, for a failed run. */
function dumpLogs(ctx: PairingContext): void {
  const relevant = /sip|link|dial|relay|webrtc|net|refresh|warn|error/i
  for (const n of [ctx.a, ctx.b]) {
    const lines = n
      .stderr()
      .split('\n')
      .filter((l) => relevant.test(l) && !/kad-dht|kad:/.test(l))
    console.log(`--- ${n.label} (${n.host.addr}) stderr, last 80 lines`)
    console.log(lines.slice(-80).join('\n'))
  }
}
