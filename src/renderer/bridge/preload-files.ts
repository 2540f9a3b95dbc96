/**
 * FileBytes in the desktop app: the node runs on this machine, so a file the
 * user picked or dropped is handed over by its path on disk (the preload's
 * webUtils), and the node reads it there. A file that exists only in memory
 * (a pasted screenshot) has no path and is refused with a clear error; a
 * received file is in the downloads folder, where the user opens it.
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
    content() {
      return Promise.reject(
        new ApiError(
          'unavailable',
          'The desktop app does not show received files yet: open them from your downloads folder.',
        ),
      )
    },
  }
}
