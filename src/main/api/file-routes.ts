/**
 * The control API's two byte routes for file transfer in the UI (issue 15 §1),
 * beside the JSON methods and behind the same token, Host and Origin checks:
 *
 * - `POST /api/v1/file-upload?to=NAME&name=FILE`: the body is the file's raw
 *   bytes, streamed to DATA/uploads/<random>/FILE (never buffered, never
 *   base64 in JSON), capped at the file settings' `maxMiB`; then offered to
 *   NAME as `sendFile` would. Answers `{transfer}`.
 * - `GET /api/v1/file-content/<id>`: the bytes of a received file whose whole
 *   SHA-256 matched, or of a sent one, as an attachment that no browser runs
 *   (octet-stream unless a raster image, nosniff, a sandboxing CSP).
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname, join, relative } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { API_PREFIX } from '../../shared/api/contract.js'
import type { FileTransferJson } from '../../shared/api/contract.js'
import { KaiwaError } from '../../shared/errors.js'
import { safeFileName } from '../../shared/files/file-offer.js'
import { normalizeUserId } from '../../shared/user-id.js'
import type { RawRoutes } from './api-server.js'
import { sendError as error, sendJson as json } from './local-http.js'

export const UPLOAD_PATH = `${API_PREFIX}/file-upload`
export const CONTENT_PATH = `${API_PREFIX}/file-content/`

/** An upload longer than the cap: answered 413 before or while it streams. */
export class UploadTooLargeError extends KaiwaError {
  constructor(readonly limit: number) {
    super(
      `the file is larger than the ${limit >= 1048576 ? `${Math.floor(limit / 1048576)} MiB` : `${limit} bytes`} this node sends ` +
        '(Settings → Files → largest file)',
      'invalid_input',
    )
    this.name = 'UploadTooLargeError'
  }
}

export interface FileRoutesInit {
  /** Where uploads wait while they are offered and sent (DATA/uploads). */
  stagingDir: string
  /** The largest upload in bytes (the file settings' maxMiB). */
  maxBytes: () => Promise<number>
  /** The transfer `id` as the API shows it (FileTransfers.view); throws when unknown. */
  view: (id: string) => Promise<FileTransferJson>
  log: (msg: string) => void
}

/** Image types a browser only ever decodes (no SVG: it can carry script). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/** Answer before the body is read: let Node drain the rest so the client reads the answer. */
function refuse(req: IncomingMessage, res: ServerResponse, s: number, c: string, m: string): void {
  error(res, s, c, m)
  req.resume()
}

/** Counts bytes through and fails once there are more than `limit`. */
function cap(limit: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length
      if (seen > limit) done(new UploadTooLargeError(limit))
      else done(null, chunk)
    },
  })
}

/** States after which a sender never reads its file again. */
const DONE = new Set(['complete', 'mailed', 'declined', 'failed', 'cancelled'])

/**
 * Removes an uploaded file's staging folder once its transfer is over (the
 * user still has the original); only ever a folder inside `stagingDir`.
 * Resolves true when it removed one.
 */
export async function dropStagedUpload(
  stagingDir: string,
  view: Pick<FileTransferJson, 'direction' | 'status' | 'path'>,
): Promise<boolean> {
  if (view.direction !== 'out' || !DONE.has(view.status) || view.path == null) return false
  const dir = dirname(view.path)
  const rel = relative(stagingDir, dir)
  if (rel === '' || rel.startsWith('..') || /[\\/]/.test(rel)) return false
  await rm(dir, { recursive: true, force: true })
  return true
}

export function createFileRoutes(init: FileRoutesInit): RawRoutes {
  async function upload(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    invoke: Parameters<RawRoutes>[0]['invoke'],
  ): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return refuse(req, res, 405, 'invalid_input', `use POST for ${UPLOAD_PATH}`)
    }
    const to = url.searchParams.get('to') ?? ''
    const given = url.searchParams.get('name') ?? ''
    if (to === '' || given === '')
      return refuse(req, res, 400, 'invalid_input', 'give ?to=USER&name=FILE_NAME')
    if (given.length > 255)
      return refuse(req, res, 400, 'invalid_input', 'the file name is longer than 255 characters')
    try {
      normalizeUserId(to)
    } catch (err) {
      return refuse(req, res, 400, 'invalid_user_id', (err as Error).message)
    }
    const limit = await init.maxBytes()
    const declared = req.headers['content-length']
    if (declared != null && !/^\d+$/.test(declared))
      return refuse(req, res, 400, 'invalid_input', 'Content-Length is not a number')
    if (declared != null && Number(declared) > limit)
      return refuse(req, res, 413, 'too_large', new UploadTooLargeError(limit).message)
    const dir = join(init.stagingDir, randomBytes(12).toString('hex'))
    const path = join(dir, safeFileName(given))
    await mkdir(dir, { recursive: true, mode: 0o700 })
    try {
      await pipeline(req, cap(limit), createWriteStream(path, { flags: 'wx', mode: 0o600 }))
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      if (err instanceof UploadTooLargeError) {
        res.setHeader('connection', 'close')
        return refuse(req, res, 413, 'too_large', err.message)
      }
      // The browser went away mid-upload: nothing to answer, nothing kept.
      init.log(`file upload ended early: ${(err as Error).message}`)
      return error(res, 400, 'invalid_input', 'the upload ended before the whole file arrived')
    }
    if (declared != null && (await stat(path)).size !== Number(declared)) {
      await rm(dir, { recursive: true, force: true })
      return error(res, 400, 'invalid_input', 'the upload is shorter than its Content-Length')
    }
    const outcome = await invoke('sendFile', { to, path })
    if (outcome.ok) return json(res, 200, outcome.result)
    await rm(dir, { recursive: true, force: true })
    error(res, outcome.status, outcome.code, outcome.message)
  }

  async function content(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return refuse(req, res, 405, 'invalid_input', 'use GET for file content')
    }
    if (!/^[0-9a-f]{32}$/.test(id))
      return error(res, 400, 'invalid_input', 'a transfer id is 32 hex digits')
    const view = await init.view(id).catch(() => undefined)
    if (view == null) return error(res, 404, 'not_found', `no file transfer ${id}`)
    if (view.direction === 'in' && view.status !== 'complete')
      return error(res, 409, 'conflict', `${view.name} is not (yet) received and verified`)
    const info = view.path != null ? await stat(view.path).catch(() => undefined) : undefined
    if (view.path == null || info == null || !info.isFile())
      return error(res, 404, 'not_found', `${view.name} is no longer on this machine`)
    const type = INLINE_IMAGES.has(view.mime) ? view.mime : 'application/octet-stream'
    res.writeHead(200, {
      'content-type': type,
      'content-length': info.size,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(view.name)}`,
      'content-security-policy': "default-src 'none'; sandbox",
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    })
    if (req.method === 'HEAD') return void res.end()
    await pipeline(createReadStream(view.path), res).catch((err: Error) =>
      init.log(`file content ${id} ended early: ${err.message}`),
    )
  }

  return async ({ req, res, path, invoke }) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (path === UPLOAD_PATH) {
      await upload(req, res, url, invoke)
      return true
    }
    if (path.startsWith(CONTENT_PATH)) {
      await content(req, res, path.slice(CONTENT_PATH.length))
      return true
    }
    return false
  }
}
