/**
 * The Electron side of the preload bridge, for tests: everything real except
 * Electron itself. The main process's own modules (registerIpcHandlers,
 * NodeLink, SipPipes, CallGate) are wired as src/main/electron/main.ts wires
 * them, to a real node (test-node.ts); only the IPC edge between them and
 * the preload is a stand-in (`ElectronEdge`), which copies every argument as
 * Electron's structured clone does and delivers asynchronously, as a message
 * between processes arrives.
 *
 * The preload itself (src/preload/preload.ts) is loaded for real by the
 * test file, whose `vi.mock('electron')` hands it `edge.contextBridge` and
 * `edge.ipcRenderer`.
 */
import { EventEmitter } from 'node:events'
import { HOST_EVENT, IPC } from '../../../src/shared/api/bridge.js'
import type { PreloadApi } from '../../../src/shared/api/bridge.js'
import { CallGate } from '../../../src/main/electron/call-gate.js'
import { MediaGate } from '../../../src/main/electron/media-gate.js'
import { registerIpcHandlers } from '../../../src/main/electron/ipc-handlers.js'
import type { IpcHandlerDeps, IpcMainLike } from '../../../src/main/electron/ipc-handlers.js'
import { NodeLink } from '../../../src/main/electron/node-link.js'
import { SipPipes } from '../../../src/main/electron/sip-pipes.js'
import { FakeIpcMain, OUR_PAGE, quietLogger } from '../../main/electron/fakes/electron-fakes.js'
import type { TestNode } from './test-node.js'

type RendererListener = (event: unknown, ...args: unknown[]) => void

/** Electron's process boundary: contextBridge, ipcRenderer, and webContents.send. */
export class ElectronEdge {
  readonly exposed = new Map<string, unknown>()
  readonly #renderer = new EventEmitter()
  readonly #ipcMain: FakeIpcMain

  constructor(ipcMain: FakeIpcMain) {
    this.#ipcMain = ipcMain
  }

  readonly contextBridge = {
    exposeInMainWorld: (key: string, api: unknown): void => void this.exposed.set(key, api),
  }

  readonly ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]): Promise<unknown> => {
      const copied = structuredClone(args)
      await crossing()
      return structuredClone(await this.#ipcMain.invoke(channel, OUR_PAGE, ...copied))
    },
    send: (channel: string, ...args: unknown[]): void => {
      const copied = structuredClone(args)
      void crossing().then(() => this.#ipcMain.send(channel, OUR_PAGE, ...copied))
    },
    on: (channel: string, listener: RendererListener): void =>
      void this.#renderer.on(channel, listener),
  }

  /** webContents.send: the page gets an IPC event object first, which the preload must drop. */
  toRenderer(channel: string, ...args: unknown[]): void {
    const copied = structuredClone(args)
    void crossing().then(() => this.#renderer.emit(channel, { sender: 'main' }, ...copied))
  }

  /** What the preload exposed as `window.kaiwa`. */
  get kaiwa(): PreloadApi {
    const api = this.exposed.get('kaiwa')
    if (api === undefined) throw new Error('the preload exposed no window.kaiwa')
    return api as PreloadApi
  }
}

/** A hop between processes: later than anything already queued. */
const crossing = (): Promise<void> => new Promise((r) => setImmediate(r))

export interface MainProcess {
  edge: ElectronEdge
  /** The node process stopped; as main.ts's onNodeState does for a state that is not `ready`. */
  nodeDown(reason: string): void
  /** The node process is ready; as main.ts's onNodeState does for `ready`. */
  nodeUp(): void
  stop(): void
}

export interface MainProcessOptions {
  /** Replace the forwarding of contract calls (a main process that breaks the contract). */
  call?: IpcHandlerDeps['call']
  /** How long a call waits for a node that is away. */
  waitMs?: number
}

/** The main process's bridge wiring, as main.ts does it, with the node already up. */
export function startMainProcess(node: TestNode, opts: MainProcessOptions = {}): MainProcess {
  const log = quietLogger()
  const ipcMain = new FakeIpcMain()
  const edge = new ElectronEdge(ipcMain)
  const link = new NodeLink({
    log,
    onEvent: (event, data) => edge.toRenderer(IPC.event, event, data),
    waitMs: opts.waitMs ?? 10_000,
    reconnectMs: 50,
  })
  const pipes = new SipPipes({
    connection: () => link.connection,
    onMessage: (id, raw) => edge.toRenderer(IPC.sipMessage, id, raw),
    onClosed: (id, reason) => edge.toRenderer(IPC.sipClosed, id, reason),
    log,
    openTimeoutMs: 2000,
  })
  const connection = { url: node.url, token: node.token, peerId: 'test', dataDir: '' }
  const unregister = registerIpcHandlers({
    ipcMain: ipcMain as unknown as IpcMainLike,
    windowContentsId: () => OUR_PAGE.sender.id,
    call: opts.call ?? ((method, input) => link.call(method, input)),
    pipes,
    calls: new CallGate(),
    media: new MediaGate(() => false),
    notify: () => {},
    autostart: undefined,
    log,
  })
  link.attach(connection)
  return {
    edge,
    nodeDown(reason) {
      pipes.closeAll(`the Kaiwa node stopped: ${reason}`)
      link.detach(reason)
      edge.toRenderer(IPC.event, HOST_EVENT.connection, 'connecting')
    },
    nodeUp() {
      link.attach(connection)
      edge.toRenderer(IPC.event, HOST_EVENT.connection, 'open')
    },
    stop() {
      unregister()
      pipes.closeAll()
      link.detach('the app is quitting')
    },
  }
}
