/**
 * Which screen or window the page's getDisplayMedia() gets in the desktop
 * app (session.setDisplayMediaRequestHandler). Only our window's top frame
 * on our origin, only during a call, only on a user gesture (the click in
 * our picker; Electron's `request.userGesture`), only video, and only the
 * source the user picked there (MediaGate.take). No system audio: Kaiwa
 * sends the microphone already, and loopback audio would echo the call.
 */
import { isAppUrl } from './app-origin.js'

export interface DisplayMediaRequestInfo {
  fromOurWindow: boolean
  isMainFrame: boolean
  /** `request.securityOrigin`. */
  origin: string | undefined
  userGesture: boolean
  videoRequested: boolean
  callActive: boolean
}

export type DisplayMediaDecision = { allow: true; sourceId: string } | { allow: false; why: string }

/** `take` hands out the picked source (used up either way once asked). */
export function decideDisplayMedia(
  r: DisplayMediaRequestInfo,
  take: () => string | undefined,
): DisplayMediaDecision {
  if (!r.fromOurWindow || !r.isMainFrame || !isAppUrl(r.origin))
    return { allow: false, why: 'not our page' }
  if (!r.callActive) return { allow: false, why: 'no call under way' }
  if (!r.userGesture) return { allow: false, why: 'no user gesture' }
  if (!r.videoRequested) return { allow: false, why: 'no video asked for' }
  const sourceId = take()
  if (sourceId == null) return { allow: false, why: 'no source picked in the picker' }
  return { allow: true, sourceId }
}
