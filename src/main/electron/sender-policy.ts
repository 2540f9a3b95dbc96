/**
 * Who may use the IPC bridge: only the top frame of our own window, showing
 * our own UI. Checked on every message, because a webContents can navigate
 * (or be made to) and a subframe can carry another origin; the preload's
 * allowlist limits what can be asked, this limits who can ask.
 */
import { isAppUrl } from './app-origin.js'

export interface SenderInfo {
  /** `event.sender.id`: which webContents sent it. */
  contentsId: number
  /** The sending frame's URL at the time of the message; undefined if it is gone. */
  frameUrl: string | undefined
  isMainFrame: boolean
}

/** The shape of Electron's IpcMainEvent and IpcMainInvokeEvent this module reads. */
export interface IpcEventLike {
  sender: { id: number }
  senderFrame: { url: string; parent: unknown } | null
}

export function describeSender(event: IpcEventLike): SenderInfo {
  let frame: IpcEventLike['senderFrame']
  try {
    // The getter throws or returns null once the frame navigated away or was destroyed.
    frame = event.senderFrame
  } catch {
    frame = null
  }
  return {
    contentsId: event.sender.id,
    frameUrl: frame?.url,
    isMainFrame: frame != null && frame.parent == null,
  }
}

/** `windowContentsId`: our window's webContents id, or undefined while there is no window. */
export function isTrustedSender(sender: SenderInfo, windowContentsId: number | undefined): boolean {
  return (
    windowContentsId !== undefined &&
    sender.contentsId === windowContentsId &&
    sender.isMainFrame &&
    isAppUrl(sender.frameUrl)
  )
}
