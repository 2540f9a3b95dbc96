/**
 * The UI's one way to its node, whichever process hosts it: the Electron
 * preload (`window.kaiwa`, over IPC) or the headless node's token-protected
 * WebSocket. Both implement this interface from the same contract, so screens
 * never know which one they run on.
 */
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput, FileTransferJson } from './contract.js'
import type { ScreenSource } from './screen-share.js'

/** A raw-SIP pipe to the node (one SIP message per call); see sip-bridge-protocol.ts. */
export interface SipPipe {
  /** Open (or reopen); rejects if it cannot. */
  open(): Promise<void>
  /** Send one raw SIP message. Throws when the pipe is not open. */
  send(raw: string): void
  /** Every SIP message the node sends; returns an unsubscribe function. */
  onMessage(cb: (raw: string) => void): () => void
  /** The pipe was lost after opening (not after `close()`). */
  onClose(cb: (error: Error) => void): () => void
  close(): void
  readonly isOpen: boolean
}

/**
 * Where a bridge stands with its node:
 * - `connecting`: not (or no longer) reachable; calls made now wait for it.
 * - `open`: reachable; calls go through.
 * - `closed`: closed for good (the page closed the bridge, or the desktop app's
 *   node stopped for good); calls fail with `disconnected`.
 * - `unauthorized`: the node refused the access token (web only); calls fail
 *   with `unauthorized` and the bridge stops trying.
 */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized'

/** A `kaiwa:` link the desktop app was opened with (see src/renderer/contacts/kaiwa-link.ts). */
export interface OpenedLink {
  name: string
  /** The key fingerprint the link carries; absent: trust on first use. */
  fingerprint?: string
  /** The whole link when it is an invite (the node verifies it in `joinInvite`). */
  invite?: string
}

/**
 * Events the Electron shell sends on the preload's event channel besides the
 * contract's `apiEvents`; the preload bridge turns them into `onLink` and
 * `onConnection`. The web bridge learns both from its own socket.
 */
export const HOST_EVENT = {
  /** A `kaiwa:` link opened the app: data is `OpenedLink`. */
  link: 'link',
  /** The node's process came up or went away: data is a `ConnectionState`. */
  connection: 'connection',
} as const

/**
 * File bytes between the page and its node (issue 15 §1), which the JSON
 * contract does not carry: the web bridge streams them over the node's
 * token-protected HTTP routes (src/main/api/file-routes.ts); the desktop app
 * hands the node the picked file's path instead (PreloadApi.desktop.filePath).
 */
export interface FileBytes {
  /** Hand a file the user picked, dropped or pasted to the node, offered to `to`. */
  send(to: string, file: Blob, name: string): Promise<FileTransferJson>
  /** A received (whole hash verified) or sent file's bytes. */
  content(id: string): Promise<Blob>
  /**
   * The host's own Save for a received file (the desktop app: a save-as
   * dialog in the main process, which copies the verified file). Resolves
   * true once saved, false when the user cancelled. Absent: the page saves
   * `content(id)` as a download.
   */
  save?(id: string): Promise<boolean>
}

export interface KaiwaBridge {
  /** Which host this is: Electron's preload or a browser talking to `kaiwa node --ui`. */
  readonly kind: 'electron' | 'web'
  /**
   * The link to the node now. Starts `connecting` on the web (until its socket
   * opens) and `open` in Electron (the main process is always there; it tells
   * the bridge when its node goes away).
   */
  readonly connection: ConnectionState
  /**
   * One contract call. Resolves with the output, validated against the
   * contract; rejects with an `ApiError` (src/renderer/bridge/api-error.ts)
   * whose `code` is the contract's (`not_found`, `invalid_input`, ...) or the
   * bridge's own (`timeout`, `disconnected`, `invalid_reply`, `unauthorized`).
   */
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>
  /**
   * Node events that match the contract (others are dropped); returns an
   * unsubscribe function. Events sent while the node was unreachable are lost:
   * reload what they would have changed when `onConnection` says `open` again.
   */
  onEvent(listener: (event: ApiEvent) => void): () => void
  /** Every change of `connection` (not the current value); returns an unsubscribe function. */
  onConnection(listener: (state: ConnectionState) => void): () => void
  /**
   * `kaiwa:` links the app was opened with. Links that arrive before anyone
   * listens (the one that launched the app) are held, a few, and replayed to
   * the first listener. Never fires on the web: browsers hand `kaiwa:` links
   * to the desktop app. Returns an unsubscribe function.
   */
  onLink(listener: (link: OpenedLink) => void): () => void
  /** A new SIP pipe for the UI's user agent. */
  sip(): SipPipe
  /** File bytes to and from the node; absent where the host cannot carry them yet. */
  readonly files?: FileBytes
}

