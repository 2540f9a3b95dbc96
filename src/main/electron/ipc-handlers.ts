/**
 * The main process's side of the preload bridge: one handler per allowlisted
 * channel (IPC in src/shared/api/bridge.ts) and nothing else. Each checks the
 * sender (our window's top frame, showing our UI) and validates its arguments
 * before doing anything; invoke handlers answer with an IpcReply and never
 * throw, so error codes survive the trip. Electron objects are injected, so
 * this is tested without Electron.
 */
import { IPC } from '../../shared/api/bridge.js'
import type { ApiMethod } from '../../shared/api/contract.js'
import { ScreenSourcesSchema } from '../../shared/api/screen-share.js'
import type { ScreenSource } from '../../shared/api/screen-share.js'
import type { Logger } from '../../shared/logger.js'
import type { CallGate } from './call-gate.js'
import type { DesktopFiles } from './desktop-files.js'
import { failure, ok, parseCallArgs, parseIpcArgs } from './ipc-validation.js'
import type { IpcArgChannel, IpcArgs, IpcReply } from './ipc-validation.js'
import type { MediaGate } from './media-gate.js'
import { describeSender, isTrustedSender } from './sender-policy.js'
import type { IpcEventLike } from './sender-policy.js'
import type { SipPipes } from './sip-pipes.js'

