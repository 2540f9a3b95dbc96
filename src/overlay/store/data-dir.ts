/**
 * The node's data directory: owner-only permissions and one level-backed
 * datastore that holds the DHT records, the peer store, the identity and the
 * settings. Opening it is where a corrupt or already-used directory is caught,
 * so the user gets a clear message instead of a libp2p stack trace.
 */
import { chmod, mkdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { KaiwaError } from '../../shared/errors.js'

export class DataDirError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'internal', options)
    this.name = 'DataDirError'
  }
}

export interface DataDir {
  readonly path: string
  readonly datastore: LevelDatastore
  close(): Promise<void>
}

/** Create the directory if needed (mode 0700) and tighten it if someone widened it. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 })
  const st = await stat(path)
  if (!st.isDirectory()) throw new DataDirError(`${path} exists and is not a directory`)
  if ((st.mode & 0o077) !== 0) await chmod(path, 0o700)
}

export async function openDataDir(dir: string): Promise<DataDir> {
  const path = resolve(dir)
  await ensurePrivateDir(path)
  // The identity's keys live in here: owner-only too, not just by way of the parent.
  const storePath = join(path, 'datastore')
  await ensurePrivateDir(storePath)
  const datastore = new LevelDatastore(storePath)
  try {
    // Open the level db first: LevelDatastore.open() flattens its error to a string and drops
    // the cause (LEVEL_LOCKED, "Corruption: ..."), which is what tells the user what is wrong.
    await datastore.db.open({ createIfMissing: true, compression: false })
    await datastore.open() // already open: a no-op
  } catch (err) {
    throw describeOpenError(path, err)
  }
  return {
    path,
    datastore,
    close: async () => {
      await datastore.close()
    },
  }
}

function describeOpenError(path: string, err: unknown): DataDirError {
  const text = collectMessages(err)
  if (/LOCK|locked|LEVEL_LOCKED/i.test(text)) {
    return new DataDirError(
      `the data directory ${path} is in use by another Kaiwa node; stop it first or pass a different --data DIR`,
      { cause: err },
    )
  }
  return new DataDirError(
    `the data directory ${path} could not be opened (${text}); it may be corrupt. ` +
      `Move it aside and restore your identity from a backup, or pass a different --data DIR`,
    { cause: err },
  )
}

function collectMessages(err: unknown): string {
  const parts: string[] = []
  let e: unknown = err
  for (let i = 0; i < 5 && e != null; i++) {
    if (e instanceof Error) {
      parts.push(`${(e as { code?: string }).code ?? e.name}: ${e.message}`)
      e = e.cause
    } else {
      parts.push(String(e))
      break
    }
  }
  return parts.join(' <- ')
}
