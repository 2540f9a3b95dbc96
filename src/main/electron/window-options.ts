/**
 * The main window's options. The webPreferences are the Electron security
 * checklist: the page runs sandboxed and context-isolated with no Node, the
 * preload is the only bridge, and nothing (webviews, insecure content,
 * drag-and-drop navigation) widens that.
 */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron'

export function secureWebPreferences(preload: string, devTools: boolean): WebPreferences {
  return {
    preload,
    // A sandboxed renderer has no Node; the preload sees only `require('electron')`.
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    devTools,
  }
}

export function mainWindowOptions(
  preload: string,
  devTools: boolean,
): BrowserWindowConstructorOptions {
  return {
    width: 1024,
    height: 720,
    minWidth: 360,
    minHeight: 480,
    title: 'Kaiwa',
    // Shown on 'ready-to-show', so the user never sees an empty frame.
    show: false,
    autoHideMenuBar: true,
    backgroundColor: '#f0fdfa',
    webPreferences: secureWebPreferences(preload, devTools),
  }
}
