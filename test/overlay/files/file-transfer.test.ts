/**
 * File transfer between real nodes on loopback (issue 15 §1): a 50 MB file
 * sent direct with its SHA-256 verified; the transfer interrupted halfway
 * (the receiver stopped) and resumed after it restarts without starting over;
 * a file over the receiver's limit; an offer the receiver accepts by hand; a
 * small file for an offline receiver through the mailbox; and a full disk on
 * the receiver (a tmpfs this test mounts), which keeps the partial file.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { mkdir, stat } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startClient, startTestNode, tempDir, waitFor } from '../../helpers/nodes.js'
import type { FileTransferJson } from '../../../src/shared/api/contract.js'

const MiB = 1024 * 1024
let sn: KaiwaNode
let alice: KaiwaNode
let bob: KaiwaNode
let dir: string
const nodes = new Set<KaiwaNode>()

/** A file of `size` random bytes and its SHA-256. */
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

async function pin(node: KaiwaNode, name: string): Promise<void> {
  await node.api.contactAdd({ name })
}

beforeAll(async () => {
  dir = await tempDir('hfile-')
  sn = await startTestNode({ supernode: 'on' })
  alice = await startClient(sn, { name: 'alice' })
  bob = await startClient(sn, { name: 'bob' })
  for (const n of [sn, alice, bob]) nodes.add(n)
  await pin(bob, 'alice')
  await pin(alice, 'bob')
  await bob.api.settingsUpdate({ files: { autoAcceptMiB: 100 } })
}, 90_000)
afterAll(async () => {
  await Promise.allSettled([...nodes].map((n) => n.stop()))
  await rm(dir, { recursive: true, force: true })
})

describe('file transfer between nodes', () => {
  it('sends 50 MB direct and the receiver verifies its SHA-256', async () => {
    const path = join(dir, 'fifty.bin')
    const sha = await randomFile(path, 50 * MiB)
    const { transfer } = await alice.api.sendFile({ to: 'bob', path })
    await waitFor(
      async () => (await alice.files.view(transfer.id)).status === 'complete',
      120_000,
      'the 50 MB file to be delivered',
    )
    const files = (await bob.api.files({})).files
    const got = files.find((f) => f.id === transfer.id)!
    expect(got).toMatchObject({ sender: 'alice', name: 'fifty.bin', size: 50 * MiB, sha256: sha })
    const bytes = await readFile(got.path)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha)
  }, 180_000)
})

async function outStatus(id: string): Promise<FileTransferJson> {
  return alice.files.view(id)
}

async function restartBob(): Promise<void> {
  nodes.delete(bob)
  bob = await startClient(sn, { name: 'bob', dataDir: bob.dataDir })
  nodes.add(bob)
}

