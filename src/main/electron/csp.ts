/**
 * The desktop UI's Content Security Policy, sent with every file the `app:`
 * protocol serves. The page talks to its node over IPC, so it needs no
 * network at all: scripts and styles only from the bundle, nothing inline,
 * nothing framed. (The headless web UI has its own policy, which also allows
 * the WebSocket back to its node: src/main/api/static-ui.ts.)
 */

const DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  // QR codes and avatars are drawn into data: or blob: URLs.
  ['img-src', "'self' data: blob:"],
  // Ringtones from the bundle; call audio is a MediaStream.
  ['media-src', "'self' blob: mediastream:"],
  ['font-src', "'self'"],
  ['connect-src', "'self'"],
  ['worker-src', "'self'"],
  ['manifest-src', "'self'"],
  ['object-src', "'none'"],
  ['frame-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
]

export const DESKTOP_CSP = DIRECTIVES.map(([name, value]) => `${name} ${value}`).join('; ')

/** Headers for every response of the UI protocol. */
export function uiResponseHeaders(): Record<string, string> {
  return {
    'content-security-policy': DESKTOP_CSP,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  }
}
