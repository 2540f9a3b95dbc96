/**
 * File transfer in the control API (issue 15 §1): send, list, answer offers,
 * pause, resume and cancel, over the node's FileTransfers. A transfer id
 * names one direction here; the receiving side's answers (accept, decline)
 * apply to incoming transfers, the rest to either.
 */
import { constants } from 'node:fs'
import { access, mkdir, stat } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { KaiwaApi } from '../../shared/api/contract.js'
import { InvalidInputError, NotFoundError } from '../../shared/errors.js'
import { normalizeUserId } from '../../shared/user-id.js'
import type { ApiComponents } from './api-components.js'

export type FileApi = Pick<
  KaiwaApi,
  | 'sendFile'
  | 'transfers'
  | 'files'
  | 'fileAccept'
  | 'fileDecline'
  | 'filePause'
  | 'fileResume'
  | 'fileCancel'
>

export function createFileApi(node: ApiComponents): FileApi {
  const { files } = node
  /** Which side keeps transfer `id`. */
  const side = async (id: string): Promise<'in' | 'out'> => {
    const view = await files.view(id).catch(() => undefined)
    if (view == null) throw new NotFoundError(`no file transfer ${id}`)
    return view.direction
  }
  const one = async (id: string) => ({ transfer: await files.view(id) })
  return {
    sendFile: async ({ to, path }) => {
      if (!isAbsolute(path))
        throw new InvalidInputError(`give the file's absolute path, not ${path}`)
      return { transfer: await files.send(normalizeUserId(to), resolve(path)) }
    },
    transfers: async () => ({ transfers: await files.list() }),
    files: async () => ({ files: await files.received() }),
    fileAccept: async ({ id }) => {
      if ((await side(id)) !== 'in')
        throw new InvalidInputError('only an incoming file is accepted')
      return { transfer: await files.accept(id) }
    },
    fileDecline: async ({ id }) => {
      if ((await side(id)) !== 'in')
        throw new InvalidInputError('only an incoming file is declined')
      await files.incoming.decline(id)
      return one(id)
    },
    filePause: async ({ id }) => {
      if ((await side(id)) === 'in') await files.incoming.pause(id)
      else await files.outgoing.pause(id)
      return one(id)
    },
    fileResume: async ({ id }) => {
      if ((await side(id)) === 'in') await files.accept(id)
      else await files.outgoing.resume(id)
      return one(id)
    },
    fileCancel: async ({ id }) => {
      if ((await side(id)) === 'in') await files.incoming.cancel(id)
      else await files.outgoing.cancel(id)
      return one(id)
    },
  }
}

/**
 * File settings from the API: a receive folder must be an absolute path to a
 * folder this node can write (created if missing), checked here so that
 * Settings says so at once rather than a file failing later.
 */
export async function checkedFiles<T extends { receiveDir?: string | undefined }>(
  files: T,
): Promise<T> {
  const dir = files.receiveDir
  if (dir == null) return files
  if (!isAbsolute(dir))
    throw new InvalidInputError(`the receive folder must be an absolute path, not ${dir}`)
  try {
    await mkdir(dir, { recursive: true })
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder')
    await access(dir, constants.W_OK)
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new InvalidInputError(`this node cannot write to the receive folder ${dir} (${why})`)
  }
  return { ...files, receiveDir: resolve(dir) }
}
