/**
 * The receiver's partial file: chunks written at their offsets as they are
 * verified, flushed before the bitmap that says so is saved, hashed whole at
 * the end and only then moved to its final name. A disk that fills up is a
 * DiskFullError (the partial file stays for resuming), never a silent stop.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, mkdir, open, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { KaiwaError } from '../../shared/errors.js'

/** No space left on the receiving disk (or the user's quota is used up). */
export class DiskFullError extends KaiwaError {
  constructor(dir: string, cause?: unknown) {
    super(`no space left in ${dir}`, 'unavailable', { cause })
    this.name = 'DiskFullError'
  }
}

/** Any other failure to write or read the partial file. */
export class PartFileError extends KaiwaError {
  constructor(message: string, cause?: unknown) {
    super(message, 'internal', { cause })
    this.name = 'PartFileError'
  }
}

const isDiskFull = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

export function partPathFor(dir: string, idHex: string): string {
  return join(dir, `.kaiwa-${idHex}.part`)
}

export class PartFile {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly dir: string,
  ) {}

  /** Opens (creating if needed) the partial file; its folder is created too. */
  static async open(path: string, dir: string): Promise<PartFile> {
    try {
      await mkdir(dir, { recursive: true })
      const fh = await open(path, 'r+').catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
        return open(path, 'w+')
      })
      return new PartFile(fh, path, dir)
    } catch (err) {
      if (isDiskFull(err)) throw new DiskFullError(dir, err)
      throw new PartFileError(`cannot open ${path}: ${String(err)}`, err)
    }
  }

  /** Write `data` (one array, or pieces in order, written with one writev) at `position`. */
  async write(data: Uint8Array | Uint8Array[], position: number): Promise<void> {
    try {
      let pieces = Array.isArray(data) ? data : [data]
      let pos = position
      while (pieces.length > 0) {
        const { bytesWritten } = await this.fh.writev(pieces, pos)
        pos += bytesWritten
        // A short write: go on from the first byte not written.
        let skip = bytesWritten
        while (pieces.length > 0 && skip >= pieces[0]!.length) {
          skip -= pieces[0]!.length
          pieces = pieces.slice(1)
        }
        if (skip > 0) pieces = [pieces[0]!.subarray(skip), ...pieces.slice(1)]
      }
    } catch (err) {
      if (isDiskFull(err)) throw new DiskFullError(this.dir, err)
      throw new PartFileError(`cannot write ${this.path}: ${String(err)}`, err)
    }
  }

  /** Data written so far is on disk (before the bitmap claiming it is saved). */
  async sync(): Promise<void> {
    try {
      await this.fh.datasync()
    } catch (err) {
      if (isDiskFull(err)) throw new DiskFullError(this.dir, err)
      throw new PartFileError(`cannot flush ${this.path}: ${String(err)}`, err)
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {})
  }
}

/** SHA-256 of a whole file, read in a stream (flat memory for any size). */
export async function hashFile(path: string): Promise<Uint8Array> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer)
  return new Uint8Array(hash.digest())
}

/**
 * Move the verified partial file to `name` in `dir`, as `name (2).ext` etc.
 * when that is taken. Returns the final path.
 */
export async function moveIntoPlace(partPath: string, dir: string, name: string): Promise<string> {
  const ext = extname(name)
  const stem = ext.length > 0 && ext.length < name.length ? name.slice(0, -ext.length) : name
  for (let n = 1; n < 10_000; n++) {
    const candidate = join(dir, n === 1 ? name : `${stem} (${n})${ext}`)
    const taken = await access(candidate).then(
      () => true,
      () => false,
    )
    if (taken) continue
    await rename(partPath, candidate)
    return candidate
  }
  throw new PartFileError(`no free name for ${name} in ${dir}`)
}

export async function removePart(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => {})
}
