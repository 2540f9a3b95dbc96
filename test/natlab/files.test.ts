/**
 * File transfer across NATs with no direct link (issue 15 §1), with real
 * `kaiwa node` processes in the NAT lab: alice behind a symmetric NAT, bob
 * behind a port-restricted one, a supernode (TURN on) on a public host. No
 * punching works between those two (nat-modes.ts `punchable`), and their only
 * link is the circuit relay, whose limits are for signalling: a file stream
 * is never opened on it. So a 50 MB file goes WebRTC through the supernode's
 * TURN, which the supernode counts (it relays at least the file), and bob
 * verifies its SHA-256. Then a second 50 MB file is interrupted halfway (bob's
 * node is killed by its PID), bob restarts on the same data dir, and the
 * transfer resumes from the verified chunks (not from zero) to a verified
 * whole; alice remembers that bob needed TURN (turn-memory.ts), so the resume
 * dials TURN at once instead of after the failed direct attempts. Last, with the supernode's relayed-bandwidth cap at 0 (it will not
 * relay), a third file stays queued and alice is told why. Root only; skipped
 * with the reason otherwise.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { assertBuilt } from '../helpers/cli.js'
import { required } from '../helpers/requirements.js'
import { labUnavailableReason } from './exec.js'
import { createLab } from './lab.js'
import type { Lab } from './lab.js'
import { bootstrapAddr, startLabNode, waitUntil } from './kaiwa-lab.js'
import type { LabNode, LabNodeOptions } from './kaiwa-lab.js'
import { punchable } from './nat-modes.js'

const skip = labUnavailableReason()
required(skip == null, `the NAT lab (${skip ?? ''})`)
if (skip != null) console.warn(`NAT lab tests skipped: ${skip}`)

const MiB = 1024 * 1024
const SIZE = 50 * 1000 * 1000
/** Each TURN allocation may relay this much each way (the default, 4 Mbit/s, is 100 s a file). */
const ALLOCATION_KBPS = 80_000

interface Transfer {
  id: string
  status: string
  note: string | null
  bytesDone: number
  sha256?: string
}
interface Received {
  id: string
  sha256: string
  path: string
  size: number
}

async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  for (let left = size; left > 0; left -= MiB) {
    const block = randomBytes(Math.min(MiB, left))
    hash.update(block)
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())))
  return hash.digest('hex')
}

async function outgoing(node: LabNode, id: string): Promise<Transfer | undefined> {
  const { transfers } = await node.api<{ transfers: Transfer[] }>('transfers')
  return transfers.find((t) => t.id === id)
}

async function received(node: LabNode, id: string): Promise<Received | undefined> {
  const { files } = await node.api<{ files: Received[] }>('files')
  return files.find((f) => f.id === id)
}

async function relayedBytes(sn: LabNode): Promise<number> {
  return (await sn.api<{ bytesRelayed: number }>('usage')).bytesRelayed
}

async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

