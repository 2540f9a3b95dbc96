/**
 * Serves the UI bundle (dist/ui) for `kaiwa node --ui`, from memory: the
 * files are read once at start-up, so a request never touches the disk and a
 * path can never escape the bundle. Every page carries a strict CSP: scripts
 * and styles only from this origin, network only back to this node's API.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { KaiwaError } from '../../shared/errors.js'
import { uiContentType } from '../ui-content-type.js'

/** The UI bundle is missing: the user must build it first. */
export class UiBundleMissingError extends KaiwaError {
  constructor(dir: string) {
    super(`the UI bundle is not built (no ${join(dir, 'index.html')}); run: npm run build`)
    this.name = 'UiBundleMissingError'
  }
}

/** Where the built UI lives, relative to this module in the bundle or in dist/main/api. */
export async function findUiDir(): Promise<string> {
  const candidates = ['./ui/', '../../ui/', '../../../dist/ui/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  )
  for (const dir of candidates) {
    if (await stat(join(dir, 'index.html')).catch(() => undefined)) return dir
  }
  throw new UiBundleMissingError(candidates[0]!)
}

export function uiCsp(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walk(p)))
    else if (e.isFile()) out.push(p)
  }
  return out
}

/** A static handler for startApiServer; `port()` is the server's port (for the CSP). */
export async function createStaticUi(
  dir: string,
  port: () => number,
): Promise<(req: IncomingMessage, res: ServerResponse) => boolean> {
  const files = new Map<string, { body: Buffer; type: string }>()
  for (const file of await walk(dir)) {
    const path = '/' + relative(dir, file).split(sep).join('/')
    files.set(path, {
      body: await readFile(file),
      type: uiContentType(file),
    })
  }
  if (!files.has('/index.html')) throw new UiBundleMissingError(dir)
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const file = files.get(path === '/' ? '/index.html' : path)
    if (file == null) return false
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'content-security-policy': uiCsp(port()),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    })
    res.end(req.method === 'HEAD' ? undefined : file.body)
    return true
  }
}
