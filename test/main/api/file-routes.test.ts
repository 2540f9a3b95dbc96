/**
 * The control API's file byte routes (file-routes.ts) on a real API server:
 * uploads stream to the staging folder and are offered through the
 * contract's sendFile; the token is required; the size cap answers 413
 * before and while a body streams; bad input gets a 4xx with a clear error;
 * file content comes down as an attachment no browser runs.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startApiServer } from '../../../src/main/api/api-server.js'
import type { ApiServer } from '../../../src/main/api/api-server.js'
import { createFileRoutes, dropStagedUpload } from '../../../src/main/api/file-routes.js'
import type { FileTransferJson, KaiwaApi } from '../../../src/shared/api/contract.js'
import { NotFoundError } from '../../../src/shared/errors.js'

const TOKEN = 'B'.repeat(43)
const CAP = 256 * 1024
const auth = { authorization: `Bearer ${TOKEN}` }

let home: string
let staging: string
let server: ApiServer
const sent: Array<{ to: string; path: string; bytes: Buffer }> = []
const views = new Map<string, FileTransferJson>()

const view = (over: Partial<FileTransferJson>): FileTransferJson => ({
  id: 'a'.repeat(32),
  direction: 'in',
  peer: 'bob',
  name: 'x.bin',
  mime: 'application/octet-stream',
  size: 0,
  sha256: '',
  status: 'complete',
  note: null,
  bytesDone: 0,
  rate: 0,
  secondsLeft: null,
  path: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
})

const api = {
  sendFile: async ({ to, path }) => {
    if (to === 'nobody') throw new NotFoundError('no user nobody in the overlay')
    const bytes = await readFile(path)
    sent.push({ to, path, bytes })
    return { transfer: view({ direction: 'out', peer: to, path, size: bytes.length }) }
  },
} as Partial<KaiwaApi> as KaiwaApi

beforeAll(async () => {
  home = join(tmpdir(), `kaiwa-file-routes-${process.pid}-${Date.now()}`)
  staging = join(home, 'uploads')
  await mkdir(home, { recursive: true })
  server = await startApiServer({
    port: 0,
    token: TOKEN,
    api,
    log: () => {},
    routes: createFileRoutes({
      stagingDir: staging,
      maxBytes: async () => CAP,
      view: async (id) => {
        const v = views.get(id)
        if (v == null) throw new NotFoundError(`no transfer ${id}`)
        return v
      },
      log: () => {},
    }),
  })
})

afterAll(async () => {
  await server?.close()
  await rm(home, { recursive: true, force: true })
})

beforeEach(() => {
  sent.length = 0
})

const upload = (query: string, body: BodyInit | null, headers: Record<string, string> = auth) =>
  fetch(`${server.url}/api/v1/file-upload?${query}`, { method: 'POST', headers, body })

/** A chunked upload (no Content-Length), as a stream the server must cap while reading. */
function chunked(query: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/api/v1/file-upload?${query}`,
      { method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    const piece = Buffer.alloc(16 * 1024, 7)
    let written = 0
    const more = (): void => {
      while (written < total) {
        written += piece.length
        if (!req.write(piece)) return void req.once('drain', more)
      }
      req.end()
    }
    more()
  })
}

const leftovers = async (): Promise<string[]> => readdir(staging).catch(() => [])

describe('POST /api/v1/file-upload', () => {
  it('streams the body to the staging folder and offers it through sendFile', async () => {
    const bytes = Buffer.alloc(200 * 1024)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251
    const res = await upload('to=bob&name=holiday%20photo.png', bytes)
    expect(res.status).toBe(200)
    const { transfer } = (await res.json()) as { transfer: FileTransferJson }
    expect(transfer.peer).toBe('bob')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.path.startsWith(staging)).toBe(true)
    expect(sent[0]!.path.endsWith('/holiday photo.png')).toBe(true)
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(hash(sent[0]!.bytes)).toBe(hash(bytes))
  })

  it('keeps a hostile name inside its own staging folder', async () => {
    const res = await upload(`to=bob&name=${encodeURIComponent('../../etc/passwd')}`, 'x')
    expect(res.status).toBe(200)
    expect(sent[0]!.path.startsWith(staging + '/')).toBe(true)
    expect(sent[0]!.path.endsWith('/passwd')).toBe(true)
  })

  it('requires the token', async () => {
    const before = await leftovers()
    const res = await upload('to=bob&name=a.txt', 'hello', {})
    expect(res.status).toBe(401)
    const wrong = await upload('to=bob&name=a.txt', 'hello', { authorization: 'Bearer nope' })
    expect(wrong.status).toBe(401)
    expect(sent).toHaveLength(0)
    expect(await leftovers()).toEqual(before)
  })

  it('refuses a declared size over the cap before reading it (413)', async () => {
    const before = await leftovers()
    const res = await upload('to=bob&name=big.bin', Buffer.alloc(CAP + 1))
    expect(res.status).toBe(413)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('too_large')
    expect(body.error.message).toBe(
      `the file is larger than the ${CAP} bytes this node sends (Settings → Files → largest file)`,
    )
    expect(sent).toHaveLength(0)
    expect(await leftovers()).toEqual(before)
  })

  it('stops a chunked body once it passes the cap (413) and keeps nothing', async () => {
    const before = await leftovers()
    const res = await chunked('to=bob&name=stream.bin', CAP * 4).catch((err: Error) => ({
      // The server may close before the client has written everything: that is a refusal too.
      status: 413,
      body: err.message,
    }))
    expect(res.status).toBe(413)
    expect(sent).toHaveLength(0)
    expect(await leftovers()).toEqual(before)
  })

  it('takes a chunked body under the cap', async () => {
    const res = await chunked('to=bob&name=small.bin', 64 * 1024)
    expect(res.status).toBe(200)
    expect(sent[0]!.bytes.length).toBe(64 * 1024)
  })

  it('answers bad input with a 4xx and a clear error', async () => {
    const before = await leftovers()
    const noTo = await upload('name=a.txt', 'x')
    expect(noTo.status).toBe(400)
    expect(((await noTo.json()) as { error: { message: string } }).error.message).toMatch(/to=/)
    const noName = await upload('to=bob', 'x')
    expect(noName.status).toBe(400)
    const badUser = await upload('to=Not%20A%20User!&name=a.txt', 'x')
    expect(badUser.status).toBe(400)
    expect(((await badUser.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_user_id',
    )
    const longName = await upload(`to=bob&name=${'n'.repeat(300)}`, 'x')
    expect(longName.status).toBe(400)
    const get = await fetch(`${server.url}/api/v1/file-upload?to=bob&name=a`, { headers: auth })
    expect(get.status).toBe(405)
    const unknown = await upload('to=nobody&name=a.txt', 'x')
    expect(unknown.status).toBe(404)
    expect(sent).toHaveLength(0)
    // Nothing refused stays in the staging folder.
    expect(await leftovers()).toEqual(before)
  })
})

describe('GET /api/v1/file-content/<id>', () => {
  it('serves a received file as an attachment the browser does not run', async () => {
    const path = join(home, 'page.html')
    await writeFile(path, '<script>alert(1)</script>')
    views.set(
      'b'.repeat(32),
      view({ id: 'b'.repeat(32), name: 'page.html', mime: 'text/html', path }),
    )
    const res = await fetch(`${server.url}/api/v1/file-content/${'b'.repeat(32)}`, {
      headers: auth,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename\*=UTF-8''page\.html$/,
    )
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain('sandbox')
    expect(await res.text()).toBe('<script>alert(1)</script>')
  })

  it('gives a raster image its type, for the preview', async () => {
    const path = join(home, 'dot.png')
    await writeFile(path, Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    views.set(
      'c'.repeat(32),
      view({ id: 'c'.repeat(32), name: 'dot.png', mime: 'image/png', path }),
    )
    const res = await fetch(`${server.url}/api/v1/file-content/${'c'.repeat(32)}`, {
      headers: auth,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
  })

  it('requires the token, a valid id, and a verified file', async () => {
    const id = 'd'.repeat(32)
    views.set(id, view({ id, status: 'receiving', path: null }))
    const url = (x: string) => `${server.url}/api/v1/file-content/${x}`
    expect((await fetch(url(id))).status).toBe(401)
    expect((await fetch(url('..%2F..%2Fapi-token'), { headers: auth })).status).toBe(400)
    expect((await fetch(url('e'.repeat(32)), { headers: auth })).status).toBe(404)
    const unfinished = await fetch(url(id), { headers: auth })
    expect(unfinished.status).toBe(409)
    views.set(id, view({ id, status: 'complete', path: join(home, 'gone.bin') }))
    expect((await fetch(url(id), { headers: auth })).status).toBe(404)
  })
})

describe('staged uploads', () => {
  it('are removed once their transfer is over, and nothing outside the staging folder ever is', async () => {
    const res = await upload('to=bob&name=done.txt', 'bytes')
    const path = sent[0]!.path
    const t = (await res.json()) as { transfer: FileTransferJson }
    const over = { ...t.transfer, status: 'complete' as const }
    expect(await dropStagedUpload(staging, { ...over, status: 'sending' })).toBe(false)
    expect(await dropStagedUpload(staging, { ...over, direction: 'in' })).toBe(false)
    await stat(path)
    expect(await dropStagedUpload(staging, over)).toBe(true)
    await expect(stat(path)).rejects.toThrow()
    // A file sent from the CLI (any path) is the user's own: never touched.
    const own = join(home, 'mine.txt')
    await writeFile(own, 'mine')
    expect(await dropStagedUpload(staging, { ...over, path: own })).toBe(false)
    expect(await dropStagedUpload(staging, { ...over, path: join(staging, 'x') })).toBe(false)
    await stat(own)
  })
})
