/**
 * Maps `app://kaiwa/<path>` requests to files of the built UI (dist/ui).
 * Anything that is not our host, or that would leave the UI directory after
 * decoding and normalising (`..`, encoded slashes, NUL), gets no file.
 */
import { isAbsolute, join, normalize, relative, sep } from 'node:path'
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

// Shared with `kaiwa node --ui`, which serves the same bundle.
export { uiContentType } from '../ui-content-type.js'
