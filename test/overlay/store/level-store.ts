/**
 * A real level datastore in a temporary directory, and raw access to it, so
 * the storage tests write exactly the bytes an older build wrote and read back
 * exactly what is on disk.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import type { Logger } from '../../../src/shared/logger.js'

export interface TempStore {
  ds: LevelDatastore
  /** Close and open the same directory again, as a restart does (a new datastore object). */
  reopen(): Promise<LevelDatastore>
  dispose(): Promise<void>
}

export async function openTempStore(): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'h2-store-'))
  const store: TempStore = {
    ds: new LevelDatastore(join(dir, 'ds')),
    reopen: async () => {
      await store.ds.close()
      store.ds = new LevelDatastore(join(dir, 'ds'))
      await store.ds.open()
      return store.ds
    },
    dispose: async () => {
      await store.ds.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
  await store.ds.open()
  return store
}

export async function putRaw(ds: Datastore, key: string, text: string | Uint8Array): Promise<void> {
  await ds.put(new Key(key), typeof text === 'string' ? new TextEncoder().encode(text) : text)
}

/** The entry's bytes as text, or undefined when the key is absent. */
export async function getRaw(ds: Datastore, key: string): Promise<string | undefined> {
  const k = new Key(key)
  if (!(await ds.has(k))) return undefined
  return new TextDecoder().decode(await ds.get(k))
}

export async function getJson(ds: Datastore, key: string): Promise<unknown> {
  const text = await getRaw(ds, key)
  return text === undefined ? undefined : JSON.parse(text)
}

export async function keysUnder(ds: Datastore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const key of ds.queryKeys({ prefix })) out.push(key.toString())
  return out.sort()
}

/** A logger that keeps what it was told, to check that quarantine warns. */
export function recordingLog(): { lines: string[]; log: Logger } {
  const lines: string[] = []
  const log: Logger = {
    debug: (m) => void lines.push(`debug ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    child: () => log,
  }
  return { lines, log }
}
