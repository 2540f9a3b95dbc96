/**
 * FileBytes in the desktop app: the node runs on this machine, so a file the
 * user picked or dropped is handed over by its path on disk (the preload's
 * webUtils), and the node reads it there. A file that exists only in memory
 * (a pasted screenshot) has no path and is refused with a clear error. A
 * received file is in the downloads folder; **Save** asks the main process,
 * which shows a save-as dialog and copies the verified file, and an image's
 * preview gets its bytes from the main process too (verified, up to the
 * preview cap). The page names only the transfer id, never a path.
 */
import type { FileBytes, PreloadApi } from '../../shared/api/bridge.js'
import { apiContract } from '../../shared/api/contract.js'
import { ApiError, toApiError } from './api-error.js'

export function createPreloadFiles(api: PreloadApi): FileBytes {
  return {
    async send(to, file) {
      const path =
        typeof File !== 'undefined' && file instanceof File ? api.desktop.filePath(file) : ''
      if (path === '')
        throw new ApiError(
          'invalid_input',
          'The desktop app sends files from disk: save this one to a file first, then send it.',
        )
      let result: unknown
      try {
        result = await api.call('sendFile', { to, path })
      } catch (err) {
        throw toApiError(err)
      }
      const out = apiContract.sendFile.output.safeParse(result)
      if (!out.success)
        throw new ApiError('invalid_reply', 'The node sent an unexpected answer to "sendFile".')
      return out.data.transfer
    },
    async content(id) {
      let bytes: unknown
      try {
        bytes = await api.desktop.filePreview(id)
      } catch (err) {
        throw toApiError(err)
      }
      if (!(bytes instanceof Uint8Array))
        throw new ApiError('invalid_reply', 'The app sent an unexpected answer for a preview.')
      return new Blob([bytes as Uint8Array<ArrayBuffer>])
    },
    async save(id) {
      let saved: unknown
      try {
        saved = await api.desktop.saveFile(id)
      } catch (err) {
        throw toApiError(err)
      }
      if (saved !== null && typeof saved !== 'string')
        throw new ApiError('invalid_reply', 'The app sent an unexpected answer to Save.')
      return saved !== null
    },
  }
}
