/**
 * Chromium permissions for the desktop UI, only from our window's top frame
 * and origin:
 *
 * - the microphone, only while the UI has said a call is starting or running
 *   (call-gate.ts);
 * - the camera, only while the UI has asked for it in a call under way (a
 *   video call or Camera turned on; media-gate.ts);
 * - display capture (screen sharing), only in a call, on a user gesture,
 *   with a source the user picked in our picker (display-media-policy.ts
 *   hands the source over);
 * - full screen (the far end's video), only in a call.
 *
 * Everything else (notifications through the web API, geolocation,
 * clipboard, MIDI, HID, ...) is denied: desktop notifications go through the
 * preload instead.
 */
import { isAppUrl } from './app-origin.js'

export interface PermissionRequestInfo {
  permission: string
  /** The requesting frame's URL (Electron's `details.requestingUrl`). */
  requestingUrl: string | undefined
  isMainFrame: boolean
  /** For `media`: what the page asked for ('audio', 'video'). */
  mediaTypes: readonly string[] | undefined
  fromOurWindow: boolean
  callActive: boolean
  /** The camera may be used (MediaGate.camera: in a call, asked for). @default false */
  cameraActive?: boolean
  /** A screen source was picked in this call and awaits capture (MediaGate.screenArmed). @default false */
  screenArmed?: boolean
}

const fromUs = (r: { fromOurWindow: boolean; isMainFrame: boolean; requestingUrl?: string }) =>
  r.fromOurWindow && r.isMainFrame && isAppUrl(r.requestingUrl)

/** The kinds a `media` request may have: audio in a call, video with the camera gate open. */
function mediaAllowed(kind: string, callActive: boolean, cameraActive: boolean): boolean {
  if (kind === 'audio') return callActive
  if (kind === 'video') return callActive && cameraActive
  return false
}

/** setPermissionRequestHandler: the microphone and camera as above, display capture armed. */
export function allowPermissionRequest(r: PermissionRequestInfo): boolean {
  if (!fromUs(r) || !r.callActive) return false
  if (r.permission === 'display-capture') return r.screenArmed === true
  if (r.permission === 'fullscreen') return true
  return (
    r.permission === 'media' &&
    r.mediaTypes !== undefined &&
    r.mediaTypes.length > 0 &&
    r.mediaTypes.every((t) => mediaAllowed(t, r.callActive, r.cameraActive === true))
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
  /** @default false */
  cameraActive?: boolean
}

/**
 * setPermissionCheckHandler: the synchronous "is it granted?" queries (e.g.
 * before enumerateDevices reveals device labels). Same rule as requests.
 */
export function allowPermissionCheck(c: PermissionCheckInfo): boolean {
  return (
    c.permission === 'media' &&
    c.mediaType !== undefined &&
    mediaAllowed(c.mediaType, c.callActive, c.cameraActive === true) &&
    c.fromOurWindow &&
    isAppUrl(c.origin)
  )
}
