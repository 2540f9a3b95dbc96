/**
 * What differs between the browser and Electron beyond the node bridge:
 * OS notifications (Notification API, or the main process through
 * `window.kaiwa.desktop.notify`), the microphone and camera handshakes
 * Electron's main process wants around calls, and where a shared screen
 * is picked (the browser's own picker, or ours over desktopCapturer's list).
 */
import type { PreloadApi } from '../../shared/api/bridge.js'
import { ScreenSourcesSchema } from '../../shared/api/screen-share.js'
import type { ScreenSource } from '../../shared/api/screen-share.js'

export interface Platform {
  readonly kind: 'electron' | 'web'
  /** An OS notification (no-op where not allowed). */
  notify(title: string, body: string): void
  /** True when the user is looking at this window. */
  foreground(): boolean
  /** 'granted', 'denied' or 'default' (not asked yet). */
  notificationPermission(): NotificationPermission
  /** Ask for notification permission; call from a click. */
  askNotifications(): Promise<NotificationPermission>
  /** Before the microphone opens for a call. */
  callStarting(): Promise<void>
  callEnded(): void
  /** Before the camera opens in a call (a video call, or Camera turned on). */
  cameraStarting(): Promise<void>
  /** The camera is off again. */
  cameraStopped(): void
  /**
   * Electron: the screens and windows for our picker, then the one picked
   * (before getDisplayMedia). Absent on the web, where the browser picks.
   */
  screens?: {
    list(): Promise<ScreenSource[]>
    choose(id: string): Promise<void>
  }
  /** Electron's versions (electron, chrome, node), empty on the web. */
  versions: Record<string, string>
}

export function createPlatform(win: Window, preload?: PreloadApi): Platform {
  const foreground = (): boolean =>
    win.document.visibilityState === 'visible' && win.document.hasFocus()
  if (preload != null) {
    const d = preload.desktop
    return {
      kind: 'electron',
      notify: (title, body) => d.notify(title, body),
      foreground,
      notificationPermission: () => 'granted',
      askNotifications: () => Promise.resolve('granted'),
      callStarting: () => d.callStarting(),
      callEnded: () => d.callEnded(),
      cameraStarting: () => d.cameraStarting(),
      cameraStopped: () => d.cameraStopped(),
      screens: {
        // The list came from another process: shown only if it is what the contract says.
        list: async () => ScreenSourcesSchema.parse(await d.screenSources()),
        choose: (id) => d.chooseScreen(id),
      },
      versions: d.versions,
    }
  }
  const N = (win as Window & { Notification?: typeof Notification }).Notification
  return {
    kind: 'web',
    notify(title, body) {
      if (N == null || N.permission !== 'granted') return
      try {
        const n = new N(title, { body, tag: 'kaiwa' })
        n.onclick = () => {
          win.focus()
          n.close()
        }
      } catch {
        // Some browsers only allow notifications from a service worker; the in-app screen remains.
      }
    },
    foreground,
    notificationPermission: () => N?.permission ?? 'denied',
    askNotifications: async () => (N == null ? 'denied' : N.requestPermission()),
    callStarting: () => Promise.resolve(),
    callEnded: () => {},
    cameraStarting: () => Promise.resolve(),
    cameraStopped: () => {},
    versions: {},
  }
}
