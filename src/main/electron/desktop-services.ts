/**
 * Small desktop integrations, each one Electron call wrapped: notifications,
 * the power-save blocker during calls, the macOS microphone and camera
 * prompts, the screens and windows to share (desktopCapturer), and the
 * opt-in autostart (login items on Windows and macOS, an XDG autostart entry
 * on Linux, where Electron has none).
 */
import { Notification, app, desktopCapturer, powerSaveBlocker, systemPreferences } from 'electron'
import { MAX_SCREEN_SOURCES, MAX_THUMBNAIL_CHARS } from '../../shared/api/screen-share.js'
import type { ScreenSource } from '../../shared/api/screen-share.js'
import type { Logger } from '../../shared/logger.js'
import { HIDDEN_FLAG } from './deep-link.js'
import type { Autostart } from './ipc-handlers.js'
import { autostartDir, linuxAutostart } from './linux-autostart.js'

/** Keeps the system awake (and the app scheduled) while `active`, for calls. */
export function createPowerGuard(log: Logger): (active: boolean) => void {
  let id: number | undefined
  return (active) => {
    if (active && id === undefined) {
      id = powerSaveBlocker.start('prevent-app-suspension')
      log.debug('call started: power-save blocker on')
    } else if (!active && id !== undefined) {
      powerSaveBlocker.stop(id)
      id = undefined
      log.debug('calls ended: power-save blocker off')
    }
  }
}

/** Desktop notifications from the UI; a click brings the window back. */
export function createNotifier(onClick: () => void): (title: string, body: string) => void {
  // Electron drops a notification's handlers when it is garbage-collected; hold each until closed.
  const live = new Set<Notification>()
  return (title, body) => {
    if (!Notification.isSupported()) return
    const n = new Notification({ title, body })
    live.add(n)
    n.on('click', onClick)
    n.on('close', () => live.delete(n))
    n.show()
  }
}

/**
 * macOS asks the user once per app (hardened runtime, NSMicrophoneUsageDescription);
 * elsewhere the OS does not gate it and Chromium's permission (ours) is enough.
 */
export async function askMicrophone(): Promise<boolean> {
  if (process.platform !== 'darwin') return true
  if (systemPreferences.getMediaAccessStatus('microphone') === 'granted') return true
  return systemPreferences.askForMediaAccess('microphone')
}

/** The camera's OS prompt, as askMicrophone's (NSCameraUsageDescription on macOS). */
export async function askCamera(): Promise<boolean> {
  if (process.platform !== 'darwin') return true
  if (systemPreferences.getMediaAccessStatus('camera') === 'granted') return true
  return systemPreferences.askForMediaAccess('camera')
}

/** Screens and windows for the picker, with small thumbnails (the renderer draws the picker). */
export async function listScreenSources(): Promise<ScreenSource[]> {
  const sources = await desktopCapturer.getSources({
    types: ['screen', 'window'],
    thumbnailSize: { width: 240, height: 135 },
  })
  return sources.slice(0, MAX_SCREEN_SOURCES).map((s) => {
    const thumbnail = s.thumbnail.isEmpty() ? undefined : s.thumbnail.toDataURL()
    return {
      id: s.id,
      name: s.name.slice(0, 300),
      kind: s.id.startsWith('screen:') ? 'screen' : 'window',
      ...(thumbnail != null && thumbnail.length <= MAX_THUMBNAIL_CHARS ? { thumbnail } : {}),
    }
  })
}

/** How to launch this app again at login, hidden in the tray. */
function relaunchCommand(): { exec: string; args: string[] } {
  // An AppImage runs from a temporary mount; $APPIMAGE is the file to run next time.
  const exec = process.env.APPIMAGE ?? process.execPath
  return { exec, args: app.isPackaged ? [HIDDEN_FLAG] : [app.getAppPath(), HIDDEN_FLAG] }
}

export function createAutostart(log: Logger): Autostart | undefined {
  if (process.platform === 'linux') {
    const { exec, args } = relaunchCommand()
    return linuxAutostart(autostartDir(), exec, args)
  }
  if (process.platform !== 'win32' && process.platform !== 'darwin') return undefined
  // Windows matches login items by their arguments, so get and set pass the same ones.
  const args = [HIDDEN_FLAG]
  return {
    get: async () => app.getLoginItemSettings({ args }).openAtLogin,
    set: async (enabled) => {
      app.setLoginItemSettings({ openAtLogin: enabled, args })
      const now = app.getLoginItemSettings({ args }).openAtLogin
      log.info(`start at login: ${now ? 'on' : 'off'}`)
      return now
    },
  }
}

/** Started at login (macOS reports it; elsewhere the login item passes --hidden). */
export function launchedAtLogin(): boolean {
  return process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin
}
