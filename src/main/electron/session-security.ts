/**
 * The window's session, locked down: the UI is served from `app://kaiwa`
 * with a strict CSP, network requests other than the UI's own files are
 * cancelled, downloads and device (USB/HID/serial) access are refused, and the
 * only permissions ever granted are the microphone during a call, the camera
 * and a picked screen during a call when the user asked for them
 * (permission-policy.ts, display-media-policy.ts). The session is injected,
 * so this is tested without Electron.
 */
import { readFile as fsReadFile } from 'node:fs/promises'
import type { Session, WebContents, WebFrameMain } from 'electron'
import type { Logger } from '../../shared/logger.js'
import { APP_SCHEME, isAllowedRequest } from './app-origin.js'
import { uiResponseHeaders } from './csp.js'
import { decideDisplayMedia } from './display-media-policy.js'
import { allowPermissionCheck, allowPermissionRequest } from './permission-policy.js'
import { resolveUiFile, uiContentType } from './ui-files.js'

export type SessionLike = Pick<
  Session,
  | 'protocol'
  | 'webRequest'
  | 'setPermissionRequestHandler'
  | 'setPermissionCheckHandler'
  | 'setDevicePermissionHandler'
  | 'setDisplayMediaRequestHandler'
  | 'on'
>

export interface SessionSecurityOptions {
  session: SessionLike
  /** The built UI (dist/ui). */
  uiRoot: string
  isOurContents: (contents: WebContents | null) => boolean
  /** The frame is in our window (main.ts: `webContents.fromFrame`). */
  isOurFrame: (frame: WebFrameMain) => boolean
  callActive: () => boolean
  /** The camera gate (MediaGate.camera). */
  cameraActive: () => boolean
  /** A picked screen awaits getDisplayMedia (MediaGate.screenArmed). */
  screenArmed: () => boolean
  /** The picked screen, used up (MediaGate.take). */
  takeScreen: () => string | undefined
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
      cameraActive: opts.cameraActive(),
      screenArmed: opts.screenArmed(),
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
      cameraActive: opts.cameraActive(),
    }),
  )
  session.setDisplayMediaRequestHandler((request, callback) => {
    const frame = request.frame
    const decision = decideDisplayMedia(
      {
        fromOurWindow: frame != null && opts.isOurFrame(frame),
        isMainFrame: frame != null && frame.parent === null,
        origin: request.securityOrigin,
        userGesture: request.userGesture,
        videoRequested: request.videoRequested,
        callActive: opts.callActive(),
      },
      opts.takeScreen,
    )
    if (!decision.allow) {
      log.info(`refused screen capture: ${decision.why}`)
      callback(null)
      return
    }
    callback({ video: { id: decision.sourceId, name: 'Kaiwa screen share' } })
  })
  session.setDevicePermissionHandler(() => false)

  session.webRequest.onBeforeRequest((details, callback) => {
    const cancel = !isAllowedRequest(details.url)
    if (cancel) log.warn(`blocked a request to ${details.url.slice(0, 200)}`)
    callback({ cancel })
  })
  session.on('will-download', (event) => event.preventDefault())
}
