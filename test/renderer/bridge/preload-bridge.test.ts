/**
 * The Electron bridge: the KaiwaBridge compliance suite through the whole
 * desktop chain (preload bridge → the real preload → Electron's IPC edge →
 * the main process's real handlers, NodeLink and SipPipes → a real node; see
 * electron-host.ts), then what only this bridge does, over a hand-made
 * `window.kaiwa`: error codes that crossed IPC with Electron's prefix, a
 * bounded link queue, the shell's connection states, and reopening a pipe.
 */
import { describe, expect, it, vi } from 'vitest'
import { HOST_EVENT, IPC } from '../../../src/shared/api/bridge.js'
import type { ConnectionState, PreloadApi } from '../../../src/shared/api/bridge.js'
import { ok } from '../../../src/main/electron/ipc-validation.js'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { createPreloadBridge } from '../../../src/renderer/bridge/preload-bridge.js'
import { bridgeCompliance } from './bridge-compliance.js'
import { startMainProcess } from './electron-host.js'
import type { ElectronEdge, MainProcess } from './electron-host.js'
import { startTestNode } from './test-node.js'

// The preload may load only 'electron'; this one is the edge of the main process under test.
const electron = vi.hoisted(() => ({ edge: undefined as ElectronEdge | undefined }))
vi.mock('electron', () => {
  const edge = (): ElectronEdge => {
    if (electron.edge === undefined) throw new Error('no Electron edge set up')
    return electron.edge
  }
  return {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) =>
        edge().contextBridge.exposeInMainWorld(key, api),
    },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => edge().ipcRenderer.invoke(channel, ...args),
      send: (channel: string, ...args: unknown[]) => edge().ipcRenderer.send(channel, ...args),
      on: (channel: string, l: (event: unknown, ...args: unknown[]) => void) =>
        edge().ipcRenderer.on(channel, l),
    },
  }
})

/** A fresh page: the real preload, loaded against this main process's edge. */
async function loadPreload(main: MainProcess): Promise<PreloadApi> {
  electron.edge = main.edge
  vi.resetModules()
  await import('../../../src/preload/preload.js')
  return main.edge.kaiwa
}

bridgeCompliance(async () => {
  const node = await startTestNode()
  const main = startMainProcess(node)
  const bridge = createPreloadBridge(await loadPreload(main))
  const extra: Array<() => void> = []
  return {
    bridge,
    node,
    // The node process dies; the supervisor tells main.ts, which tells the page.
    async loseNode() {
      await node.stop()
      main.nodeDown('exited with code 1')
    },
    async restoreNode() {
      await node.start()
      main.nodeUp()
    },
    async brokenReplies() {
      // A main process that answers outside the contract (a bug, or a mismatched build).
      const rogue = startMainProcess(node, { call: async () => ok({ role: 'emperor' }) })
      extra.push(() => rogue.stop())
      return createPreloadBridge(await loadPreload(rogue))
    },
    openLink: (link) => main.edge.toRenderer(IPC.event, HOST_EVENT.link, link),
    async teardown() {
      for (const c of extra.reverse()) c()
      main.stop()
      await node.stop()
    },
  }
})

/** A hand-made `window.kaiwa`, for what the real chain cannot be made to do. */
function fakePreload() {
  let emit: (event: string, data: unknown) => void = () => {}
  const closed: number[] = []
  const closeListeners = new Map<number, (reason: string) => void>()
  let nextPipe = 1
  const api: PreloadApi = {
    async call() {
      // What ipcRenderer.invoke rejects with when a main handler throws.
      throw new Error(
        "Error invoking remote method 'kaiwa:call': Error: [name_taken] the user ID is taken",
      )
    },
    onEvent(listener) {
      emit = listener
      return () => {}
    },
    sipOpen: async () => nextPipe++,
    sipSend: () => {},
    onSip: () => () => {},
    onSipClose(pipe, l) {
      closeListeners.set(pipe, l)
      return () => closeListeners.delete(pipe)
    },
    sipClose: (pipe) => void closed.push(pipe),
    desktop: {
      callStarting: async () => {},
      callEnded: () => {},
      cameraStarting: async () => {},
      cameraStopped: () => {},
      screenSources: async () => [],
      chooseScreen: async () => {},
      notify: () => {},
      filePath: () => '',
      saveFile: async () => null,
      filePreview: async () => new Uint8Array(0),
      setAutostart: async (v) => v,
      getAutostart: async () => false,
      versions: {},
    },
  }
  return { api, emit: (e: string, d: unknown) => emit(e, d), closed, closeListeners }
}

describe('preload bridge', () => {
  it("recovers error codes from Electron's remote-method prefix", async () => {
    const b = createPreloadBridge(fakePreload().api)
    const err = await b.call('claim', { name: 'alice' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'name_taken', message: 'the user ID is taken' })
  })

  it('holds only a few links for a listener that has not come yet', () => {
    const f = fakePreload()
    const b = createPreloadBridge(f.api)
    for (let i = 0; i < 50; i++) f.emit(HOST_EVENT.link, { name: `user${i}` })
    const links: unknown[] = []
    b.onLink((l) => links.push(l))
    expect(links).toHaveLength(8)
    expect(links[0]).toEqual({ name: 'user0' })
  })

  it("follows the shell's connection states and ignores malformed ones", () => {
    const f = fakePreload()
    const b = createPreloadBridge(f.api)
    expect(b.connection).toBe('open')
    const states: ConnectionState[] = []
    b.onConnection((s) => states.push(s))
    f.emit(HOST_EVENT.connection, 'connecting')
    f.emit(HOST_EVENT.connection, 'connecting') // not a change
    f.emit(HOST_EVENT.connection, 'unauthorized') // the shell has no token to refuse
    f.emit(HOST_EVENT.connection, { state: 'open' })
    f.emit(HOST_EVENT.connection, 'open')
    f.emit(HOST_EVENT.connection, 'closed')
    expect(states).toEqual(['connecting', 'open', 'closed'])
    expect(b.connection).toBe('closed')
  })

  it('replaces the pipe on a second open; a close for the old one is not reported', async () => {
    const f = fakePreload()
    const pipe = createPreloadBridge(f.api).sip()
    await pipe.open()
    const closes: string[] = []
    pipe.onClose((e) => closes.push(e.message))
    await pipe.open()
    expect(f.closed).toEqual([1])
    f.closeListeners.get(1)?.('late news about pipe 1')
    expect(closes).toEqual([])
    f.closeListeners.get(2)!('node restarted')
    expect(closes).toEqual(['the SIP pipe closed (node restarted)'])
    pipe.close() // nothing left to close
    expect(f.closed).toEqual([1])
  })
})
