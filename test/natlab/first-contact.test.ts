/**
 * Fast first contact (issue 13 §6): the first message between two clients
 * that have never talked arrives within 1 s in every kind of pairing, also
 * where hole punching cannot work (port-restricted↔symmetric,
 * symmetric↔symmetric). The SIP link races the callee's relay path against its
 * direct addresses (RFC 8305 in spirit, link-race.ts) instead of waiting for a
 * direct dial to time out. Measured from the `message` call to its 200 OK (the
 * recipient's inbox is checked too); the lab's start-up and each side's lookup
 * of the other's record come before the clock starts. Root only; skipped with
 * the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { labUnavailableReason } from './exec.js'
import type { Lab } from './lab.js'
import { startLabNode } from './kaiwa-lab.js'
import type { LabNode } from './kaiwa-lab.js'
import {
  chat,
  connectionSummary,
  createPairingsLab,
  modePairing,
  startPairing,
} from './pairings.js'
import type { ChatResult, PairingContext } from './pairings.js'

const skip = labUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)

/**
 * The relay path is raced, not waited for: before, libp2p queued it behind
 * 6 s per dead address (6.1–6.5 s in this lab). The goal (≤ 1 s, issue 13
 * §6) is a performance figure measured by `bench:nat` (docs/benchmarks.md:
 * 81–846 ms in every pairing); this test runs beside the rest of CI on 2
 * cores (a loaded CI run measured 3.3 s, the CLI and both nodes starved of
 * CPU), so it asserts only what separates the race from the old queue: less
 * than one dead address's timeout.
 */
const FIRST_MESSAGE_MS = 5_000

const CASES = [
  // No punching possible: the relay must carry the first message at once.
  modePairing('symmetric', 'symmetric'),
  modePairing('port-restricted', 'symmetric'),
  // Punching works: racing must not slow the direct case down.
  modePairing('full-cone', 'full-cone'),
]

describe.skipIf(skip != null)(
  `NAT lab: the first message arrives within ${FIRST_MESSAGE_MS} ms${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    const ctxs = new Map<string, PairingContext>()
    const measured: string[] = []

    beforeAll(async () => {
      await assertBuilt()
      const built = createPairingsLab(CASES)
      lab = built.lab
      sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      for (const p of built.placed) {
        const ctx = await startPairing(lab, p, { supernode: sn })
        ctxs.set(ctx.spec.id, ctx)
      }
    }, 240_000)

    afterAll(async () => {
      if (measured.length > 0) console.log(measured.join('\n'))
      await lab?.destroy()
    })

    for (const spec of CASES) {
      it(`${spec.label}: first message a→b and the first reply b→a ≤ ${FIRST_MESSAGE_MS} ms`, async () => {
        const ctx = ctxs.get(spec.id)!
        onTestFailed(() => dumpLogs(ctx))
        const ab = await chat(ctx.a, ctx.b, ctx.names.b, `first from ${ctx.names.a}`)
        const ba = await chat(ctx.b, ctx.a, ctx.names.a, `first from ${ctx.names.b}`)
        measured.push(
          `${spec.label.padEnd(36)} a→b ${show(ab)}, b→a ${show(ba)}; a's dial: ${dialNote(ctx)}`,
        )
        expect(ab, `a→b: ${ab.error}`).toMatchObject({ ok: true })
        expect(ba, `b→a: ${ba.error}`).toMatchObject({ ok: true })
        const links = connectionSummary(ctx)
        expect(ab.ms, `a→b first message (links:\n${links})`).toBeLessThanOrEqual(FIRST_MESSAGE_MS)
        expect(ba.ms, `b→a first reply (links:\n${links})`).toBeLessThanOrEqual(FIRST_MESSAGE_MS)
      }, 60_000)
    }
  },
)

function show(r: ChatResult): string {
  return `${r.ok ? 'ok' : 'FAIL'} ${r.ms.toFixed(0)} ms`
}

/**
 * What a's link dialler logged about reaching b (link-dialer.ts): the path
 * that won, after how long, and which attempts failed on the way.
 */
function dialNote(ctx: PairingContext): string {
  const b = ctx.b.ready.peerId
  const lines = ctx.a.stderr().split('\n')
  const won = lines
    .map((l) => new RegExp(`connected to ${b} via (\\S+).* in (\\d+) ms`).exec(l))
    .find((x) => x != null)
  const failed = lines
    .map((l) => new RegExp(`dial (\\S+).* to ${b} failed: (.{0,80})`).exec(l))
    .filter((x) => x != null)
    .map((m) => `${m[1]!} failed (${m[2]!})`)
  if (won == null) return 'no dial (already connected)'
  return [`${won[1]!} won after ${won[2]!} ms`, ...failed].join('; ')
}

/** The tail of both clients' logs, for a failed pairing. */
function dumpLogs(ctx: PairingContext): void {
  for (const n of [ctx.a, ctx.b]) {
    console.log(
      `--- ${n.label} (${n.host.addr}) stderr, last 60 lines\n${n.stderr().split('\n').slice(-60).join('\n')}`,
    )
  }
}
