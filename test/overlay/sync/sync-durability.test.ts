/**
 * Account sync loses nothing, between real nodes on loopback (issue 15 §3):
 * a supernode, bob, and alice on two devices.
 *
 * - The account's mailbox holds more than one page of sync mail for device 2
 *   while device 1 collects it: device 1 pages through it all (a cursor,
 *   deleting nothing) and leaves device 2's mail, which device 2 then takes.
 * - A sync event that neither path took (device 2 away, the supernode's
 *   mailbox full) is on disk: device 1 stops, starts again, and sends it.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { fetchMail } from '../../../src/overlay/mailbox/mailbox-protocol.js'
import type { MailEnvelope } from '../../../src/shared/mail/sealed-mail.js'
import { startClient, startTestNode, tcpAddr, waitFor } from '../../helpers/nodes.js'
import { startTwoDevices } from './two-devices.js'

let sn: KaiwaNode
let bob: KaiwaNode
let a1: KaiwaNode
let a2: KaiwaNode
const running = new Set<KaiwaNode>()
const dirs = new Set<string>()

const texts = async (n: KaiwaNode): Promise<string[]> =>
  (await n.api.conversation({ peer: 'bob' })).messages.map((m) => `${m.direction}:${m.text}`)

async function waitForTexts(n: KaiwaNode, want: string[], what: string, ms = 60_000) {
  await waitFor(
    async () => {
      const got = await texts(n).catch((): string[] => [])
      return want.every((t) => got.includes(t))
    },
    ms,
    what,
  )
}

const logs = async (n: KaiwaNode): Promise<string> => (await n.api.logs({})).text

/** How many sync events device 1's log says it left in the mailbox for `target`. */
async function mailedTo(n: KaiwaNode, target: string): Promise<number> {
  const re = new RegExp(`sync: (\\d+) event\\(s\\) for ${target} left in the mailbox`, 'g')
  let sum = 0
  for (const m of (await logs(n)).matchAll(re)) sum += Number(m[1])
  return sum
}

/** The ids of the mail the supernode holds for alice's account, read page by page. */
async function mailIds(): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let after: MailEnvelope | undefined
  for (let pages = 1; ; pages++) {
    const res = await fetchMail(
      a1.libp2p(),
      sn.libp2p().peerId,
      a1.identity.accountKey,
      after != null ? { after } : {},
    )
    ids.push(...res.envelopes.map((e) => Buffer.from(e.id).toString('hex')))
    after = res.envelopes.at(-1)
    if (!res.more || after == null) return { ids, pages }
  }
}

/** Stop `n`, keeping its data directory for a restart. */
async function stop(n: KaiwaNode): Promise<string> {
  await n.stop()
  running.delete(n)
  return n.dataDir
}

async function restart(dir: string): Promise<KaiwaNode> {
  const n = await startClient(sn, { dataDir: dir })
  running.add(n)
  return n
}

/** Until bob's lookup of alice shows device `n` at the address it has now. */
async function waitForListed(n: KaiwaNode): Promise<void> {
  const port = /\/tcp\/(\d+)/.exec(tcpAddr(n))![1]
  await waitFor(
    async () => {
      const { record } = await bob.api.lookup({ name: 'alice' })
      const d = record.devices.find((x) => x.peerId === n.peerId)
      return d?.addrs.some((a) => a.includes(`/tcp/${port}`)) === true
    },
    30_000,
    'the record to list the restarted device',
  )
}

describe('account sync loses nothing', () => {
  beforeAll(async () => {
    sn = await startTestNode({ supernode: 'on' })
    bob = await startClient(sn, { name: 'bob' })
    const alice = await startTwoDevices(sn, 'alice')
    a1 = alice.one
    a2 = alice.two
    for (const n of [sn, bob, a1, a2]) {
      running.add(n)
      dirs.add(n.dataDir)
    }
  }, 150_000)
  afterAll(async () => {
    await Promise.allSettled([...running].map((n) => n.stop()))
    await Promise.allSettled([...dirs].map((d) => rm(d, { recursive: true, force: true })))
  })

  it(
    'a device collecting a mailbox of several pages leaves the mail meant for the other device',
    { timeout: 240_000 },
    async () => {
      const dir = await stop(a2)
      const target = a2.peerId
      // 16 long messages: device 1 syncs each to the absent device 2 through the
      // account's mailbox, at most two to a mail, a few mails to a 128 KiB page.
      const sent = Array.from({ length: 16 }, (_, i) => `${i} ${'long line '.repeat(1200)}`)
      for (const t of sent) await bob.api.message({ to: 'alice', text: t })
      await waitForTexts(
        a1,
        sent.map((t) => `in:${t}`),
        'device 1 to receive them all',
      )
      await waitFor(
        async () => (await mailedTo(a1, target)) >= sent.length,
        90_000,
        'every message to wait for device 2 in the mailbox',
      )
      const held = await mailIds()
      expect(held.pages).toBeGreaterThan(1)
      // Device 1 collects the account's mailbox: every page, all of it for device 2.
      await a1.sip.collectOfflineMail()
      const after = await mailIds()
      for (const id of held.ids) expect(after.ids).toContain(id)
      a2 = await restart(dir)
      await waitForTexts(
        a2,
        sent.map((t) => `in:${t}`),
        'device 2 to catch up every message from the mailbox',
        120_000,
      )
      const got = await texts(a2)
      for (const t of sent) expect(got.filter((x) => x === `in:${t}`)).toHaveLength(1)
      // Device 2 deletes what it took.
      await waitFor(
        async () => (await sn.mailbox.stats()).messages === 0,
        60_000,
        'device 2 to delete the mail it collected',
      )
    },
  )

  it(
    'a sync event that neither the overlay nor the mailbox took is sent after a restart',
    { timeout: 240_000 },
    async () => {
      const dir2 = await stop(a2)
      const target = a2.peerId
      // The operator's storage cap: the supernode refuses new mail.
      sn.mailbox.setMaxTotalBytes(0)
      const dir1 = await (async () => {
        try {
          await a1.api.settingsUpdate({ files: { autoAcceptMiB: 3, maxMiB: 700 } })
          const waits = new RegExp(`sync: \\d+ event\\(s\\) for ${target} wait`)
          await waitFor(async () => waits.test(await logs(a1)), 60_000, 'the event to find no path')
          return await stop(a1)
        } finally {
          sn.mailbox.setMaxTotalBytes(256 * 1024 * 1024)
        }
      })()
      a2 = await restart(dir2)
      expect((await a2.api.settings({})).files?.autoAcceptMiB).not.toBe(3)
      await waitForListed(a2)
      a1 = await restart(dir1)
      await waitFor(
        async () => (await a2.api.settings({})).files?.autoAcceptMiB === 3,
        90_000,
        'device 2 to get the change device 1 made before it restarted',
      )
      expect((await a2.api.settings({})).files?.maxMiB).toBe(700)
      expect(await logs(a1)).toMatch(/queued before a restart are sent again/)
    },
  )
})
