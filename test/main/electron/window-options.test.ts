import { describe, expect, it } from 'vitest'
import {
  mainWindowOptions,
  secureWebPreferences,
} from '../../../src/main/electron/window-options.js'

describe('main window options', () => {
  it('runs the page sandboxed and isolated, with the preload as its only bridge', () => {
    expect(secureWebPreferences('/app/preload.cjs', false)).toEqual({
      preload: '/app/preload.cjs',
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
      devTools: false,
    })
  })

  it('shows the window only when it has something to show', () => {
    const o = mainWindowOptions('/app/preload.cjs', true)
    expect(o.show).toBe(false)
    expect(o.webPreferences?.devTools).toBe(true)
  })
})
