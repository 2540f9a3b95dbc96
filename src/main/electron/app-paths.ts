/**
 * Where the desktop app's pieces are, relative to the bundled main process
 * (rolldown.electron.config.mjs writes all three bundles to dist/electron/,
 * next to the UI in dist/ui/). The same layout holds inside app.asar.
 */
import { join } from 'node:path'

export const MAIN_BUNDLE = 'main.mjs'
export const NODE_HOST_BUNDLE = 'node-host.mjs'
/** CommonJS: a sandboxed preload cannot be an ES module. */
export const PRELOAD_BUNDLE = 'preload.cjs'

export interface AppPaths {
  preload: string
  nodeHost: string
  uiRoot: string
}

/** `bundleDir`: the directory of the running main bundle (dist/electron). */
export function appPaths(bundleDir: string): AppPaths {
  return {
    preload: join(bundleDir, PRELOAD_BUNDLE),
    nodeHost: join(bundleDir, NODE_HOST_BUNDLE),
    uiRoot: join(bundleDir, '..', 'ui'),
  }
}
