/**
 * Entry point: pick the bridge (Electron's preload or the web socket to
 * `kaiwa node --ui`), build the app (app/create-app.ts, the composition
 * root), and render. Also installs `window.__kaiwaCallStats()`, the current
 * call's live figures, and `window.__kaiwaGroupStats()`, a group call's per
 * pair, for end-to-end tests and for diagnosing a call from the developer
 * console.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import type { PreloadApi } from '../shared/api/bridge.js'
import { createApp } from './app/create-app.js'
import { createPlatform } from './base/platform.js'
import { pickBridge } from './bridge/pick-bridge.js'
import { t } from './i18n/t.js'
import { App, Blocking } from './ui/App.js'
import { AppContext } from './ui/app-context.js'
import './styles/app.css'

type KaiwaWindow = Window & {
  kaiwa?: PreloadApi
  __kaiwaCallStats?: () => unknown
  __kaiwaGroupStats?: () => unknown
}

const win = window as KaiwaWindow
const root = createRoot(document.getElementById('root')!)
const picked = pickBridge(win)

if (picked.kind === 'no-token') {
  root.render(<Blocking title={t('start.noTokenTitle')} body={t('start.noToken')} />)
} else {
  const platform = createPlatform(win, picked.kind === 'electron' ? picked.preload : undefined)
  const app = createApp(picked.bridge, platform, win)
  win.__kaiwaCallStats = () => {
    const q = app.calls.latestQuality()
    const c = app.calls.store.get().current
    if (c == null) return null
    const { phase, muted, held, path } = c
    const video = { videoSource: c.video.source, remoteVideo: c.video.remoteLive }
    return { phase, muted, held, path, ...video, ...q }
  }
  // A group call's pairs: inbound audio bytes/packets, decoded video frames, the path.
  win.__kaiwaGroupStats = () => app.groupCall.stats()
  app.session.start()
  // Unregister when the page goes away for good (not when it is kept for back/forward).
  win.addEventListener('pagehide', (e) => {
    if (!e.persisted) void app.stop()
  })
  root.render(
    <StrictMode>
      <AppContext.Provider value={app}>
        <App />
      </AppContext.Provider>
    </StrictMode>,
  )
}
