/**
 * FileBytes over the node's HTTP routes (src/main/api/file-routes.ts), with
 * the same bearer token as the API: a file goes up as the request body (the
 * browser streams a File from disk; nothing is base64'd or held in JSON), and
 * a received file comes down as a Blob the page shows through a blob: URL.
 */
import type { FileBytes } from '../../shared/api/bridge.js'
import {
  API_PREFIX,
  ApiErrorBodySchema,
  FileTransferJsonSchema,
} from '../../shared/api/contract.js'
import type { FileTransferJson } from '../../shared/api/contract.js'
import { ApiError } from './api-error.js'

export interface WebFilesOptions {
  baseUrl: string
  token: string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

async function failure(res: Response): Promise<ApiError> {
  const body: unknown = await res.json().catch(() => undefined)
  const parsed = ApiErrorBodySchema.safeParse(body)
  if (parsed.success) return new ApiError(parsed.data.error.code, parsed.data.error.message)
  return new ApiError('internal', `Your Kaiwa node answered ${res.status}.`)
}

export function createWebFiles(opts: WebFilesOptions): FileBytes {
  const base = `${opts.baseUrl.replace(/\/$/, '')}${API_PREFIX}`
  const auth = { authorization: `Bearer ${opts.token}` }
  const request = async (url: string, init: RequestInit): Promise<Response> => {
    const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis)
    try {
      return await fetchFn(url, init)
    } catch {
      throw new ApiError('disconnected', 'Could not reach your Kaiwa node. Try again.')
    }
  }
  return {
    async send(to, file, name): Promise<FileTransferJson> {
      const q = new URLSearchParams({ to, name })
      const res = await request(`${base}/file-upload?${q.toString()}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: file,
      })
      if (!res.ok) throw await failure(res)
      const out = FileTransferJsonSchema.safeParse(
        ((await res.json()) as { transfer?: unknown }).transfer,
      )
      if (!out.success)
        throw new ApiError('invalid_reply', 'The node sent an unexpected answer to the upload.')
      return out.data
    },
    async content(id) {
      const res = await request(`${base}/file-content/${encodeURIComponent(id)}`, {
        headers: auth,
      })
      if (!res.ok) throw await failure(res)
      return res.blob()
    },
  }
}
