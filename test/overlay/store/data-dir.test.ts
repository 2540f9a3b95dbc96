/**
 * The data directory refuses to be shared, and a damaged one is reported, never
 * re-initialised: an identity is never silently replaced.
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { DataDirError } from '../../../src/overlay/store/data-dir.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startTestNode, tempDir } from '../../helpers/nodes.js'

const IDENTITY_KEY = new Key('/kaiwa/identity')
const META_KEY = new Key('/kaiwa/meta')
const GARBAGE = Buffer.from('this is not a leveldb file '.repeat(40))

const nodes: KaiwaNode[] = []
const dirs: string[] = []

async function newDir(): Promise<string> {
  const d = await tempDir('kaiwa-datadir-')
  dirs.push(d)
  return d
}

async function start(dataDir: string): Promise<KaiwaNode> {
  const node = await startTestNode({ dataDir, supernode: 'on' })
  nodes.push(node)
  return node
}

/** Start a node on `dataDir`, let it write its identity, and stop it cleanly. */
async function initialise(dataDir: string): Promise<string> {
  const node = await start(dataDir)
  await node.stop()
  return node.peerId
}

async function startError(dataDir: string): Promise<Error> {
  const err: unknown = await start(dataDir).then(
    () => new Error('the node started'),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(DataDirError)
  return err as Error
}

/** Runs `fn` on the node's datastore opened directly, as a repair tool would. */
async function withStore<T>(dataDir: string, fn: (ds: LevelDatastore) => Promise<T>): Promise<T> {
  const ds = new LevelDatastore(join(dataDir, 'datastore'))
  await ds.open()
  try {
    return await fn(ds)
  } finally {
    await ds.close()
  }
}

afterEach(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  nodes.length = 0
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
  dirs.length = 0
})

describe('the data directory', () => {
  it('is created owner-only, datastore included', async () => {
    const dir = join(await newDir(), 'fresh')
    await start(dir)
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(dir, 'datastore'))).mode & 0o777).toBe(0o700)
  })

  it('refuses a second node on a directory in use, and the first keeps working', async () => {
    const dir = await newDir()
    const first = await start(dir)
    const err = await startError(dir)
    expect(err.message).toContain(dir)
    expect(err.message).toMatch(/in use/)
    // The failed start closed nothing of the first node's.
    expect((await first.claim('owner-one')).record.name).toBe('owner-one')
    expect((await first.settings.get()).name).toBe('owner-one')
  })

  it('can be reopened after a clean stop, with the same identity', async () => {
    const dir = await newDir()
    const peerId = await initialise(dir)
    const again = await start(dir)
    expect(again.peerId).toBe(peerId)
  })

  it('reports a corrupt datastore by its path and does not re-initialise it', async () => {
    const dir = await newDir()
    await initialise(dir)
    const storeDir = join(dir, 'datastore')
    const garbled: string[] = []
    for (const f of await readdir(storeDir)) {
      if (/\.(ldb|log)$|^CURRENT$|^MANIFEST-/.test(f)) {
        await writeFile(join(storeDir, f), GARBAGE)
        garbled.push(f)
      }
    }
    expect(garbled).toContain('CURRENT')

    const err = await startError(dir)
    expect(err.message).toContain(dir)
    expect(err.message).toMatch(/corrupt/)
    for (const f of garbled) {
      expect(await readFile(join(storeDir, f)), `${f} was rewritten`).toEqual(GARBAGE)
    }
    // Still refused on a second try: nothing was repaired or replaced behind our back.
    expect((await startError(dir)).message).toMatch(/corrupt/)
  })

  it('refuses to create a new identity over an initialised store that lost it', async () => {
    const dir = await newDir()
    await initialise(dir)
    await withStore(dir, (ds) => ds.delete(IDENTITY_KEY))

    const err = await startError(dir)
    expect(err.message).toMatch(/identity is missing; refusing to create a new one/)
    await withStore(dir, async (ds) => {
      expect(await ds.has(IDENTITY_KEY)).toBe(false)
      expect(await ds.has(META_KEY)).toBe(true)
    })
  })

  it('reports a garbled identity as corrupt and leaves it as it was', async () => {
    const dir = await newDir()
    await initialise(dir)
    const garbled = new Uint8Array([0xa2, 0x61, 0x76, 0x01, 0x61, 0x78, 0xff, 0x00, 0x13])
    await withStore(dir, (ds) => ds.put(IDENTITY_KEY, garbled))

    const err = await startError(dir)
    expect(err.message).toMatch(/identity .*corrupt/)
    await withStore(dir, async (ds) => {
      expect(Uint8Array.from(await ds.get(IDENTITY_KEY))).toEqual(garbled)
    })
    // The failed start released the directory: a repair tool (or a retry) can open it.
    expect((await startError(dir)).message).toMatch(/corrupt/)
  })
})
