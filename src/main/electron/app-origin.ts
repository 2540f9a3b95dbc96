/**
 * Where the desktop UI lives and where it may go. The window loads the UI from
 * a privileged `app://kaiwa` scheme instead of `file://`: the page gets one
 * fixed origin to check senders, permissions and navigation against, and
 * file:// would grant the page every other local file as "same origin".
 */

export const APP_SCHEME = 'app'
export const APP_HOST = 'kaiwa'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

/** Longest URL handed to the system browser; anything longer is suspicious. */
const MAX_EXTERNAL_URL_CHARS = 2048

function parse(url: unknown): URL | undefined {
  if (typeof url !== 'string') return undefined
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/**
 * True for URLs (or origins) of our UI. Compares scheme and host by hand: the
 * WHATWG URL parser gives non-special schemes the opaque origin "null", so
 * `url.origin` cannot be compared. Chromium canonicalises a standard scheme's
 * host to lower case, so an exact match is both correct and strict.
 */
export function isAppUrl(url: unknown): boolean {
  const u = parse(url)
  return (
    u !== undefined &&
    u.protocol === `${APP_SCHEME}:` &&
    u.host === APP_HOST &&
    u.username === '' &&
    u.password === ''
  )
}

export type NavigationDecision = 'allow' | 'open-external' | 'deny'

/**
 * What to do when the page tries to leave itself: stay inside the UI, or hand
 * an https link (say, one in a chat message) to the system browser. Nothing
 * else is opened: `shell.openExternal` with file:, smb: or custom schemes is a
 * classic Electron code-execution path.
 */
export function navigationDecision(url: string): NavigationDecision {
  if (isAppUrl(url)) return 'allow'
  return isSafeExternalUrl(url) ? 'open-external' : 'deny'
}

/** New windows are never opened in the app; https links go to the browser. */
export function windowOpenDecision(url: string): Exclude<NavigationDecision, 'allow'> {
  return isSafeExternalUrl(url) ? 'open-external' : 'deny'
}

export function isSafeExternalUrl(url: string): boolean {
  if (url.length > MAX_EXTERNAL_URL_CHARS) return false
  const u = parse(url)
  return u !== undefined && u.protocol === 'https:' && u.hostname !== '' && u.username === ''
}

/**
 * Requests the window's session may make. The UI talks to its node over IPC,
 * so it needs nothing from the network: its own files, data:/blob: URLs it
 * creates, and DevTools' own pages. WebRTC media (ICE, STUN, TURN) does not go
 * through this filter.
 */
export function isAllowedRequest(url: string): boolean {
  const u = parse(url)
  if (u === undefined) return false
  if (u.protocol === `${APP_SCHEME}:`) return isAppUrl(url)
  return u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'devtools:'
}
