/** The one window: the UI from `app://kaiwa`, with the preload bridge. */
import { BrowserWindow } from 'electron'
import { APP_ENTRY_URL } from './app-origin.js'
import { mainWindowOptions } from './window-options.js'

export interface MainWindowOptions {
  preload: string
  /** Show it once loaded (false when started hidden in the tray). */
  show: boolean
  devTools: boolean
  onLoadFailed: (error: Error) => void
}

export function createMainWindow(opts: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(opts.preload, opts.devTools))
  if (opts.show) win.once('ready-to-show', () => win.show())
  win
    .loadURL(APP_ENTRY_URL)
    .catch((err: unknown) => opts.onLoadFailed(err instanceof Error ? err : new Error(String(err))))
  return win
}

/** Bring the window to the front (it may be hidden in the tray or minimised). */
export function revealWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}
