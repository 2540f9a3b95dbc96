/**
 * Kaiwa's desktop app: the Electron composition root, and deliberately thin.
 * The node runs in a utility process (node-host.ts), off this thread; this
 * process owns the window, the tray and the IPC bridge, and forwards the
 * renderer's validated requests to the node's loopback control API. Every
 * policy it applies (senders, permissions, navigation, CSP, links) lives in a
 * small pure module next to this one, with its tests in test/main/electron/.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Menu,
  app,
  dialog,
  ipcMain,
  protocol,
  session,
  shell,
  utilityProcess,
  webContents,
} from 'electron'
import type { BrowserWindow } from 'electron'
import { HOST_EVENT, IPC } from '../../shared/api/bridge.js'
import { StatusSchema } from '../../shared/api/contract.js'
import { createStderrLogger } from '../logger.js'
import { APP_SCHEME } from './app-origin.js'
import { appPaths } from './app-paths.js'
import { CallGate } from './call-gate.js'
import { createDesktopFiles } from './desktop-files.js'
import { findKaiwaLink, isHiddenLaunch, LINK_SCHEME, parseKaiwaLink } from './deep-link.js'
import type { KaiwaLink } from './deep-link.js'
import {
  askCamera,
  askMicrophone,
  listScreenSources,
  createAutostart,
  createNotifier,
  createPowerGuard,
  launchedAtLogin,
} from './desktop-services.js'
import { connectionStateOf, isNodeEvent } from './host-events.js'
import { registerIpcHandlers } from './ipc-handlers.js'
import { MediaGate } from './media-gate.js'
import { createMainWindow, revealWindow } from './main-window.js'
import { NodeLink } from './node-link.js'
import { NodeSupervisor } from './node-process.js'
import type { NodeProcessState } from './node-process.js'
import { secureSession } from './session-security.js'
import { SipPipes } from './sip-pipes.js'
import { KaiwaTray } from './tray.js'
import type { TrayState } from './tray-model.js'
import { guardWebContents } from './web-contents-guard.js'

const log = createStderrLogger('info', 'desktop')
const paths = appPaths(dirname(fileURLToPath(import.meta.url)))
/** Links that arrive before the UI has loaded wait here (a few; they are user clicks). */
const MAX_PENDING_LINKS = 8

// Before 'ready': privileged schemes must be registered first, and the
// sandbox is forced on for every renderer the app may ever create. `standard`
// and `secure` give app://kaiwa a real origin and a secure context (needed for
// getUserMedia); no `corsEnabled` or `bypassCSP`: nothing else may read it.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
])
app.enableSandbox()
app.setAppUserModelId('app.kaiwa.desktop')

// One Kaiwa per user: a second launch (say, a clicked kaiwa: link) hands its
// command line to the first through 'second-instance' and quits.
if (app.requestSingleInstanceLock()) runDesktop()
else app.quit()

