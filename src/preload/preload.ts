/**
 * The Electron preload: exposes `window.kaiwa` (PreloadApi) and nothing else.
 * It runs sandboxed and context-isolated, so the page cannot reach
 * ipcRenderer or Node; it gets one object of plain functions, each bound to
 * one channel of the IPC allowlist. Like Element's preload, it never hands out
 * generalised messaging access: no channel name ever comes from the page.
 * The main process checks the sender and validates every argument again
 * (src/main/electron/ipc-handlers.ts). Bundled as CommonJS
 * (dist/electron/preload.cjs): a sandboxed preload cannot be an ES module.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { IPC } from '../shared/api/bridge.js'
import type { PreloadApi } from '../shared/api/bridge.js'
import type { ScreenSource } from '../shared/api/screen-share.js'

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } }

/**
 * Invoke channels answer with a Reply. contextBridge copies only an Error's
 * message, so the code travels in it as `[code] message` (the renderer's
 * toApiError reads it back).
 */
async function invoke(channel: string, ...args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as Reply
  if (reply.ok) return reply.result
  throw new Error(`[${reply.error.code}] ${reply.error.message}`)
}

/** Listener sets keyed by pipe (or event), fed by one ipcRenderer listener per channel. */
function pipeListeners<T>(channel: string): (pipe: number, l: (v: T) => void) => () => void {
  const byPipe = new Map<number, Set<(v: T) => void>>()
  ipcRenderer.on(channel, (_event, pipe: number, value: T) => {
    for (const l of [...(byPipe.get(pipe) ?? [])]) l(value)
  })
  return (pipe, l) => {
    const set = byPipe.get(pipe) ?? new Set()
    byPipe.set(pipe, set.add(l))
    return () => {
      set.delete(l)
      if (set.size === 0) byPipe.delete(pipe)
    }
  }
}

// Events sent before the page subscribes (a kaiwa: link that launched the app) are held, a few.
const MAX_HELD_EVENTS = 32
const eventListeners = new Set<(event: string, data: unknown) => void>()
const held: Array<[string, unknown]> = []
// The IPC event object (it carries `sender`) never reaches the page.
ipcRenderer.on(IPC.event, (_event, name: string, data: unknown) => {
  if (eventListeners.size === 0) {
    if (held.length < MAX_HELD_EVENTS) held.push([name, data])
    return
  }
  for (const l of [...eventListeners]) l(name, data)
})

const onSip = pipeListeners<string>(IPC.sipMessage)
const onSipClose = pipeListeners<string>(IPC.sipClosed)

const api: PreloadApi = {
  call: (method, input) => invoke(IPC.call, method, input),
  onEvent(listener) {
    eventListeners.add(listener)
    for (const [name, data] of held.splice(0)) listener(name, data)
    return () => void eventListeners.delete(listener)
  },
  sipOpen: () => invoke(IPC.sipOpen) as Promise<number>,
  sipSend: (pipe, raw) => ipcRenderer.send(IPC.sipSend, pipe, raw),
  onSip,
  onSipClose,
  sipClose: (pipe) => ipcRenderer.send(IPC.sipClose, pipe),
  desktop: {
    callStarting: async () => void (await invoke(IPC.callStarting)),
    callEnded: () => ipcRenderer.send(IPC.callEnded),
    cameraStarting: async () => void (await invoke(IPC.cameraStarting)),
    cameraStopped: () => ipcRenderer.send(IPC.cameraStopped),
    // The renderer validates the list (ScreenSourcesSchema) before it shows it.
    screenSources: () => invoke(IPC.screenSources) as Promise<ScreenSource[]>,
    chooseScreen: async (id) => void (await invoke(IPC.screenChoose, id)),
    notify: (title, body) => ipcRenderer.send(IPC.notify, title, body),
    // Only a path string crosses to the page: the file stays the page's own File.
    filePath: (file) => webUtils.getPathForFile(file),
    // Only a transfer id goes out; the main process finds the verified file itself.
    saveFile: (id) => invoke(IPC.fileSave, id) as Promise<string | null>,
    filePreview: (id) => invoke(IPC.filePreview, id) as Promise<Uint8Array>,
    setAutostart: (enabled) => invoke(IPC.autostartSet, enabled) as Promise<boolean>,
    getAutostart: () => invoke(IPC.autostartGet) as Promise<boolean>,
    versions: {
      electron: process.versions.electron ?? '',
      chrome: process.versions.chrome ?? '',
      node: process.versions.node,
    },
  },
}

contextBridge.exposeInMainWorld('kaiwa', api)
