/**
 * Files in the data directory that let a CLI command talk to a running node:
 * `api-token` (the bearer secret, created once) and `api.json` (where the node
 * listens, written on every start). Both are private to the user (0600).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { CorruptDataError, NodeNotRunningError } from '../errors.js'

const TOKEN_FILE = 'api-token'
const ENDPOINT_FILE = 'api.json'
/** 32 random bytes in unpadded base64url are exactly 43 characters. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

export type ApiEndpoint = { url: string; pid: number }

const ApiEndpointSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  pid: z.number().int().positive(),
})

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code
}

/**
 * Create `path` with mode 0600 and write `data`. `wx` fails if the file exists,
 * so we never reuse (or widen the permissions of) a file someone else made.
 */
async function writeNewPrivateFile(path: string, data: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600)
  try {
    await fh.writeFile(data, 'utf8')
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function readTokenFile(path: string): Promise<string> {
  const token = (await readFile(path, 'utf8')).trim()
  if (!TOKEN_RE.test(token)) {
    throw new CorruptDataError(path, 'expected 43 base64url characters')
  }
  return token
}

/** The API token of the node using `dataDir`; created on first use. */
export async function loadOrCreateApiToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE)
  try {
    return await readTokenFile(path)
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  try {
    await writeNewPrivateFile(path, token + '\n')
    return token
  } catch (err) {
    // Another process created it between our read and our open: use theirs.
    if (isErrno(err, 'EEXIST')) return readTokenFile(path)
    throw err
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user; still alive.
    return isErrno(err, 'EPERM')
  }
}

/**
 * Where the node for `dataDir` listens. Throws NodeNotRunningError when no
 * node wrote the file or the node that wrote it has exited (e.g. crashed).
 */
export async function readApiEndpoint(dataDir: string): Promise<ApiEndpoint> {
  const path = join(dataDir, ENDPOINT_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new NodeNotRunningError(dataDir)
    throw err
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CorruptDataError(path, 'not valid JSON')
  }
  const parsed = ApiEndpointSchema.safeParse(json)
  if (!parsed.success) throw new CorruptDataError(path, 'expected {"url": string, "pid": number}')
  if (!isAlive(parsed.data.pid)) throw new NodeNotRunningError(dataDir)
  return parsed.data
}

/**
 * Record where this node listens. Written to a fresh temp file and renamed so
 * a reader never sees a half-written file.
 */
export async function writeApiEndpoint(dataDir: string, endpoint: ApiEndpoint): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, ENDPOINT_FILE)
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeNewPrivateFile(tmp, JSON.stringify({ url: endpoint.url, pid: endpoint.pid }) + '\n')
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Forget the endpoint on shutdown; a missing file is fine. */
export async function removeApiEndpoint(dataDir: string): Promise<void> {
  await rm(join(dataDir, ENDPOINT_FILE), { force: true })
}
