/**
 * The window's session, locked down: the UI is served from `app://kaiwa`
 * with a strict CSP, network requests other than the UI's own files are
 * cancelled, downloads and device (USB/HID/serial) access are refused, and the
 * only permission ever granted is the microphone during a call
 * (permission-policy.ts). The session is injected, so this is tested without
 * Electron.
 */
import { readFile as fsReadFile } from 'node:fs/promises'
import type { Session, WebContents } from 'electron'
import type { Logger } from '../../shared/logger.js'
import { APP_SCHEME, isAllowedRequest } from './app-origin.js'
import { uiResponseHeaders } from './csp.js'
import { allowPermissionCheck, allowPermissionRequest } from './permission-policy.js'
import { resolveUiFile, uiContentType } from './ui-files.js'

export type SessionLike = Pick<
  Session,
  | 'protocol'
  | 'webRequest'
  | 'setPermissionRequestHandler'
  | 'setPermissionCheckHandler'
  | 'setDevicePermissionHandler'
  | 'on'
>

export interface SessionSecurityOptions {
  session: SessionLike
  /** The built UI (dist/ui). */
  uiRoot: string
  isOurContents: (contents: WebContents | null) => boolean
  callActive: () => boolean
  log: Logger
  readFile?: (path: string) => Promise<Uint8Array>
}

/** One response of the `app:` protocol: a UI file with the security headers, or 404. */
export async function serveUi(
  url: string,
  uiRoot: string,
  readFile: (path: string) => Promise<Uint8Array> = fsReadFile,
): Promise<Response> {
  const headers = uiResponseHeaders()
  const file = resolveUiFile(url, uiRoot)
  if (file !== undefined) {
    try {
      const body = await readFile(file)
      return new Response(body as Uint8Array<ArrayBuffer>, {
        status: 200,
        headers: { ...headers, 'content-type': uiContentType(file) },
      })
    } catch {
      // missing or unreadable: 404 below
    }
  }
  return new Response('not found', {
    status: 404,
    headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
  })
}

export function secureSession(opts: SessionSecurityOptions): void {
  const { session, log } = opts
  session.protocol.handle(APP_SCHEME, (request) => serveUi(request.url, opts.uiRoot, opts.readFile))

  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    const allowed = allowPermissionRequest({
      permission,
      requestingUrl: details.requestingUrl,
      isMainFrame: details.isMainFrame,
      mediaTypes: 'mediaTypes' in details ? details.mediaTypes : undefined,
      fromOurWindow: opts.isOurContents(contents),
      callActive: opts.callActive(),
    })
    if (!allowed) log.info(`denied the ${permission} permission to ${details.requestingUrl}`)
    callback(allowed)
  })
  session.setPermissionCheckHandler((contents, permission, requestingOrigin, details) =>
    allowPermissionCheck({
      permission,
      origin: details.securityOrigin ?? requestingOrigin,
      mediaType: details.mediaType,
      fromOurWindow: opts.isOurContents(contents),
      callActive: opts.callActive(),
    }),
  )
  session.setDevicePermissionHandler(() => false)

  session.webRequest.onBeforeRequest((details, callback) => {
    const cancel = !isAllowedRequest(details.url)
    if (cancel) log.warn(`blocked a request to ${details.url.slice(0, 200)}`)
    callback({ cancel })
  })
  session.on('will-download', (event) => event.preventDefault())
}