describe('file transfer: interruptions and refusals', () => {
  beforeAll(async () => {
    await bob.api.settingsUpdate({ files: { autoAcceptMiB: 100, maxMiB: 100 } })
  })

  it('resumes a transfer interrupted halfway (receiver stopped) without starting over', async () => {
    const size = 50 * MiB
    const path = join(dir, 'resume.bin')
    const sha = await randomFile(path, size)
    const { transfer } = await alice.api.sendFile({ to: 'bob', path })
    await waitFor(
      () => (alice.files.outgoing.stats.get(transfer.id)?.ackedBytes ?? 0) >= size * 0.55,
      120_000,
      'the transfer to pass halfway',
    )
    // Held there, so that the rest cannot arrive while bob is stopping (a fast run finished the
    // file before bob was down); at most a window of chunks in flight lands after the pause.
    await alice.api.filePause({ id: transfer.id })
    await bob.stop()
    await restartBob()
    await alice.api.fileResume({ id: transfer.id })
    await waitFor(
      async () => (await outStatus(transfer.id)).status === 'complete',
      120_000,
      'the resumed transfer to complete',
    )
    const done = await outStatus(transfer.id)
    // The last session started from the receiver's verified chunks: less than half went again.
    expect(done.resumedFrom).toBeGreaterThanOrEqual(size / 2)
    expect(done.sessionBytes).toBeLessThan(size / 2)
    expect(done.sessionBytes).toBe(size - done.resumedFrom!)
    const got = (await bob.api.files({})).files.find((f) => f.id === transfer.id)!
    expect(got.sha256).toBe(sha)
    expect(
      createHash('sha256')
        .update(await readFile(got.path))
        .digest('hex'),
    ).toBe(sha)
  }, 240_000)

  it("refuses a file over the receiver's limit with a clear error", async () => {
    await bob.api.settingsUpdate({ files: { maxMiB: 1 } })
    try {
      const path = join(dir, 'big.bin')
      await randomFile(path, 2 * MiB)
      const { transfer } = await alice.api.sendFile({ to: 'bob', path })
      await waitFor(
        async () => (await outStatus(transfer.id)).status === 'failed',
        30_000,
        'the refusal',
      )
      expect((await outStatus(transfer.id)).note).toMatch(
        /big\.bin is 2\.0 MiB; bob accepts files up to 1 MiB/,
      )
      expect((await bob.api.files({})).files.some((f) => f.id === transfer.id)).toBe(false)
    } finally {
      await bob.api.settingsUpdate({ files: { maxMiB: 100 } })
    }
  }, 60_000)

  it('waits for the receiver to accept a file over the auto-accept size, then sends it', async () => {
    await bob.api.settingsUpdate({ files: { autoAcceptMiB: 0 } })
    try {
      const path = join(dir, 'ask.bin')
      const sha = await randomFile(path, 3 * MiB)
      const { transfer } = await alice.api.sendFile({ to: 'bob', path })
      await waitFor(
        async () => (await outStatus(transfer.id)).status === 'awaiting',
        30_000,
        'the offer',
      )
      const offered = (await bob.api.transfers({})).transfers.find((t) => t.id === transfer.id)!
      expect(offered).toMatchObject({
        direction: 'in',
        status: 'offered',
        peer: 'alice',
        verification: 'verified',
      })
      await bob.api.fileAccept({ id: transfer.id })
      await waitFor(
        async () => (await outStatus(transfer.id)).status === 'complete',
        30_000,
        'the accepted file',
      )
      expect((await bob.api.files({})).files.find((f) => f.id === transfer.id)?.sha256).toBe(sha)
    } finally {
      await bob.api.settingsUpdate({ files: { autoAcceptMiB: 100 } })
    }
  }, 60_000)

  it('sends a small file to an offline receiver through the mailbox', async () => {
    await bob.stop()
    const path = join(dir, 'note.txt')
    const sha = await randomFile(path, 150 * 1024)
    const { transfer } = await alice.api.sendFile({ to: 'bob', path })
    await waitFor(
      async () => (await outStatus(transfer.id)).status === 'mailed',
      60_000,
      'the mailed file',
    )
    expect((await outStatus(transfer.id)).note).toMatch(/mailbox/)
    await restartBob()
    await waitFor(
      async () => (await bob.api.files({})).files.some((f) => f.id === transfer.id),
      60_000,
      'bob to collect the mailed file',
    )
    const got = (await bob.api.files({})).files.find((f) => f.id === transfer.id)!
    expect(got).toMatchObject({ sender: 'alice', name: 'note.txt', via: 'mailbox', sha256: sha })
    expect(
      createHash('sha256')
        .update(await readFile(got.path))
        .digest('hex'),
    ).toBe(sha)
  }, 120_000)

  it.skipIf(process.getuid?.() !== 0)(
    "stops with a clear error when the receiver's disk is full, keeps the partial file, resumes when there is room",
    async () => {
      const mnt = join(dir, 'hfile-tmpfs')
      await mkdir(mnt, { recursive: true })
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'hfile-tmpfs', mnt])
      try {
        await bob.api.settingsUpdate({ files: { receiveDir: mnt } })
        const path = join(dir, 'full.bin')
        const sha = await randomFile(path, 20 * MiB)
        const { transfer } = await alice.api.sendFile({ to: 'bob', path })
        await waitFor(
          async () => /no space left/.test((await outStatus(transfer.id)).note ?? ''),
          60_000,
          'the disk-full stop',
        )
        const incoming = (await bob.api.transfers({})).transfers.find((t) => t.id === transfer.id)!
        expect(incoming.status).toBe('interrupted')
        expect(incoming.note).toMatch(/no space left in .*partial file is kept/)
        expect(incoming.bytesDone).toBeGreaterThan(0)
        const part = join(mnt, `.kaiwa-${transfer.id}.part`)
        expect((await stat(part)).size).toBeGreaterThan(0)
        expect((await bob.api.files({})).files.some((f) => f.id === transfer.id)).toBe(false)
        // Room again: the receiver resumes it from the verified chunks.
        execFileSync('mount', ['-o', 'remount,size=64m', mnt])
        await bob.api.fileResume({ id: transfer.id })
        await waitFor(
          async () => (await outStatus(transfer.id)).status === 'complete',
          60_000,
          'the resumed file',
        )
        expect((await outStatus(transfer.id)).resumedFrom).toBeGreaterThan(0)
        const got = (await bob.api.files({})).files.find((f) => f.id === transfer.id)!
        expect(got.sha256).toBe(sha)
      } finally {
        execFileSync('umount', ['-l', mnt])
      }
    },
    120_000,
  )
})
