/**
 * Received files in the desktop app (issue 15 §1): **Save** copies a
 * verified file to where the user picks in a save-as dialog, and an image's
 * preview gets the file's bytes. The page names only a transfer id (checked
 * against the contract's FileIdSchema before it gets here); the path to read
 * comes from this machine's node, and only for a file it lists as received
 * whole with its SHA-256 verified (or for a file it sent). Both hash the
 * bytes they hand on against that SHA-256 again, so a file changed on disk
 * since it was verified is never saved or shown as the received one. The
 * dialog is injected (Electron's `dialog.showSaveDialog` in main.ts), so this
 * is tested without Electron.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { apiContract } from '../../shared/api/contract.js'
import type { ApiMethod, FileTransferJson } from '../../shared/api/contract.js'
import { safeFileName } from '../../shared/files/file-offer.js'
import { PREVIEW_MAX_BYTES, isPreviewable } from '../../shared/files/preview-policy.js'
import type { Logger } from '../../shared/logger.js'
import { failure, ok } from './ipc-validation.js'
import type { IpcReply } from './ipc-validation.js'

export interface DesktopFilesDeps {
  /** A contract call to this machine's node (the node link). */
  call: (method: ApiMethod, input: unknown) => Promise<IpcReply>
  /** The save-as dialog, opened at `defaultName`; the chosen path, or undefined if cancelled. */
  saveDialog: (defaultName: string) => Promise<string | undefined>
  log: Logger
}

export interface DesktopFiles {
  /** Copy received file `id` to a place the user picks: the path, or null when cancelled. */
  save(id: string): Promise<IpcReply<string | null>>
  /** The bytes of image `id` (received and verified, or sent) for its preview. */
  preview(id: string): Promise<IpcReply<Uint8Array>>
}

const CHANGED =
  'the file changed on disk since its SHA-256 was verified; it is not the file that was received'

export function createDesktopFiles(deps: DesktopFilesDeps): DesktopFiles {
  /** The node's view of transfer `id`, or the failure to give the page. */
  const find = async (id: string): Promise<FileTransferJson | IpcReply<never>> => {
    const reply = await deps.call('transfers', {})
    if (!reply.ok) return reply
    const parsed = apiContract.transfers.output.safeParse(reply.result)
    if (!parsed.success) return failure('internal', 'the node sent an unexpected transfer list')
    const tr = parsed.data.transfers.find((t) => t.id === id)
    return tr ?? failure('not_found', `no file transfer ${id}`)
  }

  return {
    async save(id) {
      const tr = await find(id)
      if ('ok' in tr) return tr
      if (tr.direction !== 'in' || tr.status !== 'complete' || tr.path == null)
        return failure('conflict', `${tr.name} has not been received and verified`)
      const dest = await deps.saveDialog(safeFileName(tr.name))
      if (dest === undefined) return ok(null)
      try {
        await copyVerified(tr.path, dest, tr.sha256)
      } catch (err) {
        if (err instanceof ChangedOnDiskError) return failure('conflict', CHANGED)
        return failure('unavailable', `could not save ${tr.name}: ${(err as Error).message}`)
      }
      deps.log.info(`saved received file ${tr.name} to ${dest}`)
      return ok(dest)
    },

    async preview(id) {
      const tr = await find(id)
      if ('ok' in tr) return tr
      if (tr.path == null || (tr.direction === 'in' && tr.status !== 'complete'))
        return failure('conflict', `${tr.name} has not been received and verified`)
      if (!isPreviewable(tr.mime, tr.size))
        return failure('invalid_input', `${tr.name} is not an image that gets a preview`)
      try {
        return ok(await readVerified(tr.path, tr.size, tr.sha256))
      } catch (err) {
        if (err instanceof ChangedOnDiskError) return failure('conflict', CHANGED)
        return failure('not_found', `${tr.name} cannot be read: ${(err as Error).message}`)
      }
    },
  }
}

/** The bytes on disk are not the ones whose SHA-256 was verified. */
export class ChangedOnDiskError extends Error {
  constructor(path: string) {
    super(`${path} does not match its verified SHA-256`)
    this.name = 'ChangedOnDiskError'
  }
}

/**
 * Copy `from` to `to` through a temporary file beside `to`, hashing as it
 * goes; only a copy whose SHA-256 is `sha256Hex` is renamed into place (an
 * existing file at `to`, which the dialog asked about, is replaced only then).
 */
export async function copyVerified(from: string, to: string, sha256Hex: string): Promise<void> {
  const hash = createHash('sha256')
  const tmp = join(dirname(to), `.${basename(to)}.kaiwa-saving`)
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })
  try {
    // A copy left over by a crash is ours to replace.
    await rm(tmp, { force: true })
    await pipeline(
      createReadStream(from, { highWaterMark: 1024 * 1024 }),
      tap,
      createWriteStream(tmp),
    )
    if (hash.digest('hex') !== sha256Hex) throw new ChangedOnDiskError(from)
    await rename(tmp, to)
  } finally {
    await rm(tmp, { force: true }).catch(() => {})
  }
}

/** The whole of `path` when it is `size` bytes (at most the preview cap) and hashes to `sha256Hex`. */
export async function readVerified(
  path: string,
  size: number,
  sha256Hex: string,
): Promise<Uint8Array> {
  if (size > PREVIEW_MAX_BYTES) throw new Error('over the preview size')
  const fh = await open(path, 'r')
  try {
    // One byte more than expected shows a file that grew.
    const buf = new Uint8Array(size + 1)
    let off = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off)
      if (bytesRead === 0) break
      off += bytesRead
      if (off === buf.length) break
    }
    const bytes = buf.subarray(0, off)
    if (off !== size || createHash('sha256').update(bytes).digest('hex') !== sha256Hex)
      throw new ChangedOnDiskError(path)
    return bytes
  } finally {
    await fh.close()
  }
}