function runDesktop(): void {
  let win: BrowserWindow | undefined
  let tray: KaiwaTray | undefined
  let uiLoaded = false
  let quitting = false
  let nodeStopping: Promise<void> | undefined
  let nodeDone = false
  let toldAboutTray = false
  const pendingLinks: KaiwaLink[] = []
  const initialLink = findKaiwaLink(process.argv)
  if (initialLink !== undefined) pendingLinks.push(initialLink)

  const autostart = createAutostart(log)
  let trayState: TrayState = { node: { kind: 'starting' }, inCall: false, autostart: undefined }
  const updateTray = (change: Partial<TrayState>): void => {
    trayState = { ...trayState, ...change }
    tray?.update(trayState)
  }

  const toRenderer = (channel: string, ...args: unknown[]): void => {
    if (win !== undefined && !win.isDestroyed()) win.webContents.send(channel, ...args)
  }
  const windowContentsId = (): number | undefined =>
    win !== undefined && !win.isDestroyed() ? win.webContents.id : undefined

  const deliverLink = (link: KaiwaLink): void => {
    if (uiLoaded) toRenderer(IPC.event, HOST_EVENT.link, link)
    else if (pendingLinks.length < MAX_PENDING_LINKS) pendingLinks.push(link)
  }

  const power = createPowerGuard(log)
  const calls = new CallGate((active) => {
    power(active)
    updateTray({ inCall: active })
    if (!active) media.reset()
  })
  // The camera and a picked screen, only within calls (media-gate.ts).
  const media = new MediaGate(() => calls.active)

  const onStatus = (data: unknown): void => {
    const status = StatusSchema.safeParse(data)
    if (!status.success) return
    const { name, role, peers } = status.data
    updateTray({ node: { kind: 'running', name, role, peers } })
  }
  const link = new NodeLink({
    log,
    onEvent: (event, data) => {
      if (!isNodeEvent(event)) return
      toRenderer(IPC.event, event, data)
      if (event === 'status') onStatus(data)
    },
  })
  const pipes = new SipPipes({
    connection: () => link.connection,
    onMessage: (id, raw) => toRenderer(IPC.sipMessage, id, raw),
    onClosed: (id, reason) => toRenderer(IPC.sipClosed, id, reason),
    log,
  })

  let nodeState: NodeProcessState = { kind: 'stopped', reason: 'not started', final: false }
  const onNodeState = (state: NodeProcessState): void => {
    nodeState = state
    // The page reloads its data when the node comes back (KaiwaBridge.onConnection).
    toRenderer(IPC.event, HOST_EVENT.connection, connectionStateOf(state))
    if (state.kind === 'ready') {
      link.attach(state.connection)
      void link.call('status', {}).then((r) => {
        if (r.ok) onStatus(r.result)
      })
      return
    }
    const reason = state.kind === 'starting' ? 'the Kaiwa node is starting' : state.reason
    pipes.closeAll(`the Kaiwa node stopped: ${reason}`)
    link.detach(reason)
    updateTray({ node: state.kind === 'starting' ? state : { kind: 'stopped', reason } })
  }
  const supervisor = new NodeSupervisor({
    modulePath: paths.nodeHost,
    fork: (modulePath, args, options) => utilityProcess.fork(modulePath, args, options),
    log,
    onState: onNodeState,
  })

  const showWindow = (): void => {
    if (win === undefined || win.isDestroyed()) openWindow(true)
    else revealWindow(win)
  }
  const notify = createNotifier(showWindow)

  /** The page is gone (reload, crash, closed): its pipes and calls with it. */
  const forgetPage = (): void => {
    uiLoaded = false
    pipes.closeAll()
    calls.reset()
    media.reset()
  }

  function openWindow(show: boolean): void {
    const w = createMainWindow({
      preload: paths.preload,
      show,
      devTools: !app.isPackaged,
      onLoadFailed: (err) => log.error(`cannot load the UI: ${err.message}`),
    })
    win = w
    const contents = w.webContents
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) forgetPage()
    })
    contents.on('did-finish-load', () => {
      uiLoaded = true
      toRenderer(IPC.event, HOST_EVENT.connection, connectionStateOf(nodeState))
      for (const l of pendingLinks.splice(0)) toRenderer(IPC.event, HOST_EVENT.link, l)
    })
    contents.on('render-process-gone', (_e, details) => {
      log.error(`the UI's renderer is gone (${details.reason})`)
      forgetPage()
    })
    // Close to the tray: calls and messages keep arriving. Quit is in the tray menu.
    w.on('close', (e) => {
      if (quitting || tray === undefined) return
      e.preventDefault()
      w.hide()
      if (!toldAboutTray) {
        toldAboutTray = true
        notify(
          'Kaiwa is still running',
          'Calls and messages still reach you. Quit from the tray icon.',
        )
      }
    })
    w.on('closed', () => {
      if (win === w) win = undefined
      forgetPage()
    })
  }

  // Every webContents, including any the app did not mean to create, is fenced in.
  app.on('web-contents-created', (_e, contents) =>
    guardWebContents(contents, { openExternal: (url) => shell.openExternal(url), log }),
  )
  app.on('second-instance', (_e, argv) => {
    showWindow()
    const l = findKaiwaLink(argv)
    if (l !== undefined) deliverLink(l)
  })
  // macOS delivers links as events, possibly before 'ready'.
  app.on('open-url', (e, url) => {
    e.preventDefault()
    const l = parseKaiwaLink(url)
    if (l !== undefined) deliverLink(l)
    if (app.isReady()) showWindow()
  })
  app.on('activate', () => showWindow())
  app.on('window-all-closed', () => {
    if (tray === undefined && process.platform !== 'darwin') app.quit()
  })
  app.on('before-quit', (e) => {
    quitting = true
    if (nodeDone) return
    // Stop the node first, so its data directory is closed cleanly, then quit for real.
    e.preventDefault()
    nodeStopping ??= supervisor.stop().finally(() => {
      nodeDone = true
      tray?.destroy()
      tray = undefined
      app.quit()
    })
  })

  registerIpcHandlers({
    ipcMain,
    windowContentsId,
    call: (method, input) => link.call(method, input),
    pipes,
    calls,
    askMicrophone,
    media,
    askCamera,
    listScreens: listScreenSources,
    notify,
    // Save and previews of received files: the page names a transfer id, never a path.
    files: createDesktopFiles({
      call: (method, input) => link.call(method, input),
      saveDialog: async (name) => {
        const options = { defaultPath: join(app.getPath('downloads'), name) }
        const picked =
          win !== undefined && !win.isDestroyed()
            ? await dialog.showSaveDialog(win, options)
            : await dialog.showSaveDialog(options)
        return picked.canceled || !picked.filePath ? undefined : picked.filePath
      },
      log,
    }),
    autostart: autostart && {
      get: autostart.get,
      set: async (enabled) => {
        const now = await autostart.set(enabled)
        updateTray({ autostart: now })
        return now
      },
    },
    log,
  })

  void app.whenReady().then(async () => {
    // The default menu's Reload and DevTools entries are not for users (macOS keeps its app menu).
    if (process.platform !== 'darwin') Menu.setApplicationMenu(null)
    secureSession({
      session: session.defaultSession,
      uiRoot: paths.uiRoot,
      isOurContents: (c) => c !== null && c.id === windowContentsId(),
      isOurFrame: (f) => webContents.fromFrame(f)?.id === windowContentsId(),
      callActive: () => calls.active,
      cameraActive: () => media.camera,
      screenArmed: () => media.screenArmed(Date.now()),
      takeScreen: () => media.take(Date.now()),
      log,
    })
    // Installers register kaiwa: (electron-builder `protocols`); this keeps a moved
    // or portable copy registered. A development checkout does not claim the scheme.
    if (app.isPackaged && !app.isDefaultProtocolClient(LINK_SCHEME)) {
      app.setAsDefaultProtocolClient(LINK_SCHEME)
    }
    supervisor.start()
    try {
      tray = new KaiwaTray(trayState, {
        show: showWindow,
        quit: () => app.quit(),
        setAutostart: (enabled) => {
          void autostart?.set(enabled).then((now) => updateTray({ autostart: now }))
        },
      })
    } catch (err) {
      log.warn(`no tray icon (${String(err)}); closing the window will quit`)
    }
    const hidden = tray !== undefined && (isHiddenLaunch(process.argv) || launchedAtLogin())
    openWindow(!hidden)
    if (autostart !== undefined) updateTray({ autostart: await autostart.get() })
  })
}
