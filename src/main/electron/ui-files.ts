/**
 * Maps `app://kaiwa/<path>` requests to files of the built UI (dist/ui).
 * Anything that is not our host, or that would leave the UI directory after
 * decoding and normalising (`..`, encoded slashes, NUL), gets no file.
 */
import { extname, isAbsolute, join, normalize, relative, sep } from 'node:path'
import { isAppUrl } from './app-origin.js'

export function resolveUiFile(requestUrl: string, root: string): string | undefined {
  if (!isAppUrl(requestUrl)) return undefined
  let path: string
  try {
    path = decodeURIComponent(new URL(requestUrl).pathname)
  } catch {
    return undefined
  }
  if (path.includes('\0') || path.includes('\\')) return undefined
  // The URL parser already resolved literal dot segments; any left came from encoded slashes.
  if (path.split('/').some((s) => s === '..' || s === '.')) return undefined
  if (path === '' || path.endsWith('/')) path += 'index.html'
  const file = join(root, normalize(path))
  const rel = relative(root, file)
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined
  return file
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.webmanifest': 'application/manifest+json',
}

/** With `nosniff`, a wrong type breaks the page; unknown files are plain bytes. */
export function uiContentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}
