/**
 * Chromium permissions for the desktop UI. The one thing it may get is the
 * microphone, and only while the UI has said a call is starting or running
 * (call-gate.ts), only from our window's top frame and origin, and never the
 * camera (Kaiwa calls are audio only). Everything else (notifications through
 * the web API, geolocation, clipboard, MIDI, HID, ...) is denied: desktop
 * notifications go through the preload instead.
 */
import { isAppUrl } from './app-origin.js'

export interface PermissionRequestInfo {
  permission: string
  /** The requesting frame's URL (Electron's `details.requestingUrl`). */
  requestingUrl: string | undefined
  isMainFrame: boolean
  /** For `media`: what the page asked for. */
  mediaTypes: readonly string[] | undefined
  fromOurWindow: boolean
  callActive: boolean
}

/** setPermissionRequestHandler: getUserMedia({audio: true}) during a call, nothing else. */
export function allowPermissionRequest(r: PermissionRequestInfo): boolean {
  return (
    r.permission === 'media' &&
    r.fromOurWindow &&
    r.isMainFrame &&
    r.callActive &&
    isAppUrl(r.requestingUrl) &&
    r.mediaTypes !== undefined &&
    r.mediaTypes.length > 0 &&
    r.mediaTypes.every((t) => t === 'audio')
  )
}

export interface PermissionCheckInfo {
  permission: string
  /** `requestingOrigin`, or `details.securityOrigin` when Electron gives one. */
  origin: string | undefined
  /** For `media`: Electron's `details.mediaType` ('audio', 'video' or 'unknown'). */
  mediaType: string | undefined
  fromOurWindow: boolean
  callActive: boolean
}

/**
 * setPermissionCheckHandler: the synchronous "is it granted?" queries (e.g.
 * before enumerateDevices reveals device labels). Same rule as requests.
 */
export function allowPermissionCheck(c: PermissionCheckInfo): boolean {
  return (
    c.permission === 'media' &&
    c.mediaType === 'audio' &&
    c.fromOurWindow &&
    c.callActive &&
    isAppUrl(c.origin)
  )
}
