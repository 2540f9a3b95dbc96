/**
 * Headless Chromium with an empty page served from 127.0.0.1, for WebRTC
 * tests: getUserMedia needs a secure context, and http://127.0.0.1 is one
 * (about:blank is not).
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export interface ChromiumPage {
  browser: Browser
  /** The page every test opens (`http://127.0.0.1:PORT/`). */
  pageUrl: string
  close(): Promise<void>
}

/** Start the page server and Chromium with `args` (`--no-sandbox` is always added). */
export async function openChromiumPage(title: string, args: string[]): Promise<ChromiumPage> {
  const http: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><title>${title}</title>`)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const addr = http.address()
  const pageUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`
  const closeHttp = () => new Promise<void>((resolve) => http.close(() => resolve()))
  let browser: Browser
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 60_000,
      args: [...args, '--no-sandbox'],
    })
  } catch (err) {
    await closeHttp()
    throw err
  }
  return {
    browser,
    pageUrl,
    close: async () => {
      await browser.close().catch(() => {})
      await closeHttp()
    },
  }
}