/**
 * What the Electron preload exposes as `window.kaiwa` through contextBridge:
 * plain functions with serialisable arguments (contextBridge cannot pass class
 * instances). The renderer wraps it into a KaiwaBridge. Every argument is
 * validated again in the main process against the contract.
 */
export interface PreloadApi {
  call(method: string, input: unknown): Promise<unknown>
  /** Node events (`apiEvents`) and the shell's own (`HOST_EVENT`), by name. */
  onEvent(listener: (event: string, data: unknown) => void): () => void
  sipOpen(): Promise<number>
  sipSend(pipe: number, raw: string): void
  onSip(pipe: number, listener: (raw: string) => void): () => void
  onSipClose(pipe: number, listener: (reason: string) => void): () => void
  sipClose(pipe: number): void
  /** Electron-only desktop integration. */
  desktop: {
    /** Ask the main process for microphone permission for the call about to start. */
    callStarting(): Promise<void>
    callEnded(): void
    /** Ask for the camera in the call under way (a video call, or Camera turned on). */
    cameraStarting(): Promise<void>
    /** The camera is off again: the permission goes with it. */
    cameraStopped(): void
    /** Screens and windows to share, during a call only (screen-share.ts). */
    screenSources(): Promise<ScreenSource[]>
    /** The source the page's next getDisplayMedia() gets: one from `screenSources`, once. */
    chooseScreen(id: string): Promise<void>
    notify(title: string, body: string): void
    /**
     * Where a file the user picked or dropped is on disk (webUtils), so the
     * node reads it there; '' for one that exists only in memory (pasted).
     */
    filePath(file: File): string
    /**
     * Save received file `id` (whole SHA-256 verified) where the user picks in
     * a save-as dialog: the saved path, or null when cancelled.
     */
    saveFile(id: string): Promise<string | null>
    /** The bytes of image `id` (verified, at most PREVIEW_MAX_BYTES) for its preview. */
    filePreview(id: string): Promise<Uint8Array>
    setAutostart(enabled: boolean): Promise<boolean>
    getAutostart(): Promise<boolean>
    versions: Record<string, string>
  }
}

/** IPC channel names, shared by main and preload (an allowlist; nothing else is handled). */
export const IPC = {
  call: 'kaiwa:call',
  event: 'kaiwa:event',
  sipOpen: 'kaiwa:sip-open',
  sipSend: 'kaiwa:sip-send',
  sipMessage: 'kaiwa:sip-message',
  sipClosed: 'kaiwa:sip-closed',
  sipClose: 'kaiwa:sip-close',
  callStarting: 'kaiwa:call-starting',
  callEnded: 'kaiwa:call-ended',
  cameraStarting: 'kaiwa:camera-starting',
  cameraStopped: 'kaiwa:camera-stopped',
  screenSources: 'kaiwa:screen-sources',
  screenChoose: 'kaiwa:screen-choose',
  notify: 'kaiwa:notify',
  autostartGet: 'kaiwa:autostart-get',
  autostartSet: 'kaiwa:autostart-set',
  fileSave: 'kaiwa:file-save',
  filePreview: 'kaiwa:file-preview',
} as const
export type IpcChannel = (typeof IPC)[keyof typeof IPC]