/** The part of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): unknown
  removeHandler(channel: string): void
  removeAllListeners(channel: string): unknown
}

export interface Autostart {
  get(): Promise<boolean>
  set(enabled: boolean): Promise<boolean>
}

export interface IpcHandlerDeps {
  ipcMain: IpcMainLike
  /** Our window's webContents id; undefined while there is no window. */
  windowContentsId: () => number | undefined
  call: (method: ApiMethod, input: unknown) => Promise<IpcReply>
  pipes: Pick<SipPipes, 'open' | 'send' | 'close'>
  calls: CallGate
  /** The OS-level microphone prompt (macOS); false if the user said no. */
  askMicrophone?: () => Promise<boolean>
  /** The camera and the picked screen (media-gate.ts). */
  media: MediaGate
  /** The OS-level camera prompt (macOS); false if the user said no. */
  askCamera?: () => Promise<boolean>
  /** desktopCapturer's screens and windows; undefined where screen capture is unavailable. */
  listScreens?: () => Promise<ScreenSource[]>
  now?: () => number
  notify: (title: string, body: string) => void
  /** Undefined where the platform has no autostart. */
  autostart: Autostart | undefined
  /** Save and preview received files (desktop-files.ts); undefined: unavailable. */
  files?: Pick<DesktopFiles, 'save' | 'preview'>
  log: Logger
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Registers every handler; returns a function that removes them again. */
export function registerIpcHandlers(deps: IpcHandlerDeps): () => void {
  const { ipcMain, log } = deps
  const trusted = (channel: string, event: IpcEventLike): boolean => {
    const sender = describeSender(event)
    if (isTrustedSender(sender, deps.windowContentsId())) return true
    log.warn(
      `refused ${channel} from webContents ${sender.contentsId} (${sender.frameUrl ?? 'no frame'})`,
    )
    return false
  }

  /** An invoke channel: trusted sender, valid arguments, then `run`. */
  const handle = <C extends IpcArgChannel>(
    channel: C,
    run: (args: IpcArgs<C>) => Promise<IpcReply>,
  ): void => {
    ipcMain.handle(channel, async (event, ...args) => {
      if (!trusted(channel, event)) return failure('forbidden', 'not allowed from this page')
      const parsed = parseIpcArgs(channel, args)
      if (!parsed.ok) return { ok: false, error: parsed.error }
      try {
        return await run(parsed.value)
      } catch (err) {
        log.error(`${channel} failed: ${errorText(err)}`)
        return failure('internal', errorText(err))
      }
    })
  }

  /** A send channel: no reply, so bad input is only logged. */
  const listen = <C extends IpcArgChannel>(channel: C, run: (args: IpcArgs<C>) => void): void => {
    ipcMain.on(channel, (event, ...args) => {
      if (!trusted(channel, event)) return
      const parsed = parseIpcArgs(channel, args)
      if (!parsed.ok) return log.warn(parsed.error.message)
      run(parsed.value)
    })
  }

  ipcMain.handle(IPC.call, async (event, ...args) => {
    if (!trusted(IPC.call, event)) return failure('forbidden', 'not allowed from this page')
    const parsed = parseCallArgs(args)
    if (!parsed.ok) return { ok: false, error: parsed.error }
    return deps.call(parsed.value.method, parsed.value.input)
  })

  handle(IPC.sipOpen, async () => {
    try {
      return ok(await deps.pipes.open())
    } catch (err) {
      const code = (err as { code?: unknown }).code
      return failure(typeof code === 'string' ? code : 'unavailable', errorText(err))
    }
  })
  listen(IPC.sipSend, ([pipe, raw]) => void deps.pipes.send(pipe, raw))
  listen(IPC.sipClose, ([pipe]) => deps.pipes.close(pipe))

  handle(IPC.callStarting, async () => {
    if (!deps.calls.start()) return failure('conflict', 'too many calls at once')
    if (deps.askMicrophone !== undefined && !(await deps.askMicrophone())) {
      deps.calls.end()
      return failure(
        'permission_denied',
        'Kaiwa may not use the microphone; allow it in the system privacy settings',
      )
    }
    return ok(undefined)
  })
  listen(IPC.callEnded, () => deps.calls.end())

  const now = deps.now ?? Date.now
  handle(IPC.cameraStarting, async () => {
    if (!deps.media.startCamera()) return failure('conflict', 'the camera is for calls only')
    if (deps.askCamera !== undefined && !(await deps.askCamera())) {
      deps.media.stopCamera()
      return failure(
        'permission_denied',
        'Kaiwa may not use the camera; allow it in the system privacy settings',
      )
    }
    return ok(undefined)
  })
  listen(IPC.cameraStopped, () => deps.media.stopCamera())
  handle(IPC.screenSources, async () => {
    if (!deps.calls.active) return failure('conflict', 'screens can be shared in a call only')
    if (deps.listScreens === undefined) {
      return failure('unavailable', 'screen sharing is not supported on this system')
    }
    // Our own output is checked too: the renderer trusts nothing it did not validate either.
    const sources = ScreenSourcesSchema.parse(await deps.listScreens())
    deps.media.listed(sources.map((s) => s.id))
    return ok(sources)
  })
  handle(IPC.screenChoose, async ([id]) =>
    deps.media.choose(id, now())
      ? ok(undefined)
      : failure('not_found', 'pick a screen or window from the list shown in this call'),
  )

  listen(IPC.notify, ([title, body]) => deps.notify(title, body))
  handle(IPC.autostartGet, async () => ok(deps.autostart ? await deps.autostart.get() : false))
  handle(IPC.autostartSet, async ([enabled]) => {
    if (deps.autostart === undefined) {
      return failure('unavailable', 'starting at login is not supported on this system')
    }
    return ok(await deps.autostart.set(enabled))
  })

  const noFiles = (): IpcReply =>
    failure(
      'unavailable',
      'this app cannot save or show received files; open your downloads folder',
    )
  handle(IPC.fileSave, async ([id]) => (deps.files ? deps.files.save(id) : noFiles()))
  handle(IPC.filePreview, async ([id]) => (deps.files ? deps.files.preview(id) : noFiles()))

  return () => {
    for (const channel of [
      IPC.call,
      IPC.sipOpen,
      IPC.callStarting,
      IPC.cameraStarting,
      IPC.screenSources,
      IPC.screenChoose,
      IPC.autostartGet,
      IPC.autostartSet,
      IPC.fileSave,
      IPC.filePreview,
    ]) {
      ipcMain.removeHandler(channel)
    }
    for (const channel of [
      IPC.sipSend,
      IPC.sipClose,
      IPC.callEnded,
      IPC.cameraStopped,
      IPC.notify,
    ]) {
      ipcMain.removeAllListeners(channel)
    }
  }
}
