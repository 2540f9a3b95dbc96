/**
 * A LAN with no supernode and no route out (issue 13 §3): real `kaiwa node`
 * processes with default settings (clients; supernodes are opt-in), each in
 * its own network namespace on one bridge, with no bootstrap peer. They must
 * find each other over mDNS, claim names first come among them, message each
 * other both ways and call each other from the real UI (Chromium in the
 * namespaces, audio both ways by getStats). A node that joins later finds the
 * others and their names; stopping one leaves the rest working; `kaiwa status`
 * says the node is on a LAN-only network with N LAN peers.
 *
 * The namespaces are this test's own (`hlan-…`), deleted at the end, on
 * failure too; nothing they send can leave them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, assertUiBuilt } from '../../helpers/cli.js'
import { createLan, netnsAvailable } from '../../helpers/netns.js'
import type { Lan } from '../../helpers/netns.js'
import { required } from '../../helpers/requirements.js'
import { chromiumUnavailableReason } from '../../natlab/phone.js'
import {
  callByUi,
  claim,
  cli,
  cliOk,
  openLanPhone,
  startLanNode,
  status,
  waitFor,
} from './lan-lab.js'
import type { LanHost, LanPhone } from './lan-lab.js'

const available = netnsAvailable() && chromiumUnavailableReason() == null

describe.runIf(required(available, 'root with network namespaces, and Chromium'))(
  'a LAN with no supernode and no route out',
  () => {
    let lan: Lan | undefined
    let base: string | undefined
    const hosts: LanHost[] = []
    const phones: LanPhone[] = []

    /** Until `host` says it is on a LAN-only network with `n` LAN peers. */
    const lanPeers = (host: LanHost, n: number) =>
      waitFor(`${host.ns} to see ${n} LAN peers`, async () => {
        const s = await status(host)
        return s.network === 'lan-only' && s.lanPeers === n ? s : null
      })

    type Received = { from: string; text: string; verification?: string }
    const inbox = async (host: LanHost): Promise<Received[]> =>
      JSON.parse(await cliOk(host, ['inbox'])) as Received[]

    /** Until `host`'s inbox holds `text` from `from`, its sender identity checked (RFC 8224). */
    const received = async (host: LanHost, from: string, text: string) => {
      const m = await waitFor(`${host.ns} to receive "${text}"`, async () => {
        const found = (await inbox(host)).find(
          (m) => m.from === `sip:${from}@kaiwa` && m.text === text,
        )
        return found ?? null
      })
      // 'new': the Identity token verified against the LAN record, key not pinned yet.
      expect(['new', 'verified']).toContain(m.verification)
    }

    beforeAll(async () => {
      await assertBuilt()
      await assertUiBuilt()
      lan = createLan(4, 'hlan-')
      base = await mkdtemp(join(tmpdir(), 'kaiwa-hlan-'))
    }, 30_000)

    afterAll(async () => {
      await Promise.all(phones.map((p) => p.close()))
      await Promise.all(
        hosts.map(async (h) => {
          const t = setTimeout(() => h.proc.child.kill('SIGKILL'), 5_000)
          await h.proc.stop()
          clearTimeout(t)
        }),
      )
      lan?.destroy()
      if (base != null) await rm(base, { recursive: true, force: true })
    }, 60_000)

    it('three default nodes find each other over mDNS and say they are on a LAN-only network', async () => {
      const ns = lan!.namespaces
      for (const [i, label] of ['alice', 'bob', 'carol'].entries()) {
        hosts.push(await startLanNode(ns[i]!, base!, label))
      }
      for (const h of hosts) expect(h.proc.ready.role).toBe('client')
      const s = await lanPeers(hosts[0]!, 2)
      expect(s.supernodes).toEqual([])
      expect(s.hint).toContain('LAN-only network: no supernode, 2 LAN peers')
      await lanPeers(hosts[1]!, 2)
      await lanPeers(hosts[2]!, 2)
    }, 180_000)

    it('each claims a name, first come among the LAN peers', async () => {
      const [a, b, c] = hosts
      for (const [h, name] of [
        [a!, 'alice'],
        [b!, 'bob'],
        [c!, 'carol'],
      ] as const) {
        await claim(h, name)
        expect((await status(h)).name).toBe(name)
      }
      // carol's node cannot take a name another LAN peer holds.
      const taken = await cli(c!, ['claim', 'alice'])
      expect(taken.code).not.toBe(0)
      expect(taken.stderr).toContain('already claimed')
      // Every node resolves every name to its owner's key.
      const aliceKey = JSON.parse(await cliOk(a!, ['lookup', 'alice'])).publicKey as string
      for (const h of hosts) {
        expect(JSON.parse(await cliOk(h, ['lookup', 'alice'])).publicKey).toBe(aliceKey)
      }
    }, 360_000)

    it('messages go both ways, each sender identity verified', async () => {
      const [a, b] = hosts
      expect(await cliOk(a!, ['message', 'bob', 'hello bob, over the LAN'])).toContain('delivered')
      expect(await cliOk(b!, ['message', 'alice', 'hello alice, no internet'])).toContain(
        'delivered',
      )
      await received(b!, 'alice', 'hello bob, over the LAN')
      await received(a!, 'bob', 'hello alice, no internet')
    }, 120_000)

    it('alice calls bob from the UI, with audio both ways over host candidates', async () => {
      const [a, b] = hosts
      phones.push(await openLanPhone(a!), await openLanPhone(b!))
      // The UI says where the user is, not only "no supernode".
      await phones[0]!.page
        .getByText('LAN-only network: no supernode, 2 LAN peer(s).', { exact: false })
        .waitFor({ timeout: 30_000 })
      if (process.env.KAIWA_HLAN_SHOT != null)
        await phones[0]!.page.screenshot({ path: process.env.KAIWA_HLAN_SHOT })
      const call = await callByUi(phones[0]!.page, phones[1]!.page, 'bob')
      // 20 ms Opus frames: ~125 packets in 2.5 s; ask for well over half.
      expect(call.caller).toBeGreaterThan(60)
      expect(call.callee).toBeGreaterThan(60)
      expect(call.pair).toMatch(/^host .* ⇄ (host|prflx) /)
    }, 180_000)

    it('a node that joins later finds the others and resolves their names', async () => {
      const d = await startLanNode(lan!.namespaces[3]!, base!, 'dave')
      hosts.push(d)
      await lanPeers(d, 3)
      for (const name of ['alice', 'bob', 'carol']) {
        const found = JSON.parse(await cliOk(d, ['lookup', name])) as { name: string }
        expect(found.name).toBe(name)
      }
      const taken = await cli(d, ['claim', 'bob'])
      expect(taken.stderr).toContain('already claimed')
      await claim(d, 'dave')
      expect(await cliOk(d, ['message', 'carol', 'hi carol, I am new'])).toContain('delivered')
      await received(hosts[2]!, 'dave', 'hi carol, I am new')
    }, 300_000)

    it('stopping one node leaves the others working', async () => {
      const [a, b, c, d] = hosts
      expect(await c!.proc.stop()).toBe(0)
      await lanPeers(a!, 2)
      expect(await cliOk(a!, ['message', 'dave', 'carol left'])).toContain('delivered')
      await received(d!, 'alice', 'carol left')
      expect(await cliOk(b!, ['message', 'alice', 'still here'])).toContain('delivered')
      await received(a!, 'bob', 'still here')
      // carol's name is still held by the others: nobody can take it while she is away.
      expect((await cli(d!, ['claim', 'carol'])).stderr).toContain('already claimed')
    }, 120_000)
  },
)
