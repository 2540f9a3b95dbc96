/**
 * A call and chat over an emulated WAN line (link-emulator.ts, wan-step.ts):
 * the caller's site sits behind 150 ms RTT with 1 % loss each way (and a
 * little jitter), both clients behind symmetric NATs, so the media must go
 * through the supernode's TURN, whose Allocate costs two of those round trips
 * during ICE gathering. The call must connect with audio both ways, the
 * relay candidate must be in the caller's offer, and messages must be
 * delivered both ways. Behaviour only: the timings are bench:nat -- --wan's.
 * Root, nftables, /dev/net/tun and Chromium; skipped with the reason otherwise.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../helpers/cli.js'
import { closePhones, phonesFor } from './call-step.js'
import { labUnavailableReason } from './exec.js'
import type { Lab } from './lab.js'
import { startLabNode } from './kaiwa-lab.js'
import { chat, createPairingsLab, modePairing, startPairing } from './pairings.js'
import type { PairingContext } from './pairings.js'
import { chromiumUnavailableReason } from './phone.js'
import { wanColumns, wanStep } from './wan-step.js'
import { required } from '../helpers/requirements.js'

const skip =
  labUnavailableReason() ??
  chromiumUnavailableReason() ??
  (existsSync('/dev/net/tun') ? null : 'no /dev/net/tun (the link emulator needs TUN)')
required(skip == null, `the NAT lab with a WAN line (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab WAN test skipped: ${skip}`)

describe.skipIf(skip != null)(
  `NAT lab: a call over 150 ms RTT and 1 % loss${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab | undefined
    let ctx: PairingContext | undefined

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      const built = createPairingsLab([modePairing('symmetric', 'symmetric')])
      lab = built.lab
      const sn = await startLabNode(lab, lab.publicHosts[0]!, { label: 'sn', supernode: 'on' })
      ctx = await startPairing(lab, built.placed[0]!, {
        supernode: sn,
        nodeOptions: { ui: true },
      })
      await phonesFor(ctx)
      // The overlay link is dialled on the ideal network first: this test is
      // about calls and messages over a long, lossy path on an established
      // link. (A cold dial through the line is bench:nat -- --wan's subject.)
      for (const [from, to, name] of [
        [ctx.a, ctx.b, ctx.names.b],
        [ctx.b, ctx.a, ctx.names.a],
      ] as const) {
        const warm = await chat(from, to, name, `warm-up from ${from.label}`)
        if (!warm.ok) throw new Error(`warm-up chat failed on the ideal network: ${warm.error}`)
      }
    }, 150_000)

    afterAll(async () => {
      if (ctx != null) await closePhones(ctx)
      await lab?.destroy()
    })

    it('connects with audio both ways through TURN, and delivers messages both ways', async () => {
      const r = await wanStep(ctx!, 0, { rttMs: 150, lossPct: 1 }, 13)
      const what = JSON.stringify(wanColumns(r))
      console.log(`WAN 150 ms / 1 %: ${what}`)
      expect(r.chatAb.ok, what).toBe(true)
      expect(r.chatBa.ok, what).toBe(true)
      expect(r.call.error, what).toBeUndefined()
      expect(r.call.ok, what).toBe(true)
      expect(r.call.rtp.caller, what).toBeGreaterThan(60)
      expect(r.call.rtp.callee, what).toBeGreaterThan(60)
      expect(r.call.measured, what).toBe('relay')
      // The longer gathering cap let the relay candidate into the offer.
      expect(r.call.caller?.offeredLocal, what).toContain('relay')
      // The line really was in the path.
      expect(r.line?.up.received, what).toBeGreaterThan(100)
      expect(r.caller.audio?.packetsReceived, what).toBeGreaterThan(60)
    }, 120_000)
  },
)
