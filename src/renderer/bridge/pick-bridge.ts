/**
 * Which bridge this UI runs on: Electron's preload when it exposed
 * `window.kaiwa`, else the web bridge to the node that served this page.
 */
import type { KaiwaBridge, PreloadApi } from '../../shared/api/bridge.js'
import { takeAccessToken } from './access-token.js'
import { createPreloadBridge } from './preload-bridge.js'
import { createWebBridge } from './web-bridge.js'
import type { WebBridge } from './web-bridge.js'

export type PickedBridge =
  | { kind: 'electron'; bridge: KaiwaBridge; preload: PreloadApi }
  | { kind: 'web'; bridge: WebBridge }
  | { kind: 'no-token' }

export function pickBridge(win: Window & { kaiwa?: PreloadApi }): PickedBridge {
  if (win.kaiwa != null) {
    return { kind: 'electron', bridge: createPreloadBridge(win.kaiwa), preload: win.kaiwa }
  }
  const token = takeAccessToken({
    location: win.location,
    history: win.history,
    storage: win.sessionStorage,
  })
  if (token === undefined) return { kind: 'no-token' }
  return { kind: 'web', bridge: createWebBridge({ baseUrl: win.location.origin, token }) }
}