describe.skipIf(skip != null)(
  `NAT lab: files between a symmetric NAT and a port-restricted NAT, through TURN${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let lab: Lab
    let sn: LabNode
    let alice: LabNode
    let bob: LabNode
    let dir: string
    let bobOpts: LabNodeOptions

    beforeAll(async () => {
      await assertBuilt()
      expect(punchable('symmetric', 'port-restricted')).toBe(false)
      lab = createLab({ sites: [{ nat: 'symmetric' }, { nat: 'port-restricted' }] })
      dir = lab.tempDir('kaiwa-natlab-files-')
      sn = await startLabNode(lab, lab.publicHosts[0]!, {
        label: 'sn',
        supernode: 'on',
        // --turn-host: TURN announces the public address without asking libp2p for it (with
        // relay threads, asking before libp2p has started fails the start).
        extraArgs: [
          ...['--turn-allocation-kbps', String(ALLOCATION_KBPS)],
          ...['--turn-host', lab.publicHosts[0]!.addr],
        ],
      })
      // The default cap (20 Mbit/s over both legs) would make this test slow, not different.
      await sn.api('settingsUpdate', { caps: { relayKbps: 4 * ALLOCATION_KBPS } })
      const boot = [bootstrapAddr(sn)]
      bobOpts = { label: 'bob', supernode: 'off', name: 'bob', bootstrap: boot, logLevel: 'debug' }
      ;[alice, bob] = await Promise.all([
        startLabNode(lab, lab.sites[0]!.hosts[0]!, {
          label: 'alice',
          supernode: 'off',
          name: 'alice',
          bootstrap: boot,
          logLevel: 'debug',
        }),
        startLabNode(lab, lab.sites[1]!.hosts[0]!, bobOpts),
      ])
      await waitUntil('bob pins alice', () => bob.api('contactAdd', { name: 'alice' }), 90_000)
      await waitUntil('alice finds bob', () => alice.api('lookup', { name: 'bob' }), 90_000)
      await bob.api('settingsUpdate', { files: { autoAcceptMiB: 100, maxMiB: 100 } })
    }, 300_000)

    afterAll(async () => {
      await lab?.destroy()
    })

    const dump = (): void => {
      for (const n of [alice, bob])
        console.log(`--- ${n.label} stderr, last 40 lines\n${tail(n.stderr(), 40)}`)
    }

    it('a 50 MB file goes through the supernode TURN (never the circuit relay), SHA-256 verified', async () => {
      onTestFailed(dump)
      const path = join(dir, 'one.bin')
      const sha = await randomFile(path, SIZE)
      const before = await relayedBytes(sn)
      const { transfer } = await alice.api<{ transfer: Transfer }>('sendFile', {
        to: 'bob',
        path,
      })
      const done = await waitUntil(
        'the transfer to complete',
        async () => {
          const t = await outgoing(alice, transfer.id)
          if (t?.status === 'failed' || t?.status === 'declined') throw new Error(t.note ?? '')
          return t?.status === 'complete' ? t : null
        },
        240_000,
        500,
      )
      expect(done.note).toMatch(/SHA-256 verified/)
      const got = await waitUntil('bob lists the file', () => received(bob, transfer.id), 30_000)
      expect(got.sha256).toBe(sha)
      expect(await fileSha256(got.path)).toBe(sha)
      // Through TURN: the supernode relayed at least the file (ChannelData payload, one leg).
      expect(await relayedBytes(sn)).toBeGreaterThanOrEqual(before + SIZE)
      expect(alice.stderr()).toMatch(/file stream to \S+ over WebRTC through TURN/)
    }, 300_000)

    it('interrupted halfway (the receiver killed) and resumed from the verified chunks', async () => {
      onTestFailed(dump)
      const path = join(dir, 'two.bin')
      const sha = await randomFile(path, SIZE)
      const { transfer } = await alice.api<{ transfer: Transfer }>('sendFile', {
        to: 'bob',
        path,
      })
      await waitUntil(
        'half the file acknowledged',
        async () => ((await outgoing(alice, transfer.id))?.bytesDone ?? 0) >= SIZE / 2,
        240_000,
        200,
      )
      const bobDir = bob.dataDir
      const logFrom = alice.stderr().length
      bob.child.kill('SIGKILL')
      await new Promise((r) => bob.child.once('exit', r))
      const dropped = await waitUntil(
        'alice notices the drop',
        async () => {
          const t = await outgoing(alice, transfer.id)
          return t?.status === 'queued' ? t : null
        },
        120_000,
      )
      // Alice is told why it waits: the drop itself, or (once a retry has looked bob up while he
      // is down, which a slow run sees first) that bob is offline.
      expect(dropped.note).toMatch(
        /dropped at \d+ %.*resumes from the last verified chunk|bob is offline; .* waits until both are online/,
      )
      const kept = dropped.bytesDone
      expect(kept).toBeGreaterThanOrEqual(SIZE / 2)
      expect(kept).toBeLessThan(SIZE)

      bob = await startLabNode(lab, lab.sites[1]!.hosts[0]!, { ...bobOpts, dataDir: bobDir })
      const restartedAt = Date.now()
      const resumed = await waitUntil(
        'the resumed session',
        async () => {
          const t = await outgoing(alice, transfer.id)
          return t?.status === 'sending' || t?.status === 'complete' ? t : null
        },
        180_000,
        250,
      )
      console.log(`the resumed session began ${Date.now() - restartedAt} ms after bob was back`)
      // It goes on from what bob had verified, not from zero.
      expect(resumed.bytesDone).toBeGreaterThanOrEqual(SIZE / 4)
      // Alice knew bob needed TURN: the resume dialled it at once, beside the direct dials.
      expect(alice.stderr().slice(logFrom)).toMatch(
        /needed TURN \d+ s ago: dialling TURN at once, racing the direct dials/,
      )
      await waitUntil(
        'the transfer to complete',
        async () => (await outgoing(alice, transfer.id))?.status === 'complete',
        240_000,
        500,
      )
      const got = await waitUntil('bob lists the file', () => received(bob, transfer.id), 30_000)
      expect(got.sha256).toBe(sha)
      expect(await fileSha256(got.path)).toBe(sha)
    }, 600_000)

    it('when the supernode will not relay, the file stays queued and alice is told why', async () => {
      onTestFailed(dump)
      await sn.api('settingsUpdate', { caps: { relayKbps: 0 } })
      // The TURN link of the last transfer closes once idle (file-protocol.ts TURN_IDLE_MS);
      // until then a new file would still use it.
      const path = join(dir, 'three.bin')
      await randomFile(path, 2 * MiB)
      await waitUntil('the idle TURN link to close', async () => noTurnLink(alice), 120_000, 1000)
      const { transfer } = await alice.api<{ transfer: Transfer }>('sendFile', {
        to: 'bob',
        path,
      })
      const queued = await waitUntil(
        'the refusal',
        async () => {
          const t = await outgoing(alice, transfer.id)
          // Right after bob's restart a lookup may still call him offline (another true note);
          // the relay's refusal is what this waits for.
          return t?.status === 'queued' && /no supernode will relay/.test(t.note ?? '') ? t : null
        },
        120_000,
        500,
      )
      expect(queued.note).toMatch(
        /bob can't be reached directly and no supernode will relay three\.bin/,
      )
      expect(queued.note).toMatch(/sent automatically/)
      expect(await received(bob, transfer.id)).toBeUndefined()
    }, 300_000)
  },
)

/** Whether `node` has no open WebRTC connection (conn-probe.mjs records them). */
async function noTurnLink(node: LabNode): Promise<boolean> {
  const open = new Map<string, boolean>()
  for (const e of node.probe()) {
    if (e.ev === 'conn-open') open.set(String(e.id), String(e.addr).includes('/webrtc'))
    if (e.ev === 'conn-close') open.delete(String(e.id))
  }
  return ![...open.values()].some(Boolean)
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n')
}
