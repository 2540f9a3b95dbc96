/**
 * Stand-ins for the few Electron objects the shell's wiring takes as
 * parameters (Electron cannot run here). Each records what it was given, so a
 * test can call the handlers the way Electron would.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from '../../../../src/shared/logger.js'

export function quietLogger(lines: string[] = []): Logger {
  const log = (lvl: string) => (m: string) => void lines.push(`${lvl} ${m}`)
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  }
  return logger
}

type Listener = (event: FakeIpcEvent, ...args: unknown[]) => unknown

export interface FakeIpcEvent {
  sender: { id: number }
  senderFrame: { url: string; parent: unknown } | null
}

/** The page's top frame in our window (webContents 1). */
export const OUR_PAGE: FakeIpcEvent = {
  sender: { id: 1 },
  senderFrame: { url: 'app://kaiwa/index.html', parent: null },
}

export class FakeIpcMain {
  readonly handlers = new Map<string, Listener>()
  readonly listeners = new Map<string, Listener>()

  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }
  on(channel: string, listener: Listener): this {
    this.listeners.set(channel, listener)
    return this
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
  removeAllListeners(channel: string): this {
    this.listeners.delete(channel)
    return this
  }
  /** What ipcRenderer.invoke would get back. */
  async invoke(channel: string, event: FakeIpcEvent, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (h === undefined) throw new Error(`No handler registered for '${channel}'`)
    return h(event, ...args)
  }
  send(channel: string, event: FakeIpcEvent, ...args: unknown[]): void {
    this.listeners.get(channel)?.(event, ...args)
  }
}

/** A webContents for the navigation guard: events plus the window-open handler. */
export class FakeContents extends EventEmitter {
  openHandler: ((d: { url: string }) => { action: string }) | undefined
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h
  }
}

export function fakeEvent(url = ''): {
  url: string
  defaultPrevented: boolean
  preventDefault(): void
} {
  return {
    url,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true
    },
  }
}
