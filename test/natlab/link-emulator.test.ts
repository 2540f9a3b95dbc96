/**
 * The lab's WAN line (link-emulator.ts): two namespaces joined through a
 * router whose line to one of them runs through the userspace emulator.
 * ICMP echo RTT (link-emulator-ping.py: this machine has no iputils ping)
 * must be the two one-way delays, its loss about the configured
 * loss compounded over both directions, the same seed must drop the same
 * packets, and stopping the line must restore the ideal link. Root and
 * /dev/net/tun only; skipped with the reason otherwise (never in CI).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IP, ip, shIn } from './exec.js'
import { labUnavailableReason } from './exec.js'
import {
  LinkSpecError,
  checkLinkSpec,
  emulateLink,
  pingFrom,
  symmetricLink,
} from './link-emulator.js'
import type { EmulatedLink, LinkSpec } from './link-emulator.js'
import { required } from '../helpers/requirements.js'

const skip =
  labUnavailableReason() ??
  (existsSync('/dev/net/tun') ? null : 'no /dev/net/tun') ??
  (existsSync('/usr/bin/python3') ? null : 'no /usr/bin/python3')
required(skip == null, `the NAT lab's link emulator (${skip ?? ''})`)

// Our own prefix and range (100.77.0.0/16: outside everything lab.ts uses).
const TAG = `h13c${randomBytes(2).toString('hex')}`
const NS = { a: `${TAG}-a`, r: `${TAG}-r`, b: `${TAG}-b` }
const A = '100.77.1.2'
const B = '100.77.2.2'

describe('link spec validation', () => {
  it('rejects negative delays, loss over 100 % and fractional seeds with a LinkSpecError', () => {
    expect(() => checkLinkSpec(symmetricLink(-1))).toThrow(LinkSpecError)
    expect(() => checkLinkSpec(symmetricLink(100, 101))).toThrow(/lossPct/)
    expect(() => checkLinkSpec({ ...symmetricLink(100), seed: 1.5 })).toThrow(/seed/)
    expect(() => checkLinkSpec(symmetricLink(300, 5, 10))).not.toThrow()
  })
})

describe.skipIf(skip != null)(`link emulator${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const created: string[] = []
  const links: EmulatedLink[] = []

  beforeAll(() => {
    for (const ns of Object.values(NS)) {
      ip('netns', 'add', ns)
      created.push(ns)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
    }
    shIn(NS.r, 'echo 1 > /proc/sys/net/ipv4/ip_forward')
    for (const [side, addr, net] of [
      ['a', A, '100.77.1'],
      ['b', B, '100.77.2'],
    ] as const) {
      ip(
        'link',
        'add',
        `t${side}`,
        'netns',
        NS.r,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        NS[side],
      )
      ip('-n', NS.r, 'addr', 'add', `${net}.1/24`, 'dev', `t${side}`)
      ip('-n', NS.r, 'link', 'set', `t${side}`, 'up')
      ip('-n', NS[side], 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      ip('-n', NS[side], 'link', 'set', 'eth0', 'up')
      ip('-n', NS[side], 'route', 'add', 'default', 'via', `${net}.1`)
    }
  })

  afterAll(async () => {
    for (const l of links.splice(0)) await l.stop()
    for (const ns of created.reverse()) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
  })

  const line = async (spec: LinkSpec): Promise<EmulatedLink> => {
    const link = await emulateLink({
      ns: NS.r,
      neighborIf: 'ta',
      prefixes: ['100.77.1.0/24'],
      slot: 0,
      stem: 'h13c',
      spec,
      spawn: (ns, cmd, args) =>
        spawn(IP, ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    })
    links.push(link)
    return link
  }
  const done = async (link: EmulatedLink) => {
    links.splice(links.indexOf(link), 1)
    await link.stop()
  }

  it('ideal without the line: sub-10 ms RTT, no loss', () => {
    const p = pingFrom(NS.a, B, 20, 0.01)
    expect(p.received).toBe(20)
    expect(p.avgMs).toBeLessThan(10)
  })

  it('RTT is the sum of the one-way delays (40 ms up + 60 ms down ≈ 100 ms)', async () => {
    const link = await line({ up: { delayMs: 40 }, down: { delayMs: 60 } })
    const p = pingFrom(NS.a, B, 20, 0.05)
    expect(p.received).toBe(20)
    expect(p.minMs).toBeGreaterThanOrEqual(99)
    expect(p.avgMs).toBeLessThan(115)
    const s = await link.stats()
    expect(s.up.sent).toBeGreaterThanOrEqual(20)
    expect(s.down.sent).toBeGreaterThanOrEqual(20)
    await done(link)
  }, 30_000)

  it('loss is about the configured rate each way, and the same seed drops the same packets', async () => {
    // 10 % each way: a ping survives with 0.9² = 81 %.
    const spec = symmetricLink(20, 10, 0, 42)
    const runs: number[] = []
    for (let k = 0; k < 2; k++) {
      const link = await line(spec)
      const p = pingFrom(NS.a, B, 300, 0.005)
      const s = await link.stats()
      expect(s.up.dropped / s.up.received).toBeGreaterThan(0.05)
      expect(s.up.dropped / s.up.received).toBeLessThan(0.16)
      runs.push(p.lossPct)
      await done(link)
    }
    expect(runs[0]).toBeGreaterThan(10)
    expect(runs[0]).toBeLessThan(30)
    expect(runs[1]).toBe(runs[0])
  }, 60_000)

  it('jitter spreads the RTT around the delay, without reordering below the base', async () => {
    const link = await line(symmetricLink(100, 0, 20, 7))
    const p = pingFrom(NS.a, B, 40, 0.1)
    expect(p.received).toBe(40)
    expect(p.mdevMs).toBeGreaterThan(3)
    expect(p.minMs).toBeGreaterThanOrEqual(60)
    expect(p.maxMs).toBeLessThanOrEqual(145)
    await done(link)
  }, 30_000)

  it('stopping the line restores the ideal link and removes its TUNs', async () => {
    const link = await line(symmetricLink(200))
    await done(link)
    const p = pingFrom(NS.a, B, 10, 0.01)
    expect(p.received).toBe(10)
    expect(p.avgMs).toBeLessThan(10)
    expect(ip('-n', NS.r, 'link', 'show')).not.toContain('h13cu0')
    expect(ip('-n', NS.r, 'rule', 'show')).not.toContain('lookup 1000')
  }, 30_000)
})
