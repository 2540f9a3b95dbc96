/**
 * Applied to every webContents the app ever creates (app 'web-contents-created'):
 * the page may not navigate away from the UI, open windows, or attach
 * <webview>s. An https link the user clicks (in a chat message, say) opens in
 * the system browser instead; nothing else is handed to the OS.
 */
import type { WebContents } from 'electron'
import type { Logger } from '../../shared/logger.js'
import { navigationDecision, windowOpenDecision } from './app-origin.js'

export type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>

export interface GuardOptions {
  openExternal: (url: string) => Promise<void>
  log: Logger
}

export function guardWebContents(contents: GuardedContents, opts: GuardOptions): void {
  const external = (url: string): void => {
    opts
      .openExternal(url)
      .catch((err: unknown) => opts.log.warn(`cannot open ${url}: ${String(err)}`))
  }
  contents.on('will-navigate', (event) => {
    const decision = navigationDecision(event.url)
    if (decision === 'allow') return
    event.preventDefault()
    if (decision === 'open-external') external(event.url)
    else opts.log.warn(`blocked navigation to ${event.url.slice(0, 200)}`)
  })
  contents.on('will-redirect', (event) => {
    // A redirect is not a click: never follow one out of the app, not even to the browser.
    if (navigationDecision(event.url) !== 'allow') event.preventDefault()
  })
  contents.setWindowOpenHandler(({ url }) => {
    if (windowOpenDecision(url) === 'open-external') external(url)
    return { action: 'deny' }
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}
